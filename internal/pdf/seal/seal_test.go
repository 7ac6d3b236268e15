package seal_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
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

func pages(t *testing.T, pdf []byte) string {
	t.Helper()
	n, err := pdftest.QPDF(t, pdf, "--show-npages")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(n)
}

func TestSealsPageOnFirstSealOnly(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	ctx := context.Background()
	doc := pdftest.Make(t, 2, 0)
	req := seal.Request{SignatoryName: "Ada", Time: time.Now(), MaxSignatories: 3, DocumentID: "DOC-1",
		Evidence: evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada"}`}}
	one, err := s.Seal(ctx, doc, req)
	if err != nil {
		t.Fatal(err)
	}
	req.SealIndex, req.SignatoryName = 1, "Bo"
	two, err := s.Seal(ctx, one, req)
	if err != nil {
		t.Fatal(err)
	}
	if pages(t, one) != "3" || pages(t, two) != "3" {
		t.Fatalf("pages: %s after the first seal, %s after the second; want the seals page added once", pages(t, one), pages(t, two))
	}
	// The seals page comes before the first signature; the second seal on it is FORM_FILLING for the
	// first (a new signature field with its widget), as pyHanko sees it.
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
	requirePyHankoSealed(t, one, root, 1)
	requirePyHankoSealed(t, two, root, 2)
	sigs, err := pades.ReadSignatures(ctx, two)
	if err != nil || len(sigs) != 2 || !strings.Contains(sigs[0].ContactInfo, evidence.TypeDrawable) {
		t.Fatalf("signatures: %+v %v", sigs, err)
	}
	// A document that came signed gets no seals page: a new page would change what was signed.
	presigned := pdftest.Build(t, pdftest.Spec{Pages: 1, Signed: true})
	req.SealIndex = 0
	out, err := s.Seal(ctx, presigned, req)
	if err != nil {
		t.Fatal(err)
	}
	if pages(t, out) != "1" {
		t.Errorf("a seals page was added to a document that was already signed")
	}
}

func TestSealTextFollowsLanguageAndTimezone(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	req := seal.Request{SignatoryName: "Åse", Time: at, DocumentID: "D1", Language: "DA_DK", Timezone: "Europe/Copenhagen",
		Evidence: evidence.Evidence{Type: evidence.TypeDrawable}}
	lines := seal.SealLines(req)
	want := []string{"Underskrevet af Åse", "2026-06-01 12:00:00 CEST", "Håndtegnet underskrift", "Dokument-ID D1"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("DA_DK seal text %q, want %q", lines, want)
	}
	req.Language, req.Timezone, req.SignatoryName, req.Evidence = "XX", "", "", evidence.Evidence{}
	if lines := seal.SealLines(req); lines[0] != "Signed by Signatory 1" || lines[2] != "Test signature (no identity proof)" || lines[1] != "2026-06-01 10:00:00 UTC" {
		t.Errorf("fallback seal text %q", lines)
	}
}

// benchScribble is a drawn signature of the size the signing page sends (600×200).
var benchScribble = func() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 600, 200))
	for x := 20; x < 580; x++ {
		for dy := 0; dy < 5; dy++ {
			img.Set(x, 150-x/5+dy, color.NRGBA{10, 20, 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}()

// BenchmarkSealAndClose is what a signature and a close cost on a 1 MB/10-page and a 20 MB document:
// the first seal (seals page, visible seal with the evidence, CMS, signature timestamp from the
// in-process TSA, incremental update), a later seal (no new page), and the close (read the
// signatures, OCSP and CRL from the loopback responders, DSS, document timestamp) after two seals;
// and a seal placed on page 1 with a drawn signature, first and second.
func BenchmarkSealAndClose(b *testing.B) {
	p := pkitest.New(b)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	f := &seal.Finalizer{TSA: p.TSA, Revocation: p.Revocation()}
	ctx := context.Background()
	req := seal.Request{SignatoryName: "Ada Lovelace", Time: time.Now(), MaxSignatories: 14, DocumentID: "DOC-1",
		Evidence: evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada Lovelace"}`}}
	for _, size := range []int{1_000_000, 20_000_000} {
		doc := pdftest.Make(b, 10, size)
		one, err := s.Seal(ctx, doc, req)
		if err != nil {
			b.Fatal(err)
		}
		second := req
		second.SealIndex = 1
		two, err := s.Seal(ctx, one, second)
		if err != nil {
			b.Fatal(err)
		}
		// A placed seal on page 1 (no seals page), first and after a seal.
		placed := req
		placed.Evidence.Image = benchScribble
		placed.Placements = []seal.Placement{{Page: 1, X: 300, Y: 60, Width: 240, Height: 90}}
		placedOne, err := s.Seal(ctx, doc, placed)
		if err != nil {
			b.Fatal(err)
		}
		placedSecond := placed
		placedSecond.SealIndex = 1
		for _, bm := range []struct {
			name string
			in   []byte
			run  func([]byte) ([]byte, error)
		}{
			{"FirstSeal", doc, func(in []byte) ([]byte, error) { return s.Seal(ctx, in, req) }},
			{"SecondSeal", one, func(in []byte) ([]byte, error) { return s.Seal(ctx, in, second) }},
			{"FirstSealPlaced", doc, func(in []byte) ([]byte, error) { return s.Seal(ctx, in, placed) }},
			{"SecondSealPlaced", placedOne, func(in []byte) ([]byte, error) { return s.Seal(ctx, in, placedSecond) }},
			{"Close", two, func(in []byte) ([]byte, error) { return f.Finalize(ctx, in) }},
		} {
			b.Run(fmt.Sprintf("%s/%dMB", bm.name, size/1_000_000), func(b *testing.B) {
				b.SetBytes(int64(len(bm.in)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := bm.run(bm.in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSealAndCloseRefuseBombs: the sealer and the finalizer answer a bomb with the intake's problem
// (the signing service turns it into an invalid-input error naming the document), and both wait for
// room in the admission budget.
func TestSealAndCloseRefuseBombs(t *testing.T) {
	p := pkitest.New(t)
	adm := pdf.NewAdmission(pdf.AdmissionConfig{Budget: 64 << 20, Wait: 10 * time.Millisecond})
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA, Admission: adm}
	f := &seal.Finalizer{TSA: p.TSA, Admission: adm}
	ctx := context.Background()
	req := seal.Request{SignatoryName: "Ada", Time: time.Now(), MaxSignatories: 1, DocumentID: "DOC-1"}
	bomb := pdftest.ObjStmBomb(t, 3, 64<<20)
	var problem *pdf.Problem
	if _, err := s.Seal(ctx, bomb, req); !errors.As(err, &problem) || !strings.Contains(err.Error(), "DOC-1") {
		t.Fatalf("Seal(bomb) = %v, want a *pdf.Problem naming DOC-1", err)
	}
	if _, err := f.Finalize(ctx, bomb); !errors.As(err, &problem) {
		t.Fatalf("Finalize(bomb) = %v, want a *pdf.Problem", err)
	}
	// With the whole budget held elsewhere, both answer busy.
	release, err := adm.Reserve(ctx, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	doc := pdftest.Make(t, 1, 0)
	if _, err := s.Seal(ctx, doc, req); !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Seal with the budget in use = %v, want ErrBusy", err)
	}
	if _, err := f.Finalize(ctx, doc); !errors.Is(err, pdf.ErrBusy) {
		t.Fatalf("Finalize with the budget in use = %v, want ErrBusy", err)
	}
	release()
	if _, err := s.Seal(ctx, doc, req); err != nil {
		t.Fatal(err)
	}
}
