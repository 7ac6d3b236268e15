package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/validate"
)

// Info is what intake learned about an accepted document.
type Info struct {
	Pages   int
	Version string // "1.7", "2.0": the catalog's /Version if present, else the header's
	// Encrypted is always false for an accepted document (encrypted ones are refused); it is
	// here so that callers logging Info see the decision.
	Encrypted    bool
	HasBookmarks bool // the catalog has an outline with at least one entry
	HasForm      bool // the catalog has an AcroForm with at least one field, or an XFA form
	// PreviouslySigned: a signature field has a value, or some dictionary carries a
	// /ByteRange and /Contents (a signature or document timestamp, linked from a form or not).
	// Signing such a document must be incremental or it breaks the earlier signatures.
	PreviouslySigned bool
	Size             int // bytes
	// Defect is the first structural defect found in a readable document (one of the Defect
	// constants: bytes before the header, a cross-reference table that misses its objects, stream
	// lengths that miss their data), "" when there is none. Such a document is accepted: pdfcpu and
	// viewers read it by guessing, and an unsigned one is repaired at intake (Rewrite) so that the
	// signatures appended to it later append to a sound file.
	Defect string
}

// The reasons Inspect gives. Each reads as the end of "Document <title> …".
const (
	reasonNotPDF    = "does not appear to be a PDF"
	reasonEncrypted = "is encrypted"
	reasonDamaged   = "is damaged and cannot be read"
	reasonNoPages   = "has no pages"
	// reasonTooExpanded takes the limit in MiB, the multiple and the floor in MiB.
	reasonTooExpanded = "expands to more than %d MB when its compressed parts are unpacked: at most %d times its size (or %d MB for a small document) is accepted"
	reasonTooComplex  = "is built in a way that cannot be checked safely (objects nested inside one another)"
)

// Problem is why a document was refused, worded for the person who uploaded it: Reason never
// contains parser internals. Fixable reports whether the uploader can fix it with the same
// document (remove the password, export the PDF again), as opposed to uploading a different one.
type Problem struct {
	Reason  string
	Fixable bool
	cause   error // parser detail for logs; reachable through errors.Unwrap, never shown
}

func (p *Problem) Error() string { return p.Reason }

// Unwrap returns the parser's error, if any, for logging.
func (p *Problem) Unwrap() error { return p.cause }

// headerWindow is how far into the file "%PDF-" may start, and how far from its end "%%EOF" may
// be. ISO 32000 wants them at the very start and end, but Acrobat accepts them anywhere in the
// first and last 1024 bytes (after a BOM, blank lines, a mail or MacBinary header; before
// trailing garbage), and uploaded documents do come like that.
const headerWindow = 1024

// Inspect checks that data is a readable, unencrypted PDF and reports what a signing service needs
// to know. A refused document yields a *Problem; a cancelled ctx yields ctx.Err(). Inspect never
// writes data anywhere: pdfcpu reads it from memory and is configured without its config directory.
func Inspect(ctx context.Context, data []byte) (Info, error) {
	return Inspector{}.Inspect(ctx, data)
}

// Inspector runs Inspect within an admission budget (see Admission); the zero value admits
// everything.
type Inspector struct {
	Admission *Admission
}

// Inspect is the package's Inspect, waiting for room in the budget after the decode pre-pass (which
// holds almost nothing) and before pdfcpu reads the document.
func (i Inspector) Inspect(ctx context.Context, data []byte) (Info, error) {
	info := Info{Size: len(data)}
	if err := ctx.Err(); err != nil {
		return info, err
	}
	if !bytes.Contains(data[:min(len(data), headerWindow)], []byte("%PDF-")) {
		return info, &Problem{Reason: reasonNotPDF}
	}
	if err := complete(data); err != nil {
		// A cut-off upload. pdfcpu would rebuild the xref by scanning for objects and accept
		// whatever survived, possibly an older revision than the one the uploader saw; and an
		// incremental signature cannot be appended to a file without a trailer.
		return info, &Problem{Reason: reasonDamaged, Fixable: true, cause: err}
	}

	ctx, release, err := i.Admission.Admit(ctx, data)
	if err != nil {
		return info, err
	}
	defer release()

	pc, err := Read(ctx, data)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return info, ctxErr
		}
		if errors.Is(err, pdfcpu.ErrEncrypted) || errors.Is(err, pdfcpu.ErrWrongPassword) {
			info.Encrypted = true
			return info, &Problem{Reason: reasonEncrypted, Fixable: true, cause: err}
		}
		return info, damaged(err)
	}
	if pc.Encrypt != nil || hasDirectEncrypt(data) {
		// pdfcpu only follows an indirect /Encrypt; a direct dictionary it ignores and then
		// "reads" ciphertext as content. Either way we must not sign it.
		info.Encrypted = true
		return info, &Problem{Reason: reasonEncrypted, Fixable: true}
	}

	if err := ctx.Err(); err != nil {
		return info, err
	}
	// Full validation, which the signer runs too (pdfcpu needs it before an incremental update):
	// what passes here passes there, so a document is not accepted now and refused at signing.
	// It costs less than reading (see BenchmarkInspect), so there is no cheaper path worth taking.
	if _, err := guard(func() (struct{}, error) { return struct{}{}, validate.XRefTable(pc) }); err != nil {
		return info, damaged(err)
	}

	if err := ctx.Err(); err != nil {
		return info, err
	}
	if info, err = describe(pc, info); err != nil {
		return info, damaged(err)
	}
	info.Defect = structuralDefect(ctx, data)
	return info, ctx.Err()
}

// complete checks that data ends like a whole PDF: a %%EOF in the last headerWindow bytes, and
// after the last one no start of a further revision (objects or an xref section), which is what
// an upload cut inside an incremental update looks like.
func complete(data []byte) error {
	tail := data[max(0, len(data)-headerWindow):]
	i := bytes.LastIndex(tail, []byte("%%EOF"))
	if i < 0 {
		return errors.New("no %%EOF in the last 1024 bytes")
	}
	rest := tail[i:]
	if bytes.Contains(rest, []byte("obj")) || bytes.Contains(rest, []byte("xref")) {
		return errors.New("an incomplete revision follows the last %%EOF")
	}
	return nil
}

// describe fills in info from a read (and validated) document.
func describe(pc *model.Context, info Info) (Info, error) {
	return guard(func() (Info, error) {
		info.Version = pc.VersionString()
		root, err := pc.Catalog()
		if err != nil || root == nil {
			return info, damaged(fmt.Errorf("catalog: %w", err))
		}
		n, err := countPages(pc.XRefTable, root)
		if err != nil {
			return info, damaged(err)
		}
		if n == 0 {
			return info, &Problem{Reason: reasonNoPages}
		}
		info.Pages = n
		info.HasBookmarks = hasOutline(pc.XRefTable, root)
		var signedField bool
		info.HasForm, signedField = formFields(pc.XRefTable, root)
		info.PreviouslySigned = signedField || hasSignatureDict(pc.XRefTable)
		return info, nil
	})
}

func damaged(cause error) error {
	var p *Problem
	if errors.As(cause, &p) {
		return p
	}
	return &Problem{Reason: reasonDamaged, Fixable: true, cause: cause}
}

// guard runs a pdfcpu call and turns a panic into an error: pdfcpu panics on some malformed
// input, and an upload must never take the process down.
func guard[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pdfcpu panicked: %v", r)
		}
	}()
	return fn()
}

// Read parses data with pdfcpu after the decode pre-pass: a document whose streams expand past
// DecodeLimit is refused with a *Problem before pdfcpu inflates anything (unless ctx comes from
// Admission.Admit for these bytes, which measured them already). Every pdfcpu read of a document in
// this project goes through here.
func Read(ctx context.Context, data []byte) (*model.Context, error) {
	if !measured(ctx, data) {
		if _, err := Measure(ctx, data); err != nil {
			return nil, err
		}
	}
	return guard(func() (*model.Context, error) {
		return pdfcpu.ReadWithContext(ctx, bytes.NewReader(data), readConfig(len(data)))
	})
}

// readConfig is ReadConfig with pdfcpu's own per-stream decode cap lowered to the document's whole
// budget: the pre-pass already holds the total there, this keeps one stream from passing it should
// pdfcpu ever decode a stream the pre-pass did not count.
func readConfig(size int) *model.Configuration {
	c := ReadConfig()
	c.Limits.MaxDecodeBytes = min(c.Limits.MaxDecodeBytes, DecodeLimit(size))
	return c
}

// ReadConfig returns pdfcpu settings for reading untrusted uploads. It is built here instead of by
// model.NewDefaultConfiguration, which creates ~/.config/pdfcpu (config file, fonts, certificates)
// unless the process-wide api.DisableConfigDir was called first; the fields mirror the library's
// built-in defaults for reading.
func ReadConfig() *model.Configuration {
	return &model.Configuration{
		Reader15:       true, // accept xref streams and object streams (PDF 1.5+)
		ValidationMode: model.ValidationRelaxed,
		Eol:            types.EolLF,
		Offline:        true,
		Limits:         model.DefaultResourceLimits(),
		// With this command pdfcpu refuses an encrypted file as soon as it sees /Encrypt, instead
		// of trying the empty password and decrypting it: we refuse those anyway.
		Cmd: model.ADDSIGNATURE,
	}
}

// maxDepth bounds every walk of the object graph; pdfcpu's own limit is 100.
const maxDepth = 100

// countPages counts the leaves of the page tree, not trusting /Count.
func countPages(x *model.XRefTable, root types.Dict) (int, error) {
	seen := map[int]bool{}
	var walk func(o types.Object, depth int) (int, error)
	walk = func(o types.Object, depth int) (int, error) {
		if depth > maxDepth {
			return 0, errors.New("page tree too deep")
		}
		if ir, ok := o.(types.IndirectRef); ok {
			if seen[ir.ObjectNumber.Value()] {
				return 0, fmt.Errorf("page tree cycle at obj#%d", ir.ObjectNumber.Value())
			}
			seen[ir.ObjectNumber.Value()] = true
		}
		d, err := x.DereferenceDict(o)
		if err != nil {
			return 0, fmt.Errorf("page tree node: %w", err)
		}
		if d == nil {
			return 0, nil
		}
		kidsObj, hasKids := d.Find("Kids")
		if t := d.Type(); (t != nil && *t == "Page") || !hasKids {
			return 1, nil
		}
		kids, err := x.DereferenceArray(kidsObj)
		if err != nil {
			return 0, fmt.Errorf("page tree kids: %w", err)
		}
		total := 0
		for _, k := range kids {
			n, err := walk(k, depth+1)
			if err != nil {
				return 0, err
			}
			total += n
		}
		return total, nil
	}
	pages, ok := root.Find("Pages")
	if !ok {
		return 0, nil
	}
	return walk(pages, 0)
}

func hasOutline(x *model.XRefTable, root types.Dict) bool {
	o, ok := root.Find("Outlines")
	if !ok {
		return false
	}
	d, err := x.DereferenceDict(o)
	if err != nil || d == nil {
		return false
	}
	first, ok := d.Find("First")
	if !ok {
		return false
	}
	item, err := x.DereferenceDict(first)
	return err == nil && item != nil
}

// formFields reports whether the document has a form, and whether a signature field in it has a
// value. Field types and values are inherited from parent fields.
func formFields(x *model.XRefTable, root types.Dict) (hasForm, signed bool) {
	o, ok := root.Find("AcroForm")
	if !ok {
		return false, false
	}
	form, err := x.DereferenceDict(o)
	if err != nil || form == nil {
		return false, false
	}
	if xfa, ok := form.Find("XFA"); ok && xfa != nil {
		hasForm = true
	}
	fieldsObj, ok := form.Find("Fields")
	if !ok {
		return hasForm, false
	}
	fields, err := x.DereferenceArray(fieldsObj)
	if err != nil {
		return hasForm, false
	}
	hasForm = hasForm || len(fields) > 0

	seen := map[int]bool{}
	var walk func(o types.Object, ft string, hasV bool, depth int)
	walk = func(o types.Object, ft string, hasV bool, depth int) {
		if signed || depth > maxDepth {
			return
		}
		if ir, ok := o.(types.IndirectRef); ok {
			if seen[ir.ObjectNumber.Value()] {
				return
			}
			seen[ir.ObjectNumber.Value()] = true
		}
		d, err := x.DereferenceDict(o)
		if err != nil || d == nil {
			return
		}
		if n := d.NameEntry("FT"); n != nil {
			ft = *n
		}
		if v, ok := d.Find("V"); ok {
			deref, err := x.Dereference(v)
			hasV = err == nil && deref != nil
		}
		kidsObj, ok := d.Find("Kids")
		if !ok {
			signed = ft == "Sig" && hasV
			return
		}
		kids, err := x.DereferenceArray(kidsObj)
		if err != nil {
			return
		}
		if len(kids) == 0 {
			signed = ft == "Sig" && hasV
		}
		for _, k := range kids {
			walk(k, ft, hasV, depth+1)
		}
	}
	for _, f := range fields {
		walk(f, "", false, 0)
	}
	return hasForm, signed
}

// hasSignatureDict reports whether any object is a signature dictionary (/ByteRange and
// /Contents), which catches signatures and document timestamps that no form field points to.
func hasSignatureDict(x *model.XRefTable) bool {
	for nr, e := range x.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		o := e.Object
		if _, lazy := o.(types.LazyObjectStreamObject); lazy {
			gen := 0
			if e.Generation != nil {
				gen = *e.Generation
			}
			var err error
			if o, err = x.Dereference(*types.NewIndirectRef(nr, gen)); err != nil {
				continue
			}
		}
		d, ok := o.(types.Dict)
		if !ok {
			continue
		}
		if _, ok := d.Find("ByteRange"); !ok {
			continue
		}
		if _, ok := d.Find("Contents"); ok {
			return true
		}
	}
	return false
}

// hasDirectEncrypt reports whether the last trailer (classic, or the dictionary of an xref stream)
// holds /Encrypt as a direct dictionary. pdfcpu follows only an indirect /Encrypt. Only the trailer
// that startxref points to is looked at: an update of an encrypted file must repeat /Encrypt there,
// and searching the whole file would hit documents that merely show PDF syntax as text.
func hasDirectEncrypt(data []byte) bool {
	tail := data[max(0, len(data)-headerWindow):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return false
	}
	var off int
	if _, err := fmt.Sscan(string(bytes.TrimLeft(tail[i+len("startxref"):], "\x00\t\n\f\r ")), &off); err != nil ||
		off < 0 || off >= len(data) {
		return false
	}
	section := data[off:]
	end := []byte("stream") // an xref stream: its dictionary ends where the data starts
	if bytes.HasPrefix(section, []byte("xref")) {
		end = []byte("startxref") // a table, then "trailer << … >>"
	}
	if j := bytes.Index(section, end); j >= 0 {
		section = section[:j]
	}
	key := []byte("/Encrypt")
	for {
		j := bytes.Index(section, key)
		if j < 0 {
			return false
		}
		section = section[j+len(key):]
		if bytes.HasPrefix(bytes.TrimLeft(section, "\x00\t\n\f\r "), []byte("<<")) {
			return true
		}
	}
}
