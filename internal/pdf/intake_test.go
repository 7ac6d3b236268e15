package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

const (
	notPDF    = "does not appear to be a PDF"
	encrypted = "is encrypted"
	damaged   = "is damaged and cannot be read"
	noPages   = "has no pages"
	// tooComplex and the "expands to more than …" reasons come from the decode pre-pass.
	tooComplex = "is built in a way that cannot be checked safely (objects nested inside one another)"
)

// inspectCase is one input and what Inspect must say about it: reason "" means accepted with
// the given Info (Size is filled in from the input).
type inspectCase struct {
	name   string
	data   []byte
	reason string
	info   pdf.Info
}

// cases builds the inputs shared by the table test and the fuzz seeds. large adds the 1 MB one.
func cases(t testing.TB, large bool) []inspectCase {
	three := pdftest.Make(t, 3, 0)
	signed := pdftest.Build(t, pdftest.Spec{Pages: 2, Signed: true})
	updated := appendRevision(t, three, "<< /Title (Revised) /Producer (esign pdftest) >>", true)
	lastEOF := bytes.LastIndex(updated, []byte("%%EOF"))
	prevEOF := bytes.LastIndex(updated[:lastEOF], []byte("%%EOF"))

	cs := []inspectCase{
		{name: "one page", data: pdftest.Make(t, 1, 0), info: pdf.Info{Pages: 1, Version: "1.7"}},
		{name: "ten pages", data: pdftest.Make(t, 10, 0), info: pdf.Info{Pages: 10, Version: "1.7"}},
		{name: "bookmarks", data: pdftest.Build(t, pdftest.Spec{Pages: 4, Bookmarks: true}), info: pdf.Info{Pages: 4, Version: "1.7", HasBookmarks: true}},
		{name: "text field", data: pdftest.Build(t, pdftest.Spec{Pages: 1, TextField: true}), info: pdf.Info{Pages: 1, Version: "1.7", HasForm: true}},
		{name: "signed", data: signed, info: pdf.Info{Pages: 2, Version: "1.7", HasForm: true, PreviouslySigned: true}},
		// pdfcpu moves the signature dictionary into an object stream: found all the same.
		{name: "signed, rewritten with object streams", data: rewrite(t, signed), info: pdf.Info{Pages: 2, Version: "1.7", HasForm: true, PreviouslySigned: true}},
		{name: "signature without a field", data: orphanSignature(t), info: pdf.Info{Pages: 1, Version: "1.7", PreviouslySigned: true}},
		{name: "signature without a field, in an object stream", data: orphanSignatureInObjStm(t), info: pdf.Info{Pages: 1, Version: "1.7", PreviouslySigned: true}},
		{name: "BOM and blank lines before the header", data: concat("\xef\xbb\xbf\r\n\n  ", three), info: pdf.Info{Pages: 3, Version: "1.7", Defect: pdf.DefectHeader}},
		{name: "1000 bytes of junk before the header", data: concat(string(bytes.Repeat([]byte("x"), 1000)), three), info: pdf.Info{Pages: 3, Version: "1.7", Defect: pdf.DefectHeader}},
		{name: "blank lines after EOF", data: concat(string(three), "\r\n\n\x00\x00"), info: pdf.Info{Pages: 3, Version: "1.7"}},
		{name: "incremental update", data: updated, info: pdf.Info{Pages: 3, Version: "1.7"}},
		// The xref table points 5 bytes past every object: pdfcpu rebuilds it by scanning, as
		// poppler and qpdf do. Accepted, and reported as a defect, which intake repairs (Rewrite).
		{name: "broken xref", data: pdftest.BrokenXRef(t), info: pdf.Info{Pages: 3, Version: "1.7", Defect: pdf.DefectXRef}},

		{name: "nil", data: nil, reason: notPDF},
		{name: "zero bytes", data: []byte{}, reason: notPDF},
		{name: "PNG", data: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), reason: notPDF},
		{name: "text", data: []byte("Dear customer,\nplease sign the attached contract.\n"), reason: notPDF},
		{name: "HTML error page", data: []byte("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"), reason: notPDF},
		{name: "%PDF without a version", data: concat("%PDFjunkjunkjunk\n", "%%EOF\n"), reason: notPDF},
		{name: "header after 1024 bytes", data: concat(string(bytes.Repeat([]byte("x"), 1020)), three), reason: notPDF},

		{name: "%PDF- followed by junk", data: []byte("%PDF-1.7\n\x00\xff garbage \x01\x02 more garbage\n%%EOF\n"), reason: damaged},
		{name: "%PDF- and nothing else", data: []byte("%PDF-1.4\n"), reason: damaged},
		{name: "unknown version", data: concat("%PDF-9.9", string(three[8:])), reason: damaged},
		{name: "truncated after the header", data: three[:20], reason: damaged},
		{name: "truncated at 25%", data: three[:len(three)/4], reason: damaged},
		{name: "truncated at 50%", data: pdftest.Truncated(t), reason: damaged},
		{name: "truncated in the xref table", data: three[:len(three)*9/10], reason: damaged},
		{name: "truncated before %%EOF", data: three[:len(three)-len("%%EOF\n")], reason: damaged},
		{name: "truncated inside an incremental update", data: updated[:prevEOF+len("%%EOF\n")+30], reason: damaged},
		{name: "catalog missing", data: bytes.Replace(three, []byte("/Type /Catalog"), []byte("/Type /Katalog"), 1), reason: damaged},

		{name: "encrypted, empty user password", data: pdftest.Encrypted(t), reason: encrypted},
		{name: "encrypted, user password", data: encryptWith(t, three, "secret"), reason: encrypted},
		{name: "encrypted, direct /Encrypt dictionary", data: directEncrypt(three), reason: encrypted},

		{name: "no pages", data: pdftest.Build(t, pdftest.Spec{Pages: 0}), reason: noPages},
	}
	if large {
		cs = append(cs, inspectCase{name: "1 MB", data: pdftest.Make(t, 2, 1<<20), info: pdf.Info{Pages: 2, Version: "1.7"}})
	}
	return cs
}

func TestInspect(t *testing.T) {
	for _, tc := range cases(t, true) {
		t.Run(tc.name, func(t *testing.T) {
			info, err := pdf.Inspect(context.Background(), tc.data)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Inspect: %v (cause: %v)", err, errors.Unwrap(err))
				}
				want := tc.info
				want.Size = len(tc.data)
				if info != want {
					t.Fatalf("Inspect = %+v, want %+v", info, want)
				}
				return
			}
			var p *pdf.Problem
			if !errors.As(err, &p) {
				t.Fatalf("Inspect = %+v, %v; want a *pdf.Problem %q", info, err, tc.reason)
			}
			if p.Reason != tc.reason || err.Error() != tc.reason {
				t.Fatalf("Problem %q (Error() %q), want %q; cause: %v", p.Reason, err.Error(), tc.reason, errors.Unwrap(err))
			}
			if wantFixable := tc.reason == encrypted || tc.reason == damaged; p.Fixable != wantFixable {
				t.Errorf("Fixable = %v, want %v", p.Fixable, wantFixable)
			}
			if info.Encrypted != (tc.reason == encrypted) {
				t.Errorf("Info.Encrypted = %v for reason %q", info.Encrypted, tc.reason)
			}
			if info.Size != len(tc.data) {
				t.Errorf("Info.Size = %d, want %d", info.Size, len(tc.data))
			}
		})
	}
}

// TestAcceptedReadByQPDF: whatever Inspect accepts, qpdf reads too (with at most warnings, as for
// the broken xref it rebuilds). The converse does not hold by design: Inspect refuses files qpdf
// reads, such as one cut just before %%EOF or a catalog without /Type /Catalog.
func TestAcceptedReadByQPDF(t *testing.T) {
	for _, tc := range cases(t, false) {
		if tc.reason != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			if out, err := pdftest.QPDF(t, tc.data, "--check"); err != nil && !isQPDFWarningsOnly(err) {
				t.Fatalf("Inspect accepts it, qpdf --check fails: %v\n%s", err, out)
			}
		})
	}
}

// isQPDFWarningsOnly reports qpdf's exit status 3: it read the file, with warnings (it says
// so for the broken xref, which it repairs like pdfcpu does).
func isQPDFWarningsOnly(err error) bool {
	var ee interface{ ExitCode() int }
	return errors.As(err, &ee) && ee.ExitCode() == 3
}

func TestInspectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pdf.Inspect(ctx, pdftest.Make(t, 1, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Inspect with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestInspectWritesNothing: no plaintext on disk, and pdfcpu must not create its config dir
// (~/.config/pdfcpu, or $TMPDIR/pdfcpu when there is no home).
func TestInspectWritesNothing(t *testing.T) {
	inputs := [][]byte{pdftest.Make(t, 2, 0), pdftest.Encrypted(t), pdftest.Truncated(t), pdftest.BrokenXRef(t)}
	home, config, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("TMPDIR", tmp)
	for _, in := range inputs {
		_, _ = pdf.Inspect(context.Background(), in)
	}
	for _, dir := range []string{home, config, tmp} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 0 {
			t.Errorf("Inspect wrote to %s: %v", dir, entries)
		}
	}
}

// TestInspectConcurrent runs Inspect from several goroutines; with -race it shows that the
// pdfcpu paths used share no unsynchronised state.
func TestInspectConcurrent(t *testing.T) {
	inputs := [][]byte{pdftest.Make(t, 3, 0), pdftest.Build(t, pdftest.Spec{Pages: 2, Signed: true, Bookmarks: true}), pdftest.Encrypted(t), pdftest.Truncated(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(inputs))
	for range 8 {
		for _, in := range inputs {
			wg.Go(func() {
				want, wantErr := pdf.Inspect(context.Background(), in)
				got, gotErr := pdf.Inspect(context.Background(), in)
				if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					errs <- fmt.Errorf("results differ: %+v %v / %+v %v", want, wantErr, got, gotErr)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzInspect: whatever the bytes, Inspect returns (never panics, never hangs), and it either
// accepts with a plausible Info or refuses with one of its user-facing reasons.
func FuzzInspect(f *testing.F) {
	for _, tc := range cases(f, false) {
		f.Add(tc.data)
	}
	known := map[string]bool{notPDF: true, encrypted: true, damaged: true, noPages: true, tooComplex: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		info, err := pdf.Inspect(context.Background(), data)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Inspect took %v on %d bytes", d, len(data))
		}
		if info.Size != len(data) {
			t.Errorf("Size = %d, want %d", info.Size, len(data))
		}
		if err == nil {
			if info.Pages < 1 || info.Version == "" || info.Encrypted {
				t.Errorf("accepted with implausible %+v", info)
			}
			return
		}
		var p *pdf.Problem
		if !errors.As(err, &p) || !(known[p.Reason] || strings.HasPrefix(p.Reason, "expands to more than ")) || err.Error() != p.Reason {
			t.Errorf("refused with %T %q, want a *pdf.Problem with a known reason", err, err)
		}
	})
}

func BenchmarkInspect(b *testing.B) {
	for _, bc := range []struct {
		name  string
		pages int
		size  int
		objs  bool // rewritten by pdfcpu: xref stream, object streams
	}{
		{"1MB-1page", 1, 1 << 20, false},
		{"20MB-1page", 1, 20 << 20, false},
		{"20MB-2000pages", 2000, 20 << 20, false},
		{"20MB-2000pages-objstm", 2000, 20 << 20, true},
	} {
		data := pdftest.Make(b, bc.pages, bc.size)
		if bc.objs {
			data = rewrite(b, data)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := pdf.Inspect(context.Background(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func concat(prefix string, data any) []byte {
	switch d := data.(type) {
	case []byte:
		return append([]byte(prefix), d...)
	case string:
		return []byte(prefix + d)
	}
	panic("concat: unsupported type")
}

// pdfcpuConf reads and writes without pdfcpu's config directory.
func pdfcpuConf() *model.Configuration {
	return &model.Configuration{
		Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF, Offline: true,
		Limits: model.DefaultResourceLimits(), WriteObjectStream: true, WriteXRefStream: true,
		EncryptUsingAES: true, EncryptKeyLength: 256, Permissions: model.PermissionsPrint,
	}
}

// rewrite has pdfcpu write data anew, with an xref stream and object streams.
func rewrite(t testing.TB, data []byte) []byte {
	t.Helper()
	ctx, err := api.ReadContext(bytes.NewReader(data), pdfcpuConf())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := api.WriteContext(ctx, &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func encryptWith(t testing.TB, data []byte, userPW string) []byte {
	t.Helper()
	conf := pdfcpuConf()
	conf.UserPW, conf.OwnerPW = userPW, "owner"
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(data), &out, conf); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// directEncrypt puts a direct encryption dictionary into the trailer (the strings and streams
// stay plain, which does not matter: the trailer alone makes it an encrypted file).
func directEncrypt(data []byte) []byte {
	return bytes.Replace(data, []byte("trailer\n<< "),
		[]byte("trailer\n<< /Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O <00> /U <00> >> "), 1)
}

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
var sizeRE = regexp.MustCompile(`/Size (\d+)`)

// appendRevision appends a classic incremental update to data that adds one object with body.
// The trailer's /Info points to it when info is set; otherwise nothing refers to it.
func appendRevision(t testing.TB, data []byte, body string, info bool) []byte {
	t.Helper()
	m := startxrefRE.FindSubmatch(data)
	s := sizeRE.FindAllSubmatch(data, -1)
	if m == nil || s == nil {
		t.Fatal("appendRevision: no startxref or /Size")
	}
	prev, _ := strconv.Atoi(string(m[1]))
	nr, _ := strconv.Atoi(string(s[len(s)-1][1]))
	infoRef := ""
	if info {
		infoRef = fmt.Sprintf(" /Info %d 0 R", nr)
	}
	out := bytes.Clone(data)
	off := len(out)
	out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", nr, body)
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R%s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		nr, off, nr+1, infoRef, prev, xref)
	return out
}

// orphanSignatureInObjStm is orphanSignature with the signature dictionary compressed into an
// object stream, added by an update with an xref stream (a hybrid file, as PDF 1.5 allows).
func orphanSignatureInObjStm(t testing.TB) []byte {
	t.Helper()
	out, prev, stm := pdftest.UpdateBase(t) // object stream stm; the signature is stm+1, the xref stream stm+2
	sig := fmt.Sprintf("%d 0 ", stm+1)
	body := sig + "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [0 10 20 30] /Contents <00> >>"
	stmOff := len(out)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s\nendstream\nendobj\n", stm, len(sig), len(body), body)
	xrefOff := len(out)
	// W [1 4 2]: type, offset or object stream number, generation or index in the stream.
	var entries []byte
	entries = append(entries, 1, byte(stmOff>>24), byte(stmOff>>16), byte(stmOff>>8), byte(stmOff), 0, 0)
	entries = append(entries, 2, byte(stm>>24), byte(stm>>16), byte(stm>>8), byte(stm), 0, 0)
	entries = append(entries, 1, byte(xrefOff>>24), byte(xrefOff>>16), byte(xrefOff>>8), byte(xrefOff), 0, 0)
	out = fmt.Appendf(out, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%d 3] /Root 1 0 R /Prev %d /Length %d >>\nstream\n",
		stm+2, stm+3, stm, prev, len(entries))
	out = append(out, entries...)
	out = fmt.Appendf(out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
	return out
}

// orphanSignature returns a one-page PDF with a signature dictionary (a document timestamp's)
// that no form field refers to.
func orphanSignature(t testing.TB) []byte {
	t.Helper()
	return appendRevision(t, pdftest.Make(t, 1, 0),
		"<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [0 10 20 30] /Contents <00> >>", false)
}
