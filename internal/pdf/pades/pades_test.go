package pades_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/pdfcpu/pdfcpu/pkg/api"

	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/pki/pkitest"
	"esign/internal/tsa"
)

type fixture struct {
	pki  *pkitest.Fixture
	ca   *pki.Authority
	key  pades.Key
	tsa  *tsa.Server
	nssd string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p := pkitest.New(t)
	return &fixture{pki: p, ca: p.CA, key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, tsa: p.TSA}
}

// nssDB is an NSS database trusting the test CA, for pdfsig.
func (f *fixture) nssDB(t *testing.T) string {
	t.Helper()
	if f.nssd != "" {
		return f.nssd
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatal("certutil is not installed: apt-get install libnss3-tools")
	}
	dir := t.TempDir()
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", "sql:" + dir, "--empty-password"}, {"-A", "-d", "sql:" + dir, "-n", "ca", "-t", "CT,C,C", "-i", caPEM}} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	f.nssd = dir
	return dir
}

// pdfsig runs poppler's validator and returns its report.
func pdfsig(t *testing.T, f *fixture, data []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdfsig")
	if err != nil {
		t.Fatal("pdfsig is not installed: apt-get install poppler-utils")
	}
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Not -no-ocsp: poppler 22.12 then reports "Unknown issue with Certificate" for any chain. Without
	// it, certificates that name no OCSP responder are checked offline anyway.
	out, _ := exec.Command(bin, "-nssdir", "sql:"+f.nssDB(t), path).CombinedOutput()
	return string(out)
}

func TestSignValidatesInPopplerAndQPDF(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := pdftest.Make(t, 3, 0)
	once, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: "Ada Lovelace", Reason: "Agreed",
		ContactInfo: `{"type":"criipto.signature.drawable.v1","value":"{\"name\":\"Ådå (x)\"}"}`, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(once), string(doc)) {
		t.Fatal("the signature rewrote the original bytes")
	}
	pdftest.QPDFCheck(t, once)
	report := pdfsig(t, f, once)
	if strings.Count(report, "Signature is Valid.") != 1 || !strings.Contains(report, "Certificate is Trusted.") ||
		!strings.Contains(report, "ETSI.CAdES.detached") || !strings.Contains(report, "Total document signed") {
		t.Fatalf("pdfsig after one signature:\n%s", report)
	}
	twice, err := pades.Sign(ctx, once, f.key, f.tsa, pades.Signature{Name: "Second", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, twice)
	report = pdfsig(t, f, twice)
	// poppler 22.12 reports the trust of the first signature of a file only (a stale NSS error code
	// answers "Unknown issue" for later ones; see pdftest.OpenSSLVerify, which checks every chain in
	// TestPdfcpuValidatesClosedDocument); every signature itself must verify.
	if strings.Count(report, "Signature is Valid.") != 2 || !strings.Contains(report, "Certificate is Trusted.") {
		t.Fatalf("pdfsig after two signatures:\n%s", report)
	}
	tampered := []byte(string(twice))
	tampered[len(doc)/2] ^= 0x01
	if report := pdfsig(t, f, tampered); strings.Contains(report, "Signature is Valid.") {
		t.Fatalf("a flipped byte still validates:\n%s", report)
	}
}

// Files whose cross-reference is a stream (pdf-lib, most modern writers) get a stream section.
func TestSignFileWithXRefStream(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	conf := pdf.ReadConfig()
	conf.WriteXRefStream, conf.WriteObjectStream = true, true
	var buf bytes.Buffer
	if err := api.Optimize(bytes.NewReader(pdftest.Make(t, 2, 0)), &buf, conf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/XRef")) {
		t.Fatal("the fixture has no cross-reference stream")
	}
	signed, err := pades.Sign(ctx, buf.Bytes(), f.key, f.tsa, pades.Signature{Name: "Stream", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, signed)
	twice, err := pades.Sign(ctx, signed, f.key, f.tsa, pades.Signature{Name: "Again", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, twice)
	if report := pdfsig(t, f, twice); strings.Count(report, "Signature is Valid.") != 2 {
		t.Fatalf("pdfsig:\n%s", report)
	}
}

func TestDocumentTimestampKeepsSignaturesValid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	signed, err := pades.Sign(ctx, pdftest.Make(t, 1, 0), f.key, f.tsa, pades.Signature{Name: "Signer", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	stamped, err := pades.DocumentTimestamp(ctx, signed, f.tsa)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, stamped)
	report := pdfsig(t, f, stamped)
	// pdfsig cannot verify document timestamps ("Unimplemented"), but the signature before it must
	// stay valid and the timestamp must be recognised as one.
	if strings.Count(report, "Signature is Valid.") != 1 || !strings.Contains(report, "Common Name: esign test TSA") {
		t.Fatalf("pdfsig after the document timestamp:\n%s", report)
	}
	// Check the timestamp ourselves: its imprint is the SHA-256 of the bytes its /ByteRange covers.
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]\s*/Contents <([0-9a-f]+)> >>`).FindAllSubmatch(stamped, -1)
	last := m[len(m)-1]
	a, _ := strconv.Atoi(string(last[1]))
	b, _ := strconv.Atoi(string(last[2]))
	contents, _ := hex.DecodeString(string(last[4]))
	var token asn1.RawValue // the DER token, without the zero padding after it
	if _, err := asn1.Unmarshal(contents, &token); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(stamped[:a])
	h.Write(stamped[b:])
	parsed, err := timestamp.Parse(token.FullBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parsed.HashedMessage, h.Sum(nil)) {
		t.Fatal("the document timestamp's imprint does not match the covered bytes")
	}
}

func TestReadSignatures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := pdftest.Make(t, 1, 0)
	evidence := `{"type":"criipto.signature.drawable.v1","value":"{\"name\":\"Åse\"}"}`
	one, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: "First", ContactInfo: evidence, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	two, err := pades.Sign(ctx, one, f.key, f.tsa, pades.Signature{Name: "Second", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	final, err := pades.DocumentTimestamp(ctx, two, f.tsa)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := pades.ReadSignatures(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 3 || sigs[0].Name != "First" || sigs[1].Name != "Second" || !sigs[2].DocumentTimestamp {
		t.Fatalf("signatures: %+v", sigs)
	}
	if sigs[0].ContactInfo != evidence {
		t.Errorf("ContactInfo read back as %q", sigs[0].ContactInfo)
	}
	if !sigs[0].SigningCertificate.Equal(f.key.Chain[0]) || !sigs[0].TimestampCertificate.Equal(f.tsa.Cert) || time.Since(sigs[0].Timestamp) > time.Minute {
		t.Errorf("certificates or timestamp of the first signature: %+v", sigs[0])
	}
}

// BenchmarkSeal is one seal (CMS, signature timestamp from the in-process TSA, incremental update) on
// a 1 MB/10-page and a 20 MB document, and the close-time document timestamp.
func BenchmarkSeal(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for _, size := range []int{1_000_000, 20_000_000} {
		doc := pdftest.Make(b, 10, size)
		b.Run(fmt.Sprintf("Sign/%dMB", size/1_000_000), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: "Bench", Time: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("DocumentTimestamp/%dMB", size/1_000_000), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := pades.DocumentTimestamp(ctx, doc, f.tsa); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The seals page: appended before the first signature; each signature is a visible seal on it;
// every signature stays valid and the page renders with the seals.
func TestVisibleSealsOnSealsPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := pdftest.Make(t, 2, 0)
	withPage, err := pades.AppendSealsPage(ctx, doc, "Signatures")
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, withPage)
	out := withPage
	for i, name := range []string{"Ada Lovelace", "Søren Kierkegaard", "Third"} {
		out, err = pades.Sign(ctx, out, f.key, f.tsa, pades.Signature{Name: name, Time: time.Now(),
			Widget: &pades.Widget{Slot: i, Slots: 4, Lines: []string{"Signed by " + name, time.Now().UTC().Format(time.RFC3339)}, Image: scribble(t)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	pdftest.QPDFCheck(t, out)
	if n, err := pdftest.QPDF(t, out, "--show-npages"); err != nil || strings.TrimSpace(n) != "3" {
		t.Fatalf("pages after the seals page: %q (%v)", n, err)
	}
	if report := pdfsig(t, f, out); strings.Count(report, "Signature is Valid.") != 3 {
		t.Fatalf("pdfsig:\n%s", report)
	}
	// A visible seal needs the seals page: on a document without one it is refused.
	if _, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Time: time.Now(), Widget: &pades.Widget{Slots: 1}}); err == nil {
		t.Error("a visible seal was placed on a page that is not the seals page")
	}
	if os.Getenv("ESIGN_KEEP_SEALS_PDF") != "" {
		os.WriteFile(os.Getenv("ESIGN_KEEP_SEALS_PDF"), out, 0o600)
	}
}

// scribble is a drawn signature: a dark diagonal stroke on a transparent 200×80 PNG.
func scribble(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 200, 80))
	for x := 10; x < 190; x++ {
		y := 70 - x*60/190
		for dy := 0; dy < 4; dy++ {
			img.Set(x, y+dy, color.NRGBA{10, 20, 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
