package pdf_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
)

// Documents from real producers, made at test time by the tools CI installs (scripts/deps.sh).

// libreOfficePDF converts a flat ODF text with a heading (which LibreOffice exports as a bookmark)
// and two pages of text.
func libreOfficePDF(t testing.TB) []byte {
	t.Helper()
	bin := lookProducer(t, "libreoffice", "libreoffice-writer-nogui")
	dir := t.TempDir()
	var body strings.Builder
	for i := range 60 {
		fmt.Fprintf(&body, "<text:p>Clause %d. The parties agree to the terms of this clause, as written here.</text:p>\n", i+1)
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text>
<text:h text:outline-level="1">Service agreement</text:h>
` + body.String() + `<text:h text:outline-level="1">Signatures</text:h>
</office:text></office:body></office:document>`
	src := filepath.Join(dir, "agreement.fodt")
	if err := os.WriteFile(src, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// Its own profile in the temp dir: a shared one would make parallel runs wait on its lock.
	runProducer(t, bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "pdf", "--outdir", dir, src)
	return mustReadFile(t, filepath.Join(dir, "agreement.pdf"))
}

// ghostscriptPDF converts two pages of PostScript with pdfwrite.
func ghostscriptPDF(t testing.TB) []byte {
	t.Helper()
	bin := lookProducer(t, "gs", "ghostscript")
	dir := t.TempDir()
	ps := `%!PS
/Helvetica findfont 24 scalefont setfont
72 720 moveto (Ghostscript agreement) show
/Helvetica findfont 12 scalefont setfont
72 690 moveto (Page one: the terms.) show
72 600 moveto 300 600 lineto stroke
showpage
/Helvetica findfont 12 scalefont setfont
72 720 moveto (Page two: more terms.) show
showpage
`
	src := filepath.Join(dir, "in.ps")
	if err := os.WriteFile(src, []byte(ps), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pdf")
	runProducer(t, bin, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sOutputFile="+out, src)
	return mustReadFile(t, out)
}

// chromiumPDF prints an HTML page with Chromium, started with the flags internal/testenv uses (no
// network, no sandbox as root).
func chromiumPDF(t testing.TB) []byte {
	t.Helper()
	const bin = "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("Chromium is not installed: apt-get install chromium")
	}
	dir := t.TempDir()
	var body strings.Builder
	for i := range 80 {
		fmt.Fprintf(&body, "<p>Clause %d. The parties agree to the terms of this clause.</p>\n", i+1)
	}
	src := filepath.Join(dir, "in.html")
	html := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Agreement</title></head><body>
<h1>Chromium agreement</h1>` + body.String() + `</body></html>`
	if err := os.WriteFile(src, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pdf")
	runProducer(t, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer",
		"--print-to-pdf="+out, "file://"+src)
	return mustReadFile(t, out)
}

func lookProducer(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: apt-get install %s (scripts/deps.sh installs it)", name, pkg)
	}
	return bin
}

func runProducer(t testing.TB, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tempPDF(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// raster renders page p of data in 8-bit gray at 36 dpi with poppler's pdftoppm.
type gray struct {
	w, h int
	pix  []byte
}

func raster(t testing.TB, data []byte, p int) gray {
	t.Helper()
	bin := lookProducer(t, "pdftoppm", "poppler-utils")
	in := tempPDF(t, "in.pdf", data)
	cmd := exec.Command(bin, "-gray", "-r", "36", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftoppm page %d: %v\n%s", p, err, stderr.String())
	}
	g, err := parsePGM(out)
	if err != nil {
		t.Fatalf("pdftoppm page %d: %v", p, err)
	}
	return g
}

// parsePGM reads a binary PGM (P5, maxval 255), what pdftoppm -gray writes.
func parsePGM(b []byte) (gray, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var magic string
	var w, h, maxval int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxval); err != nil || magic != "P5" || maxval != 255 {
		return gray{}, fmt.Errorf("not an 8-bit P5 PGM (%q %d %v)", magic, maxval, err)
	}
	if _, err := r.ReadByte(); err != nil { // the single white space after maxval
		return gray{}, err
	}
	pix := make([]byte, w*h)
	if _, err := io.ReadFull(r, pix); err != nil {
		return gray{}, err
	}
	return gray{w, h, pix}, nil
}

// meanDiff is the mean absolute difference of two same-size rasters, 0..255.
func meanDiff(a, b gray) float64 {
	if a.w != b.w || a.h != b.h {
		return 255
	}
	var sum int64
	for i := range a.pix {
		d := int64(a.pix[i]) - int64(b.pix[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a.pix))
}

// inked is the share of pixels darker than light gray: 0 for a blank page.
func inked(g gray) float64 {
	n := 0
	for _, v := range g.pix {
		if v < 200 {
			n++
		}
	}
	return float64(n) / float64(max(1, len(g.pix)))
}

// pageText is pdftotext's text of page p, white space collapsed.
func pageText(t testing.TB, data []byte, p int) string {
	t.Helper()
	bin := lookProducer(t, "pdftotext", "poppler-utils")
	in := tempPDF(t, "in.pdf", data)
	out, err := exec.Command(bin, "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext page %d: %v", p, err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// pdfsigReport runs poppler's validator trusting ca.
func pdfsigReport(t testing.TB, ca *x509.Certificate, data []byte) string {
	t.Helper()
	certutil := lookProducer(t, "certutil", "libnss3-tools")
	bin := lookProducer(t, "pdfsig", "poppler-utils")
	dir := t.TempDir()
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", "sql:" + dir, "--empty-password"}, {"-A", "-d", "sql:" + dir, "-n", "ca", "-t", "CT,C,C", "-i", caPEM}} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	out, _ := exec.Command(bin, "-nssdir", "sql:"+dir, tempPDF(t, "signed.pdf", data)).CombinedOutput()
	return string(out)
}

// maxPageDiff is how far a page of the signed document may render from the same page of the
// upload: anti-aliasing and nothing else (a blank or shifted page differs by tens).
const maxPageDiff = 1.0

// intakeAndSeal is what the service does to an unsigned upload with default options: inspect,
// repair when the intake found a defect, seal once. It returns the stored and the sealed bytes.
func intakeAndSeal(t *testing.T, p *pkitest.Fixture, upload []byte) (pdf.Info, []byte, []byte) {
	t.Helper()
	ctx := context.Background()
	info, err := pdf.Inspect(ctx, upload)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	stored := upload
	if info.Defect != "" {
		if stored, _, err = (pdf.Inspector{}).Rewrite(ctx, upload, pdf.RewriteOptions{}); err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
	}
	return info, stored, sealOnce(t, p, stored)
}

func sealOnce(t *testing.T, p *pkitest.Fixture, doc []byte) []byte {
	t.Helper()
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	sealed, err := s.Seal(context.Background(), doc, seal.Request{SignatoryName: "Ada Lovelace", Time: time.Now(),
		MaxSignatories: 2, DocumentID: "DOC-1", Language: "EN_US", Timezone: "Europe/Copenhagen",
		Evidence: evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada Lovelace"}`}})
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

// TestRealDocumentsSignIntact: for the official SDK's samples and for documents from LibreOffice,
// Ghostscript and Chromium, intake and one seal leave every original page looking and reading as
// uploaded, and the result passes qpdf --check and pdfsig.
func TestRealDocumentsSignIntact(t *testing.T) {
	p := pkitest.New(t)
	for _, tc := range []struct {
		name   string
		upload func(testing.TB) []byte
		defect bool // the intake must find (and repair) a defect
	}{
		{"SDK sample.pdf", func(t testing.TB) []byte { return sdkSample(t, "sample.pdf") }, true},
		{"SDK sample-form.pdf", func(t testing.TB) []byte { return sdkSample(t, "sample-form.pdf") }, false},
		{"LibreOffice", libreOfficePDF, false},
		{"Ghostscript", ghostscriptPDF, false},
		{"Chromium", chromiumPDF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upload := tc.upload(t)
			info, stored, sealed := intakeAndSeal(t, p, upload)
			if (info.Defect != "") != tc.defect {
				t.Fatalf("Defect = %q, want a defect: %v", info.Defect, tc.defect)
			}
			if after, err := pdf.Inspect(context.Background(), stored); err != nil || after.Defect != "" {
				t.Fatalf("the stored document: %+v, %v; want no defect", after, err)
			}
			pdftest.QPDFCheck(t, sealed)
			for page := 1; page <= info.Pages; page++ {
				want, got := raster(t, upload, page), raster(t, sealed, page)
				if d := meanDiff(want, got); d > maxPageDiff {
					t.Errorf("page %d renders %.2f gray levels from the upload on average (at most %.1f)", page, d, maxPageDiff)
				}
				if inked(want) == 0 {
					t.Errorf("page %d of the upload renders blank: not a test of anything", page)
				}
				if want, got := pageText(t, upload, page), pageText(t, sealed, page); want != got || want == "" {
					t.Errorf("page %d text:\n got %q\nwant %q", page, got, want)
				}
			}
			report := pdfsigReport(t, p.CA.Cert, sealed)
			if strings.Count(report, "Signature is Valid.") != 1 || !strings.Contains(report, "Total document signed") {
				t.Errorf("pdfsig:\n%s", report)
			}
		})
	}
}

// TestSampleWithoutRepairSignsBroken is the control for the test above: sealing the SDK's
// sample.pdf as uploaded (what the service did before the repair) gives a document whose first page
// renders differently from the upload, so the comparison above does catch the fault it is for.
func TestSampleWithoutRepairSignsBroken(t *testing.T) {
	upload := sdkSample(t, "sample.pdf")
	sealed := sealOnce(t, pkitest.New(t), upload)
	d := meanDiff(raster(t, upload, 1), raster(t, sealed, 1))
	if d <= maxPageDiff {
		t.Fatalf("page 1 of the unrepaired, sealed sample renders like the upload (%.2f): the repair is no longer needed, or the comparison no longer detects it", d)
	}
	t.Logf("page 1 of the unrepaired, sealed sample: %.2f gray levels from the upload (inked %.3f vs %.3f)", d,
		inked(raster(t, sealed, 1)), inked(raster(t, upload, 1)))
}
