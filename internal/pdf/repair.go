package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/validate"
)

// The structural defects Inspect reports in Info.Defect. Each reads as the end of "Document <title> …".
// pdfcpu, poppler, qpdf and Acrobat all read such files by guessing (scanning for objects, searching
// for "endstream"), each its own way; an incremental signature appended to one inherits the guesses,
// and a viewer that guesses differently shows another document than the one signed (the official
// SDK's sample.pdf rendered its first page blank in poppler after a seal).
const (
	DefectHeader = "has bytes before its %PDF header, so the offsets in it do not count from where readers expect"
	DefectXRef   = "has a cross-reference table that does not match where its objects are"
	DefectLength = "has streams whose declared length does not match their data"
)

// maxSections bounds the walk of a file's chain of cross-reference sections (one per revision).
const maxSections = 4096

// structuralDefect reports the first structural defect of data (one of the Defect constants), or ""
// when every cross-reference section that the trailers chain to lists each object at the offset where
// it starts, every object in the file is listed by some section, and every stream's /Length ends
// where its "endstream" is. It reads the file's own bytes, not pdfcpu's table: pdfcpu silently
// rebuilds a broken table by scanning, which is exactly what must be detected here.
func structuralDefect(ctx context.Context, data []byte) string {
	defect, err := guard(func() (string, error) { return auditStructure(ctx, data), nil })
	if err != nil {
		return DefectXRef // the audit panicked on this file: it is not one to trust as it is
	}
	return defect
}

type audit struct {
	data []byte
	p    *parser
	// objects are the in-use, uncompressed entries of every section: where each object starts.
	objects []entry
	// newest is the offset of each object's newest definition, to resolve indirect /Length values.
	newest map[int]int
	listed map[int]bool // every object number some section lists, in use, free or compressed
}

type entry struct{ nr, gen, off int }

func auditStructure(ctx context.Context, data []byte) string {
	if bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-")) > 0 {
		return DefectHeader
	}
	a := &audit{data: data, p: &parser{data: data, work: 4*int64(len(data)) + 1<<20},
		newest: map[int]int{}, listed: map[int]bool{}}
	start, ok := lastStartXRef(data)
	if !ok {
		return DefectXRef
	}
	seen := map[int]bool{}
	queue := []int{start}
	for len(queue) > 0 {
		if ctx.Err() != nil || len(seen) >= maxSections {
			return ""
		}
		off := queue[0]
		queue = queue[1:]
		if seen[off] {
			continue
		}
		seen[off] = true
		next, ok := a.section(off)
		if !ok {
			return DefectXRef
		}
		queue = append(queue, next...)
	}
	for _, e := range a.objects {
		nr, gen, _, ok := objectAt(data, e.off)
		if !ok || nr != e.nr || gen != e.gen {
			return DefectXRef
		}
	}
	// Objects the sections do not list are what a reader finds only by scanning (an update appended
	// without its table, say); numbers alone are compared, since earlier revisions of an object
	// legitimately stay in the file at offsets only older sections list.
	for at := range occurrences(data, "obj") {
		if i := at + len("obj"); i < len(data) && !isDelimOrSpace(data[i]) {
			continue
		}
		if nr, _, ok := objectHeader(data, at); ok && !a.listed[nr] {
			return DefectXRef
		}
	}
	for _, e := range a.objects {
		if ctx.Err() != nil {
			return ""
		}
		if !a.streamLengthOK(e.off) {
			return DefectLength
		}
	}
	return ""
}

// lastStartXRef is the offset the last "startxref" names.
func lastStartXRef(data []byte) (int, bool) {
	tail := data[max(0, len(data)-headerWindow):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, false
	}
	n, ok := leadingInt(tail[skipSpace(tail, i+len("startxref")):])
	return n, ok && n >= 0 && n < len(data)
}

// section reads the cross-reference section at off (a table or a stream) and returns the offsets
// of the sections its trailer points to; false when off holds no section.
func (a *audit) section(off int) ([]int, bool) {
	pos := skipSpace(a.data, off)
	if bytes.HasPrefix(a.data[pos:], []byte("xref")) {
		return a.table(pos + len("xref"))
	}
	nr, gen, after, ok := objectAt(a.data, off)
	if !ok {
		return nil, false
	}
	a.p.pos = skipSpace(a.data, after)
	d, err := a.p.value(0)
	if err != nil || d.kind != kindDict || !d.get("Type").isName("XRef") {
		return nil, false
	}
	a.note(nr, gen, off)
	return a.stream(d)
}

func (a *audit) note(nr, gen, off int) {
	a.listed[nr] = true
	a.objects = append(a.objects, entry{nr, gen, off})
	if _, ok := a.newest[nr]; !ok {
		a.newest[nr] = off // sections are walked newest first
	}
}

// table reads a classic table's subsections and its trailer, from just after "xref".
func (a *audit) table(pos int) ([]int, bool) {
	d := a.data
	for {
		pos = skipSpace(d, pos)
		if bytes.HasPrefix(d[pos:], []byte("trailer")) {
			break
		}
		first, p1, ok := token(d, pos)
		count, p2, ok2 := token(d, p1)
		if !ok || !ok2 || first < 0 || count < 0 || count > len(d)/18 {
			return nil, false
		}
		pos = p2
		for i := range count {
			off, q1, ok1 := token(d, pos)
			gen, q2, ok2 := token(d, q1)
			q3 := skipSpace(d, q2)
			if !ok1 || !ok2 || q3 >= len(d) || (d[q3] != 'n' && d[q3] != 'f') {
				return nil, false
			}
			pos = q3 + 1
			nr := first + i
			if d[q3] == 'f' {
				a.listed[nr] = true
				continue
			}
			if off <= 0 || off >= len(d) {
				return nil, false
			}
			a.note(nr, gen, off)
		}
	}
	a.p.pos = skipSpace(d, pos+len("trailer"))
	t, err := a.p.value(0)
	if err != nil || t.kind != kindDict {
		return nil, false
	}
	var next []int
	for _, k := range []string{"XRefStm", "Prev"} { // the stream of a hybrid file first: it is newer
		if v := t.get(k); v.kind == kindInt && v.num >= 0 && v.num < int64(len(d)) {
			next = append(next, int(v.num))
		}
	}
	return next, true
}

// stream reads an xref stream whose dictionary is d and whose data follows a.p.pos.
func (a *audit) stream(d *value) ([]int, bool) {
	data, ok := a.streamData(d)
	if !ok {
		return nil, false
	}
	var w [3]int
	wa := d.get("W")
	if wa.kind != kindArray || len(wa.arr) != 3 {
		return nil, false
	}
	for i, v := range wa.arr {
		if v.kind != kindInt || v.num < 0 || v.num > 8 {
			return nil, false
		}
		w[i] = int(v.num)
	}
	size := d.get("Size")
	if size.kind != kindInt || size.num < 0 {
		return nil, false
	}
	index := []int64{0, size.num}
	if ia := d.get("Index"); ia.kind == kindArray {
		index = index[:0]
		for _, v := range ia.arr {
			if v.kind != kindInt || v.num < 0 {
				return nil, false
			}
			index = append(index, v.num)
		}
	}
	rowLen := w[0] + w[1] + w[2]
	if len(index)%2 != 0 || rowLen == 0 {
		return nil, false
	}
	field := func(b []byte) int {
		n := 0
		for _, c := range b {
			n = n<<8 | int(c)
		}
		return n
	}
	for k := 0; k < len(index); k += 2 {
		for i := range index[k+1] {
			if len(data) < rowLen {
				return nil, false
			}
			row := data[:rowLen]
			data = data[rowLen:]
			typ := 1
			if w[0] > 0 {
				typ = field(row[:w[0]])
			}
			nr := int(index[k] + i)
			a.listed[nr] = true
			if typ == 1 {
				off := field(row[w[0] : w[0]+w[1]])
				if off <= 0 || off >= len(a.data) {
					return nil, false
				}
				a.note(nr, field(row[w[0]+w[1]:]), off)
			}
		}
	}
	var next []int
	if v := d.get("Prev"); v.kind == kindInt && v.num >= 0 && v.num < int64(len(a.data)) {
		next = append(next, int(v.num))
	}
	return next, true
}

// streamData decodes the xref stream whose dictionary is d (its data follows a.p.pos) with pdfcpu's
// own filters, capped at the document's decode budget.
func (a *audit) streamData(d *value) ([]byte, bool) {
	start, ok := streamStart(a.data, a.p.pos)
	l := d.get("Length")
	if !ok || l.kind != kindInt || l.num < 0 || l.num > int64(len(a.data)-start) {
		return nil, false
	}
	var r io.Reader = bytes.NewReader(a.data[start : start+int(l.num)])
	names := []*value{d.get("Filter")}
	if names[0].kind == kindArray {
		names = names[0].arr
	} else if names[0].kind == kindNone {
		names = nil
	}
	parms := d.get("DecodeParms")
	for i, n := range names {
		if n.kind != kindName {
			return nil, false
		}
		p := parms
		if p.kind == kindArray && i < len(p.arr) {
			p = p.arr[i]
		}
		ints := map[string]int{}
		if p.kind == kindDict {
			for k, v := range p.dict {
				if v.kind == kindInt {
					ints[k] = int(v.num)
				}
			}
		}
		f, err := filter.NewFilter(n.str, ints, DecodeLimit(len(a.data)))
		if err != nil {
			return nil, false
		}
		if r, err = f.Decode(r); err != nil {
			return nil, false
		}
	}
	out, err := io.ReadAll(io.LimitReader(r, DecodeLimit(len(a.data))))
	return out, err == nil
}

// streamLengthOK reports whether the object at off, if it is a stream, has a /Length that ends
// where its "endstream" keyword is. An indirect /Length is looked up at its newest definition.
func (a *audit) streamLengthOK(off int) bool {
	_, _, after, ok := objectAt(a.data, off)
	if !ok {
		return false
	}
	a.p.pos = skipSpace(a.data, after)
	if !bytes.HasPrefix(a.data[a.p.pos:], []byte("<<")) {
		return true
	}
	d, err := a.p.value(0)
	if err != nil || d.kind != kindDict {
		return true // not a dictionary this parser reads; pdfcpu read it, nothing to say here
	}
	start, ok := streamStart(a.data, a.p.pos)
	if !ok {
		return true
	}
	l := d.get("Length")
	if l.kind == kindRef {
		at, ok := a.newest[int(l.num)]
		if !ok {
			return false
		}
		_, _, after, ok := objectAt(a.data, at)
		if !ok {
			return false
		}
		n, ok := leadingInt(a.data[skipSpace(a.data, after):])
		l = &value{kind: kindInt, num: int64(n)}
		if !ok {
			return false
		}
	}
	if l.kind != kindInt || l.num < 0 || l.num > int64(len(a.data)-start) {
		return false
	}
	end := start + int(l.num)
	return bytes.HasPrefix(a.data[skipSpace(a.data, end):], []byte("endstream"))
}

// streamStart is where the data of a stream starts when its dictionary ends at pos: after
// "stream" and its end of line; false when no "stream" keyword follows.
func streamStart(data []byte, pos int) (int, bool) {
	pos = skipSpace(data, pos)
	if !bytes.HasPrefix(data[pos:], []byte("stream")) {
		return 0, false
	}
	pos += len("stream")
	if bytes.HasPrefix(data[pos:], []byte("\r\n")) {
		pos += 2
	} else if pos < len(data) && (data[pos] == '\n' || data[pos] == '\r') {
		pos++
	}
	return pos, true
}

// objectAt reads "N G obj" at off (white space before it allowed) and returns N, G and the offset
// after "obj".
func objectAt(data []byte, off int) (nr, gen, after int, ok bool) {
	if off < 0 || off >= len(data) {
		return 0, 0, 0, false
	}
	n, p1, ok1 := token(data, off)
	g, p2, ok2 := token(data, p1)
	p3 := skipSpace(data, p2)
	if !ok1 || !ok2 || !bytes.HasPrefix(data[p3:], []byte("obj")) {
		return 0, 0, 0, false
	}
	after = p3 + len("obj")
	if after < len(data) && !isDelimOrSpace(data[after]) {
		return 0, 0, 0, false
	}
	return n, g, after, true
}

// token reads a non-negative integer after white space at pos, and returns the offset after it.
func token(data []byte, pos int) (int, int, bool) {
	pos = skipSpace(data, pos)
	end := pos
	for end < len(data) && end-pos < 12 && data[end] >= '0' && data[end] <= '9' {
		end++
	}
	if end == pos || (end < len(data) && !isDelimOrSpace(data[end])) {
		return 0, pos, false
	}
	n, ok := leadingInt(data[pos:end])
	return n, end, ok
}

// RewriteOptions are the changes a rewrite makes besides writing the file anew.
type RewriteOptions struct {
	// RemoveSignatures removes every signature field (with its widgets and value), the DSS and
	// /Perms: the document comes out unsigned. Without it, Rewrite refuses a signed document, since
	// a full rewrite breaks every signature in it.
	RemoveSignatures bool
	// RemoveBookmarks removes the outline (and /PageMode /UseOutlines, which would open an empty pane).
	RemoveBookmarks bool
}

// ErrSigned is why Rewrite refuses a signed document it was not asked to remove the signatures of.
var ErrSigned = errors.New("pdf rewrite: the document is signed and a full rewrite would break its signatures")

// RewriteMultiple is what a rewrite holds beyond an ordinary operation on the same document, in
// multiples of that operation's estimate: pdfcpu's model of the input, the output being written, and
// the second read that checks the output (the input's model is garbage by then, but not collected
// yet). See BenchmarkRepair, which measures it.
const RewriteMultiple = 2

// RewriteEstimate is what a rewrite of a document of size bytes reserves, given what the pre-pass
// counted: two operations' worth (the read of the input and the check of the output) and the output.
func RewriteEstimate(size int, u Usage) int64 {
	return RewriteMultiple*Estimate(size, u) + int64(size)
}

// Rewrite writes data anew through pdfcpu (every object once, a new cross-reference table, the same
// pages and content), making the changes opts asks for, and returns the new bytes with what Inspect
// says of them. The result is checked before it is returned: it must have no structural defect, the
// same number of pages, and no signature or bookmarks if their removal was asked. Rewrite waits for
// RewriteEstimate in the admission budget. Problems with the document are *Problem, as for Inspect.
func (i Inspector) Rewrite(ctx context.Context, data []byte, opts RewriteOptions) ([]byte, Info, error) {
	u, err := Measure(ctx, data)
	if err != nil {
		return nil, Info{}, err
	}
	release, err := i.Admission.Reserve(ctx, RewriteEstimate(len(data), u))
	if err != nil {
		return nil, Info{}, err
	}
	defer release()
	if len(data) > 0 {
		ctx = context.WithValue(ctx, measuredKey{}, measuredDoc{&data[0], len(data)})
	}
	// Inspected first, within this reservation: the rewrite needs what Inspect checks (readable,
	// not encrypted, has pages), and its page count to compare the result with.
	before, err := Inspector{}.Inspect(ctx, data)
	if err != nil {
		return nil, Info{}, err
	}
	if before.PreviouslySigned && !opts.RemoveSignatures {
		return nil, Info{}, ErrSigned
	}
	out, err := rewrite(ctx, data, opts)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, Info{}, ctxErr
		}
		return nil, Info{}, damaged(err)
	}
	after, err := Inspector{}.Inspect(ctx, out)
	if err != nil {
		return nil, Info{}, fmt.Errorf("pdf rewrite: the rewritten document does not pass intake: %w", err)
	}
	switch {
	case after.Defect != "":
		return nil, Info{}, fmt.Errorf("pdf rewrite: the rewritten document still %s", after.Defect)
	case after.Pages != before.Pages:
		return nil, Info{}, fmt.Errorf("pdf rewrite: %d pages became %d", before.Pages, after.Pages)
	case after.PreviouslySigned:
		return nil, Info{}, errors.New("pdf rewrite: the rewritten document is still signed")
	case opts.RemoveBookmarks && after.HasBookmarks:
		return nil, Info{}, errors.New("pdf rewrite: the rewritten document still has bookmarks")
	}
	return out, after, nil
}

// rewrite is the pdfcpu part of Rewrite: read, validate, change, write.
func rewrite(ctx context.Context, data []byte, opts RewriteOptions) ([]byte, error) {
	pc, err := Read(ctx, data)
	if err != nil {
		return nil, err
	}
	return guard(func() ([]byte, error) {
		if err := validate.XRefTable(pc); err != nil {
			return nil, err
		}
		root, err := pc.Catalog()
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		fixStreamLengths(pc, data)
		if opts.RemoveSignatures {
			if err := removeSignatures(pc, root); err != nil {
				return nil, err
			}
		}
		if opts.RemoveBookmarks {
			root.Delete("Outlines")
			if m := root.NameEntry("PageMode"); m != nil && *m == "UseOutlines" {
				root.Delete("PageMode")
			}
		}
		dropUnwrittenRootEntries(root)
		var buf bytes.Buffer
		buf.Grow(len(data) + 64<<10)
		if err := api.WriteContext(pc, &buf); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
		highest := 0
		for nr := range pc.Write.Table {
			highest = max(highest, nr)
		}
		return trimSize(buf.Bytes(), highest+1), nil
	})
}

// trimSize sets the trailer's /Size of a file pdfcpu wrote with a classic table to size when it is
// larger. pdfcpu keeps the input's /Size although objects nothing refers to any more (removed
// signatures and bookmarks, dropped duplicates) are not written, and ISO 32000 wants /Size to be
// one more than the highest object number. The trailer follows the table, so no offset moves.
func trimSize(out []byte, size int) []byte {
	t := bytes.LastIndex(out, []byte("trailer"))
	if t < 0 {
		return out
	}
	k := bytes.Index(out[t:], []byte("/Size "))
	if k < 0 {
		return out
	}
	at := t + k + len("/Size ")
	old, p, ok := token(out, at)
	if !ok || old <= size || p-at > 12 {
		return out
	}
	return append(append(out[:at:at], []byte(fmt.Sprint(size))...), out[p:]...)
}

// fixStreamLengths gives every stream whose /Length does not end at its "endstream" the data up to
// that keyword instead. pdfcpu takes a wrong /Length as it is unless the table is broken too (then
// it scans), and writes the bytes it read: a /Length too long carries "endstream" and what follows
// into the content, where viewers stop drawing (the official SDK's sample.pdf), a /Length too short
// cuts it. The first "endstream" after the data is what poppler and qpdf recover too.
func fixStreamLengths(pc *model.Context, data []byte) {
	for _, e := range pc.Table {
		if e == nil || e.Free {
			continue
		}
		sd, ok := e.Object.(types.StreamDict)
		if !ok || sd.StreamOffset <= 0 || sd.StreamOffset > int64(len(data)) {
			continue
		}
		start := int(sd.StreamOffset)
		if end := start + len(sd.Raw); end <= len(data) && bytes.HasPrefix(data[skipSpace(data, end):], []byte("endstream")) {
			continue
		}
		k := bytes.Index(data[start:], []byte("endstream"))
		if k < 0 {
			continue
		}
		raw := data[start : start+k]
		// The end of line before "endstream" is not part of the data.
		if bytes.HasSuffix(raw, []byte("\r\n")) {
			raw = raw[:len(raw)-2]
		} else if bytes.HasSuffix(raw, []byte("\n")) || bytes.HasSuffix(raw, []byte("\r")) {
			raw = raw[:len(raw)-1]
		}
		n := int64(len(raw))
		sd.Raw = bytes.Clone(raw)
		sd.StreamLength = &n
		sd.Dict["Length"] = types.Integer(n)
		e.Object = sd
	}
}

// writtenRootEntries are the catalog entries pdfcpu's writer follows (write.go, writeRootObject).
// It writes the catalog itself as it is, so an entry it does not follow keeps pointing at an object
// that is never written: the new table would list that object at offset 0.
var writtenRootEntries = map[string]bool{
	"Type": true, "Version": true, "Pages": true, "Extensions": true, "PageLabels": true, "Names": true,
	"Dests": true, "ViewerPreferences": true, "PageLayout": true, "PageMode": true, "Outlines": true,
	"Threads": true, "OpenAction": true, "AA": true, "URI": true, "AcroForm": true, "Metadata": true,
	"StructTreeRoot": true, "MarkInfo": true, "Lang": true, "SpiderInfo": true, "OutputIntents": true,
	"PieceInfo": true, "OCProperties": true, "Perms": true, "Legal": true, "Requirements": true,
	"Collection": true, "NeedsRendering": true,
}

// dropUnwrittenRootEntries removes the catalog entries that pdfcpu would leave dangling (/AF,
// /DPartRoot, /DSS and private keys that refer to objects), keeping direct values, which are written
// with the catalog. Nothing the pages show depends on them; a dangling reference would make the
// table lie, which is what the rewrite is there to end.
func dropUnwrittenRootEntries(root types.Dict) {
	for k, v := range root {
		if !writtenRootEntries[k] && holdsReference(v, 0) {
			root.Delete(k)
		}
	}
}

func holdsReference(o types.Object, depth int) bool {
	if depth > maxDepth {
		return true
	}
	switch o := o.(type) {
	case types.IndirectRef:
		return true
	case types.Dict:
		for _, v := range o {
			if holdsReference(v, depth+1) {
				return true
			}
		}
	case types.Array:
		for _, v := range o {
			if holdsReference(v, depth+1) {
				return true
			}
		}
	}
	return false
}

// removeSignatures removes every signature field from the form (with its widgets from the pages'
// /Annots), the form's /SigFlags, and the catalog's /Perms and /DSS, which only mean something with
// the signatures. Signature dictionaries nothing points to any more are not written by pdfcpu.
func removeSignatures(pc *model.Context, root types.Dict) error {
	x := pc.XRefTable
	root.Delete("Perms")
	root.Delete("DSS")
	o, ok := root.Find("AcroForm")
	if !ok {
		return nil
	}
	form, err := x.DereferenceDict(o)
	if err != nil || form == nil {
		return err
	}
	form.Delete("SigFlags")
	removed := map[int]bool{}
	seen := map[int]bool{}
	// keep filters a list of fields, dropping terminal signature fields and collecting their object
	// numbers and their widgets'.
	var keep func(list types.Array, ft string, depth int) (types.Array, error)
	keep = func(list types.Array, ft string, depth int) (types.Array, error) {
		if depth > maxDepth {
			return nil, errors.New("form field tree too deep")
		}
		out := make(types.Array, 0, len(list))
		for _, f := range list {
			ir, isRef := f.(types.IndirectRef)
			if isRef {
				if seen[ir.ObjectNumber.Value()] {
					continue // a field listed twice (or a cycle) is kept once
				}
				seen[ir.ObjectNumber.Value()] = true
			}
			d, err := x.DereferenceDict(f)
			if err != nil || d == nil {
				out = append(out, f)
				continue
			}
			fieldFT := ft
			if n := d.NameEntry("FT"); n != nil {
				fieldFT = *n
			}
			kids, _ := x.DereferenceArray(d["Kids"])
			if isTerminal(x, kids) {
				if fieldFT != "Sig" {
					out = append(out, f)
					continue
				}
				if isRef {
					removed[ir.ObjectNumber.Value()] = true
				}
				for _, k := range kids {
					if kr, ok := k.(types.IndirectRef); ok {
						removed[kr.ObjectNumber.Value()] = true
					}
				}
				continue
			}
			rest, err := keep(kids, fieldFT, depth+1)
			if err != nil {
				return nil, err
			}
			if len(rest) == 0 {
				if isRef {
					removed[ir.ObjectNumber.Value()] = true
				}
				continue // a parent left without fields goes too
			}
			d["Kids"] = rest
			out = append(out, f)
		}
		return out, nil
	}
	fields, err := x.DereferenceArray(form["Fields"])
	if err != nil {
		return err
	}
	rest, err := keep(fields, "", 0)
	if err != nil {
		return err
	}
	form["Fields"] = rest
	if len(removed) == 0 {
		return nil
	}
	for p := 1; p <= pc.PageCount; p++ {
		page, _, _, err := pc.PageDict(p, false)
		if err != nil || page == nil {
			return fmt.Errorf("page %d: %w", p, err)
		}
		annots, err := x.DereferenceArray(page["Annots"])
		if err != nil || annots == nil {
			continue
		}
		kept := make(types.Array, 0, len(annots))
		for _, a := range annots {
			if ar, ok := a.(types.IndirectRef); ok && removed[ar.ObjectNumber.Value()] {
				continue
			}
			kept = append(kept, a)
		}
		if len(kept) == 0 {
			page.Delete("Annots")
		} else {
			page["Annots"] = kept
		}
	}
	return nil
}

// isTerminal reports whether a field with these kids is a terminal field: no kids, or kids that are
// only widgets (no /T of their own).
func isTerminal(x *model.XRefTable, kids types.Array) bool {
	for _, k := range kids {
		d, err := x.DereferenceDict(k)
		if err != nil || d == nil {
			continue
		}
		if _, ok := d.Find("T"); ok {
			return false
		}
	}
	return true
}
