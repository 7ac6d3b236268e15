// Package pdftest builds PDFs for the project's tests: valid documents of a chosen page count and
// size, documents with bookmarks, form fields or a signature, and deliberately broken ones.
//
// Every builder except Encrypted is deterministic: the same arguments give the same bytes, so tests
// can compare hashes and fuzz seeds stay stable. The documents are written by hand (classic xref
// table, uncompressed page content) so that each byte offset is known and tests can cut or corrupt
// them at meaningful places.
package pdftest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Spec describes the document Build writes.
type Spec struct {
	// Pages is the number of pages, each carrying the text "Test document" and "Page i of n".
	// Zero is allowed to build the (invalid) page-less document intake must reject.
	Pages int
	// MinSize pads the document with an incompressible image on page 1 until it has at least
	// this many bytes.
	MinSize int
	// Bookmarks adds an outline with one entry per page.
	Bookmarks bool
	// TextField adds an AcroForm with one text field on page 1.
	TextField bool
	// Signed adds a signature field on page 1 whose value is a signature dictionary with a
	// correct /ByteRange. The /Contents is zeros, not a CMS: it looks signed to a parser but
	// verifies nowhere. Use it to test how code treats documents that were signed before.
	Signed bool
	// Title goes into the document information dictionary; "pdftest" when empty.
	Title string
}

// Make returns a valid PDF with the given number of pages (at least 1) and at least minSize bytes.
func Make(t testing.TB, pages int, minSize int) []byte {
	t.Helper()
	if pages < 1 {
		t.Fatalf("pdftest.Make: pages = %d, want at least 1 (use Build with Spec{Pages: 0} for a page-less document)", pages)
	}
	return Build(t, Spec{Pages: pages, MinSize: minSize})
}

// Build returns the PDF described by s.
func Build(t testing.TB, s Spec) []byte {
	t.Helper()
	if s.Pages < 0 || s.MinSize < 0 {
		t.Fatalf("pdftest.Build: negative Pages or MinSize in %+v", s)
	}
	out := build(s, 0)
	if len(out) < s.MinSize {
		// The padding image adds its own dictionary and xref entry; asking for the exact shortfall
		// is enough because the image rounds its data up to whole rows.
		out = build(s, s.MinSize-len(out))
	}
	if len(out) < s.MinSize {
		t.Fatalf("pdftest.Build: built %d bytes, want at least %d", len(out), s.MinSize)
	}
	return out
}

// Encrypted returns a one-page PDF that pdfcpu encrypted with AES-256 (R 5), an empty user password (any
// reader opens it without asking) and the owner password "owner". Unlike the other builders its
// bytes differ on every call: the encryption salts are random.
func Encrypted(t testing.TB) []byte {
	t.Helper()
	// A hand-built configuration rather than model.NewAESConfiguration: that one starts from
	// model.NewDefaultConfiguration, which creates pdfcpu's config directory in $HOME.
	conf := &model.Configuration{
		Reader15:          true,
		ValidationMode:    model.ValidationRelaxed,
		Eol:               types.EolLF,
		WriteObjectStream: true,
		WriteXRefStream:   true,
		EncryptUsingAES:   true,
		EncryptKeyLength:  256,
		Permissions:       model.PermissionsPrint,
		OwnerPW:           "owner",
		Offline:           true,
		Limits:            model.DefaultResourceLimits(),
	}
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(Make(t, 1, 0)), &out, conf); err != nil {
		t.Fatalf("pdftest.Encrypted: %v", err)
	}
	return out.Bytes()
}

// Truncated returns a three-page PDF cut off in the middle of its page objects: no xref table, no
// trailer, no %%EOF, as left by an interrupted upload.
func Truncated(t testing.TB) []byte {
	t.Helper()
	full := Make(t, 3, 0)
	return full[:len(full)/2]
}

// BrokenXRef returns a three-page PDF whose xref table points 5 bytes past every object, as left by
// a tool that edited the file without rewriting the table. Readers that rebuild the table by
// scanning for "n 0 obj" (pdfcpu, qpdf, poppler) still open it.
func BrokenXRef(t testing.TB) []byte {
	t.Helper()
	return build(Spec{Pages: 3}, 0, withXRefShift(5))
}

// QPDFCheck fails t unless `qpdf --check` accepts data without errors or warnings.
func QPDFCheck(t testing.TB, data []byte) {
	t.Helper()
	out, err := QPDF(t, data, "--check")
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if strings.Contains(out, "WARNING") {
		t.Fatalf("qpdf --check reported warnings:\n%s", out)
	}
}

// QPDF runs qpdf with args followed by the path of a temporary copy of data and returns its
// combined output. Only for synthetic test documents: the copy is written to t.TempDir().
func QPDF(t testing.TB, data []byte, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("qpdf")
	if err != nil {
		t.Fatal("qpdf not found in PATH: install it with `apt-get install qpdf` (Debian package qpdf)")
	}
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(args, path)...).CombinedOutput()
	return string(out), err
}

type buildOption func(*writer)

// withXRefShift makes every in-use xref entry point delta bytes past its object.
func withXRefShift(delta int) buildOption {
	return func(w *writer) { w.xrefShift = delta }
}

// build writes the document; pad > 0 adds an image with at least pad bytes of data.
func build(s Spec, pad int, opts ...buildOption) []byte {
	w := &writer{}
	for _, o := range opts {
		o(w)
	}

	// Object numbers are assigned up front so that objects can refer forward.
	const (
		catalogNr = 1
		pagesNr   = 2
		fontNr    = 3
		infoNr    = 4
	)
	next := 5
	alloc := func() int { next++; return next - 1 }
	pageNr := make([]int, s.Pages)
	contentNr := make([]int, s.Pages)
	for i := range s.Pages {
		pageNr[i], contentNr[i] = alloc(), alloc()
	}
	var outlinesNr int
	var itemNr []int
	if s.Bookmarks && s.Pages > 0 {
		outlinesNr = alloc()
		itemNr = make([]int, s.Pages)
		for i := range itemNr {
			itemNr[i] = alloc()
		}
	}
	var acroNr, textNr, sigFieldNr, sigNr, imageNr int
	if (s.TextField || s.Signed) && s.Pages > 0 {
		acroNr = alloc()
		if s.TextField {
			textNr = alloc()
		}
		if s.Signed {
			sigFieldNr, sigNr = alloc(), alloc()
		}
	}
	if pad > 0 && s.Pages > 0 {
		imageNr = alloc()
	}
	w.objs = make([]int, next)

	w.raw("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

	catalog := fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R", pagesNr)
	if outlinesNr != 0 {
		catalog += fmt.Sprintf(" /Outlines %d 0 R /PageMode /UseOutlines", outlinesNr)
	}
	if acroNr != 0 {
		catalog += fmt.Sprintf(" /AcroForm %d 0 R", acroNr)
	}
	w.object(catalogNr, catalog+" >>")

	kids := make([]string, s.Pages)
	for i, nr := range pageNr {
		kids[i] = fmt.Sprintf("%d 0 R", nr)
	}
	w.object(pagesNr, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), s.Pages))
	w.object(fontNr, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	title := s.Title
	if title == "" {
		title = "pdftest"
	}
	w.object(infoNr, fmt.Sprintf("<< /Title %s /Producer (esign pdftest) >>", pdfString(title)))

	for i := range s.Pages {
		var annots []string
		xobjects := ""
		if i == 0 {
			if textNr != 0 {
				annots = append(annots, fmt.Sprintf("%d 0 R", textNr))
			}
			if sigFieldNr != 0 {
				annots = append(annots, fmt.Sprintf("%d 0 R", sigFieldNr))
			}
			if imageNr != 0 {
				// Referenced but never painted: it makes the file big without making
				// every test that renders page 1 decode megapixels.
				xobjects = fmt.Sprintf(" /XObject << /Pad %d 0 R >>", imageNr)
			}
		}
		page := fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >>%s >> /Contents %d 0 R",
			pagesNr, fontNr, xobjects, contentNr[i])
		if len(annots) > 0 {
			page += fmt.Sprintf(" /Annots [%s]", strings.Join(annots, " "))
		}
		w.object(pageNr[i], page+" >>")
		content := fmt.Sprintf("BT /F1 24 Tf 72 760 Td (Test document) Tj ET\nBT /F1 12 Tf 72 730 Td (Page %d of %d) Tj ET\n", i+1, s.Pages)
		w.stream(contentNr[i], "", []byte(content))
	}

	if outlinesNr != 0 {
		w.object(outlinesNr, fmt.Sprintf("<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>", itemNr[0], itemNr[len(itemNr)-1], len(itemNr)))
		for i, nr := range itemNr {
			item := fmt.Sprintf("<< /Title (Page %d) /Parent %d 0 R /Dest [%d 0 R /Fit]", i+1, outlinesNr, pageNr[i])
			if i > 0 {
				item += fmt.Sprintf(" /Prev %d 0 R", itemNr[i-1])
			}
			if i < len(itemNr)-1 {
				item += fmt.Sprintf(" /Next %d 0 R", itemNr[i+1])
			}
			w.object(nr, item+" >>")
		}
	}

	if acroNr != 0 {
		var fields []string
		for _, nr := range []int{textNr, sigFieldNr} {
			if nr != 0 {
				fields = append(fields, fmt.Sprintf("%d 0 R", nr))
			}
		}
		acro := fmt.Sprintf("<< /Fields [%s] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv %d 0 R >> >>", strings.Join(fields, " "), fontNr)
		if sigNr != 0 {
			acro += " /SigFlags 3"
		}
		w.object(acroNr, acro+" >>")
		if textNr != 0 {
			w.object(textNr, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Ada) /Rect [72 600 300 620] /F 4 /P %d 0 R /DA (/Helv 10 Tf 0 g) >>", pageNr[0]))
		}
		if sigNr != 0 {
			w.object(sigFieldNr, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /V %d 0 R /Rect [0 0 0 0] /F 132 /P %d 0 R >>", sigNr, pageNr[0]))
			w.signature(sigNr)
		}
	}

	if imageNr != 0 {
		const width = 1024 // DeviceGray, 8 bits: one byte per pixel, so one row is 1024 bytes
		height := (pad + width - 1) / width
		data := make([]byte, width*height)
		// Seeded noise: deterministic, and no filter can shrink it, so the size is what we asked.
		rng := rand.New(rand.NewChaCha8([32]byte{'p', 'd', 'f', 't', 'e', 's', 't'}))
		for i := 0; i < len(data); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(data); j++ {
				data[i+j] = byte(v >> (8 * j))
			}
		}
		w.stream(imageNr, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", width, height), data)
	}

	return w.finish(catalogNr, infoNr)
}

// writer appends objects and remembers their offsets for the xref table.
type writer struct {
	buf       bytes.Buffer
	objs      []int // objs[n] is the offset of object n
	xrefShift int
	// sig locates the signature placeholder to patch once the file length is known.
	sigByteRange, sigContentsStart, sigContentsEnd int
}

func (w *writer) raw(s string) { w.buf.WriteString(s) }

func (w *writer) object(nr int, body string) {
	w.objs[nr] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", nr, body)
}

func (w *writer) stream(nr int, dict string, data []byte) {
	w.objs[nr] = w.buf.Len()
	if dict != "" {
		dict += " "
	}
	fmt.Fprintf(&w.buf, "%d 0 obj\n<< %s/Length %d >>\nstream\n", nr, dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

// signature writes a signature dictionary whose /ByteRange is filled in by finish.
func (w *writer) signature(nr int) {
	w.objs[nr] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000Z) /ByteRange ", nr)
	w.sigByteRange = w.buf.Len()
	w.buf.WriteString("[0000000000 0000000000 0000000000 0000000000] /Contents ")
	w.sigContentsStart = w.buf.Len()
	w.buf.WriteString("<" + strings.Repeat("0", 2*1024) + ">")
	w.sigContentsEnd = w.buf.Len()
	w.buf.WriteString(" >>\nendobj\n")
}

func (w *writer) finish(rootNr, infoNr int) []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", len(w.objs))
	for _, off := range w.objs[1:] {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", off+w.xrefShift)
	}
	// A deterministic file identifier: the hash of everything written so far.
	id := sha256.Sum256(w.buf.Bytes())
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%x> <%x>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.objs), rootNr, infoNr, id[:16], id[:16], xref)
	out := w.buf.Bytes()
	if w.sigByteRange != 0 {
		br := fmt.Sprintf("[%010d %010d %010d %010d]", 0, w.sigContentsStart, w.sigContentsEnd, len(out)-w.sigContentsEnd)
		copy(out[w.sigByteRange:], br)
	}
	return out
}

// pdfString returns s as a PDF literal string.
func pdfString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, "\r", `\r`, "\n", `\n`)
	return "(" + r.Replace(s) + ")"
}
