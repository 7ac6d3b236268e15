package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki/pkitest"
)

// handDoc is a one-page document written by hand, so that each structural defect can be made alone.
type handDoc struct {
	xrefStream  bool     // an uncompressed xref stream (W [1 4 2]) instead of a classic table
	shift       int      // object 4 (the content stream) is listed this many bytes off
	unlisted    bool     // object 6 (unreferenced) is in the file but in no section
	lengthDelta int      // the content stream's /Length is off by this much
	indirectLen bool     // the content stream's /Length is object 5
	startxref   int      // added to the startxref value
	extra       []string // more catalog entries
}

func (h handDoc) bytes() []byte {
	content := "BT /F1 24 Tf 20 150 Td (Hand made) Tj ET"
	length := fmt.Sprint(len(content) + h.lengthDelta)
	if h.indirectLen {
		length = "5 0 R"
	}
	objs := []string{
		1: "<< /Type /Catalog /Pages 2 0 R" + strings.Join(append([]string{""}, h.extra...), " ") + " >>",
		2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		3: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
		4: "<< /Length " + length + " >>\nstream\n" + content + "\nendstream",
		5: fmt.Sprint(len(content) + h.lengthDelta),
		6: "(not listed)",
		7: "<< /Marker (seven) >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	off := make([]int, len(objs)+1)
	for nr := 1; nr < len(objs); nr++ {
		off[nr] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", nr, objs[nr])
	}
	listed := func(nr int) bool { return !(h.unlisted && nr == 6) }
	at := func(nr int) int {
		if nr == 4 {
			return off[nr] + h.shift
		}
		return off[nr]
	}
	xref := b.Len()
	size := len(objs) + 1
	if !h.xrefStream {
		b.WriteString("xref\n0 1\n0000000000 65535 f \n")
		for nr := 1; nr < len(objs); nr++ {
			if listed(nr) {
				fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", nr, at(nr))
			}
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\n", size-1)
	} else {
		off[len(objs)] = xref
		var rows []byte
		var index []string
		row := func(typ byte, v int) { rows = append(rows, typ, byte(v>>24), byte(v>>16), byte(v>>8), byte(v), 0, 0) }
		row(0, 0)
		index = append(index, "0 1")
		for nr := 1; nr <= len(objs); nr++ {
			if listed(nr) {
				row(1, at(nr))
				index = append(index, fmt.Sprintf("%d 1", nr))
			}
		}
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] /Root 1 0 R /Length %d >>\nstream\n",
			len(objs), size, strings.Join(index, " "), len(rows))
		b.Write(rows)
		b.WriteString("\nendstream\nendobj\n")
	}
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xref+h.startxref)
	return b.Bytes()
}

func TestStructuralDefect(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"sound, classic table", handDoc{}.bytes(), ""},
		{"sound, xref stream", handDoc{xrefStream: true}.bytes(), ""},
		{"sound, indirect length", handDoc{indirectLen: true}.bytes(), ""},
		{"sound, pdftest", pdftest.Make(t, 3, 0), ""},
		{"sound, pdfcpu with object streams", rewrite(t, pdftest.Make(t, 3, 0)), ""},
		{"sound, incremental update", appendRevision(t, pdftest.Make(t, 2, 0), "<< /Title (v2) >>", true), ""},
		{"entry shifted, classic", handDoc{shift: 3}.bytes(), pdf.DefectXRef},
		{"entry shifted, xref stream", handDoc{xrefStream: true, shift: 3}.bytes(), pdf.DefectXRef},
		{"every entry shifted (pdftest)", pdftest.BrokenXRef(t), pdf.DefectXRef},
		{"startxref misses, classic", handDoc{startxref: 2}.bytes(), pdf.DefectXRef},
		{"startxref misses, xref stream", handDoc{xrefStream: true, startxref: -2}.bytes(), pdf.DefectXRef},
		{"object in no section, classic", handDoc{unlisted: true}.bytes(), pdf.DefectXRef},
		{"object in no section, xref stream", handDoc{xrefStream: true, unlisted: true}.bytes(), pdf.DefectXRef},
		{"length too long", handDoc{lengthDelta: 7}.bytes(), pdf.DefectLength},
		{"length too short", handDoc{lengthDelta: -7}.bytes(), pdf.DefectLength},
		{"indirect length wrong", handDoc{indirectLen: true, lengthDelta: 4}.bytes(), pdf.DefectLength},
		{"length wrong, xref stream", handDoc{xrefStream: true, lengthDelta: 7}.bytes(), pdf.DefectLength},
		{"junk before the header", concat("junk\n", handDoc{}.bytes()), pdf.DefectHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := pdf.Inspect(context.Background(), tc.data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Defect != tc.want {
				t.Fatalf("Defect = %q, want %q", info.Defect, tc.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	p := pkitest.New(t)
	sealed := sealOnce(t, p, pdftest.Make(t, 2, 0))
	for _, tc := range []struct {
		name    string
		data    []byte
		opts    pdf.RewriteOptions
		wantErr error
		check   func(t *testing.T, out []byte, info pdf.Info)
	}{
		{name: "broken xref is repaired", data: pdftest.BrokenXRef(t), check: func(t *testing.T, out []byte, info pdf.Info) {
			pdftest.QPDFCheck(t, out) // qpdf warns about the upload; not about its rewrite
			if got, want := pageText(t, out, 2), pageText(t, pdftest.BrokenXRef(t), 2); got != want {
				t.Errorf("page 2 text %q, want %q", got, want)
			}
		}},
		{name: "stream lengths are repaired", data: handDoc{lengthDelta: 7}.bytes(), check: func(t *testing.T, out []byte, info pdf.Info) {
			pdftest.QPDFCheck(t, out)
			if got := pageText(t, out, 1); got != "Hand made" {
				t.Errorf("text %q, want %q", got, "Hand made")
			}
			// The /Length was 7 bytes too long: what it covered beyond the data ("\nendstr") must not
			// become content, which viewers would try to draw.
			if !bytes.Contains(out, []byte("(Hand made) Tj ET\nendstream")) {
				t.Error("the content stream does not end where its data does")
			}
		}},
		{name: "a signed document is refused", data: sealed, wantErr: pdf.ErrSigned},
		{name: "a pdftest signature is removed", data: pdftest.Build(t, pdftest.Spec{Pages: 2, Signed: true, TextField: true}),
			opts: pdf.RewriteOptions{RemoveSignatures: true}, check: func(t *testing.T, out []byte, info pdf.Info) {
				if !info.HasForm {
					t.Error("the text field went with the signature")
				}
				if bytes.Contains(out, []byte("/FT/Sig")) || bytes.Contains(out, []byte("/SigFlags")) {
					t.Error("a signature field or /SigFlags is left")
				}
			}},
		{name: "our own seal is removed, and the document seals again", data: sealed,
			opts: pdf.RewriteOptions{RemoveSignatures: true}, check: func(t *testing.T, out []byte, info pdf.Info) {
				if report := pdfsigReport(t, p.CA.Cert, out); !strings.Contains(report, "does not contain any signatures") {
					t.Errorf("pdfsig after removal:\n%s", report)
				}
				again := sealOnce(t, p, out)
				if report := pdfsigReport(t, p.CA.Cert, again); strings.Count(report, "Signature is Valid.") != 1 {
					t.Errorf("pdfsig after sealing again:\n%s", report)
				}
			}},
		{name: "bookmarks are removed", data: pdftest.Build(t, pdftest.Spec{Pages: 3, Bookmarks: true}),
			opts: pdf.RewriteOptions{RemoveBookmarks: true}, check: func(t *testing.T, out []byte, info pdf.Info) {
				if bytes.Contains(out, []byte("/UseOutlines")) {
					t.Error("/PageMode /UseOutlines is left: viewers would open an empty pane")
				}
			}},
		{name: "LibreOffice bookmarks are removed", data: libreOfficePDF(t),
			opts: pdf.RewriteOptions{RemoveBookmarks: true}, check: func(t *testing.T, out []byte, info pdf.Info) {
				pdftest.QPDFCheck(t, out)
			}},
		{name: "catalog entries pdfcpu does not write are dropped, not left dangling",
			data: handDoc{extra: []string{"/Private 7 0 R", "/AF [7 0 R]", "/Direct << /Kept true >>"}}.bytes(),
			check: func(t *testing.T, out []byte, info pdf.Info) {
				if bytes.Contains(out, []byte("/Private")) || bytes.Contains(out, []byte("/AF")) {
					t.Error("an entry referring to an object pdfcpu does not write is left")
				}
				if !bytes.Contains(out, []byte("/Direct")) {
					t.Error("a direct entry was dropped")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := pdf.Inspect(context.Background(), tc.data)
			if err != nil {
				t.Fatal(err)
			}
			out, info, err := pdf.Inspector{}.Rewrite(context.Background(), tc.data, tc.opts)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Rewrite: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if info.Defect != "" || info.PreviouslySigned || info.Pages != before.Pages ||
				(tc.opts.RemoveBookmarks && info.HasBookmarks) {
				t.Fatalf("rewritten: %+v; before: %+v", info, before)
			}
			if again, err := pdf.Inspect(context.Background(), out); err != nil || again != info {
				t.Fatalf("Inspect of the output = %+v, %v; Rewrite said %+v", again, err, info)
			}
			pdftest.QPDFCheck(t, out)
			if tc.check != nil {
				tc.check(t, out, info)
			}
		})
	}
}

// TestRewriteWaitsForBudget: the rewrite holds its reservation in the process's PDF budget, so a
// budget in use makes it wait and then answer busy instead of adding to the memory in use.
func TestRewriteWaitsForBudget(t *testing.T) {
	adm := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 64 << 20, Wait: 50 * time.Millisecond})
	release, err := adm.Reserve(context.Background(), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = pdf.Inspector{Admission: adm}.Rewrite(context.Background(), pdftest.BrokenXRef(t), pdf.RewriteOptions{})
	if !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Rewrite with the budget in use: %v, want busy", err)
	}
	release()
	if _, _, err = (pdf.Inspector{Admission: adm}).Rewrite(context.Background(), pdftest.BrokenXRef(t), pdf.RewriteOptions{}); err != nil {
		t.Fatalf("Rewrite with the budget free: %v", err)
	}
}

var xrefEntryRE = regexp.MustCompile(`(?m)^(\d{10}) 00000 n`)

// shiftXRef moves every in-use entry of data's classic table delta bytes past its object.
func shiftXRef(t testing.TB, data []byte, delta int) []byte {
	t.Helper()
	x := bytes.LastIndex(data, []byte("\nxref\n"))
	out := bytes.Clone(data)
	tail := xrefEntryRE.ReplaceAllFunc(out[x:], func(m []byte) []byte {
		n, _ := strconv.Atoi(string(m[:10]))
		return fmt.Appendf(nil, "%010d 00000 n", n+delta)
	})
	if bytes.Equal(tail, out[x:]) {
		t.Fatal("shiftXRef: no entries")
	}
	return append(out[:x], tail...)
}

// BenchmarkRepair: intake and repair of a 20 MB document (200 pages) whose xref table points 5
// bytes past every object, with its peak heap (sampled, garbage included) against what the rewrite
// reserves.
func BenchmarkRepair(b *testing.B) {
	data := shiftXRef(b, pdftest.Make(b, 200, 20<<20), 5)
	ctx := context.Background()
	if info, err := pdf.Inspect(ctx, data); err != nil || info.Defect != pdf.DefectXRef {
		b.Fatalf("the benchmark's input: %+v, %v", info, err)
	}
	var peak uint64
	for b.Loop() {
		var err error
		peak = max(peak, pdftest.PeakHeap(func() {
			var info pdf.Info
			if info, err = pdf.Inspect(ctx, data); err == nil && info.Defect != "" {
				_, _, err = pdf.Inspector{}.Rewrite(ctx, data, pdf.RewriteOptions{})
			}
		}))
		if err != nil {
			b.Fatal(err)
		}
	}
	u, _ := pdf.Measure(ctx, data)
	b.ReportMetric(float64(pdf.RewriteEstimate(len(data), u))/(1<<20), "reserved-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	b.ReportMetric(float64(len(data))/(1<<20), "size-MB")
}
