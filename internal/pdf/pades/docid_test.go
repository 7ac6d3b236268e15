package pades_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// The document ID at each edge of every page, rotated pages and mixed sizes among them: in the first
// seal's increment, drawn only in a strip along the chosen edge of the page as shown (running
// along it), extractable on every page, in an embedded font; the signature validates and earlier
// bytes are untouched.
func TestDocumentIDOnEveryPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	boxes := [][4]float64{{0, 0, 595, 842}, {0, 0, 595, 842}, {0, 0, 842, 595}, {50, 50, 645, 892}}
	rotates := []int{0, 90, 180, 270}
	doc := hand(boxes, rotates, false)
	f.nssDB(t) // in the parent test's folder: the subtests' folders go when each ends
	const id = "Dokument-ID 3f6c2a9e-1b7d-4c55-9e0a-77d1c2b4e5f6"
	const strip = 19 // margin 6, line height 10.5, antialiasing
	for _, edge := range []string{pades.EdgeLeft, pades.EdgeRight, pades.EdgeTop, pades.EdgeBottom} {
		t.Run(edge, func(t *testing.T) {
			out, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: "Ada", Time: time.Now(),
				DocumentID: &pades.DocumentIDMark{Text: id, Edge: edge}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, doc) {
				t.Fatal("the seal rewrote earlier bytes")
			}
			pdftest.QPDFCheck(t, out)
			if report := pdfsig(t, f, out); !strings.Contains(report, "Signature is Valid.") || !strings.Contains(report, "Total document signed") {
				t.Fatalf("pdfsig:\n%s", report)
			}
			for page := 1; page <= len(boxes); page++ {
				text := strings.Join(strings.Fields(tool(t, "pdftotext", out, "-enc", "UTF-8", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page))), "")
				if !strings.Contains(text, strings.Join(strings.Fields(id), "")) {
					t.Errorf("page %d: pdftotext lacks the document ID: %q", page, text)
				}
				before, after := render(t, doc, page), render(t, out, page)
				box, n := changed(before, after)
				sw, sh := float64(after.Bounds().Dx()), float64(after.Bounds().Dy())
				// Where the stamp may draw on the shown page (pixels, y down), and which way it runs.
				var allowed image.Rectangle
				switch edge {
				case pades.EdgeLeft:
					allowed = image.Rect(0, 0, int(strip), int(sh))
				case pades.EdgeRight:
					allowed = image.Rect(int(sw-strip), 0, int(sw), int(sh))
				case pades.EdgeTop:
					allowed = image.Rect(0, 0, int(sw), int(strip))
				case pades.EdgeBottom:
					allowed = image.Rect(0, int(sh-strip), int(sw), int(sh))
				}
				along := box.Dx() > 10*box.Dy()
				if edge == pades.EdgeLeft || edge == pades.EdgeRight {
					along = box.Dy() > 10*box.Dx()
				}
				if n < 50 || !box.In(allowed) || !along {
					t.Errorf("page %d (/Rotate %d): the stamp drew %d pixels in %v, want them in %v, running along the edge", page, rotates[page-1], n, box, allowed)
				}
			}
			pdfcpuValid(t, f, out, 1)
			fonts := tool(t, "pdffonts", out)
			if !regexp.MustCompile(`(?m)^[A-Z]{6}\+GoRegular\s+CID TrueType\s+Identity-H\s+yes yes yes`).MatchString(fonts) {
				t.Errorf("pdffonts: no embedded Go Regular subset with ToUnicode:\n%s", fonts)
			}
		})
	}
}

// A document that came signed gets the ID as annotations too, beside an invisible seal; an edge
// that is not one of the four is refused before anything is written.
func TestDocumentIDSignedDocumentAndBadEdge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	presigned := pdftest.Build(t, pdftest.Spec{Pages: 2, Signed: true})
	out, err := pades.Sign(ctx, presigned, f.key, f.tsa, pades.Signature{Name: "Ada", Time: time.Now(),
		DocumentID: &pades.DocumentIDMark{Text: "Document ID DOC-9", Edge: pades.EdgeBottom}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, presigned) {
		t.Fatal("the seal rewrote the signed document")
	}
	pdftest.QPDFCheck(t, out)
	if got := strings.Count(strings.Join(strings.Fields(tool(t, "pdftotext", out, "-enc", "UTF-8")), ""), "DocumentIDDOC-9"); got != 2 {
		t.Errorf("pdftotext shows the ID %d times, want once on each of the 2 pages", got)
	}
	_, err = pades.Sign(ctx, presigned, f.key, f.tsa, pades.Signature{Time: time.Now(), DocumentID: &pades.DocumentIDMark{Text: "x", Edge: "MIDDLE"}})
	if err == nil || !strings.Contains(err.Error(), "displayDocumentID") {
		t.Errorf("edge MIDDLE: %v, want an error naming displayDocumentID", err)
	}
}

// pdfcpuValid: pdfcpu, which also judges what each increment after a signature changed, finds n
// signatures in data and calls every one valid.
func pdfcpuValid(t *testing.T, f *fixture, data []byte, n int) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // pdfcpu's configuration dir and trust store live here
	conf := model.NewDefaultConfiguration()
	conf.AllowedRevocationHosts = []string{"127.0.0.1"}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ImportCertificates([]string{caFile}); err != nil {
		t.Fatal(err)
	}
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(data), true, conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("pdfcpu found %d signatures, want %d", len(res), n)
	}
	for _, r := range res {
		if r.Status != model.SignatureStatusValid {
			t.Errorf("pdfcpu: %s: %v (%v) %v", r.Details.FieldName, r.Status, r.Reason, r.Problems)
		}
	}
}
