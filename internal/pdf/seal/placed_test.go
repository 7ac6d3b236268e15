package seal_test

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
)

// Placed and seals-page seals mixed through the sealer, then the close: the first seal appends the
// seals page, the second is placed on page 1, the third goes on the seals page again; every
// signature and the document timestamp verify, the page count stays, and the texts (full document
// id included) are extractable.
func TestPlacedAndSealsPageSealsMixed(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	f := &seal.Finalizer{TSA: p.TSA, Revocation: p.Revocation()}
	ctx := context.Background()
	const id = "0b9c5e2e-6f1a-4d3b-9e8f-7a6b5c4d3e2f"
	base := seal.Request{Time: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), MaxSignatories: 3, DocumentID: id, Language: "FI_FI",
		Evidence: evidence.Evidence{Type: evidence.TypeDrawable}}
	steps := []seal.Request{base, base, base}
	steps[0].SignatoryName = "Äänekoski Öljynen"
	steps[1].SignatoryName, steps[1].SealIndex = "Bo", 1
	steps[1].Placements = []seal.Placement{{Page: 1, X: 320, Y: 60, Width: 230, Height: 80}}
	steps[2].SignatoryName, steps[2].SealIndex = "Cecilie", 2
	out := pdftest.Make(t, 2, 0)
	for i, req := range steps {
		var err error
		if out, err = s.Seal(ctx, out, req); err != nil {
			t.Fatalf("seal %d: %v", i+1, err)
		}
		pdftest.QPDFCheck(t, out)
		if pages(t, out) != "3" {
			t.Fatalf("pages after seal %d: %s", i+1, pages(t, out))
		}
	}
	closed, err := f.Finalize(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, closed)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	pdftest.RequireOpenSSLValid(t, closed, caFile, 3, 1)

	path := filepath.Join(t.TempDir(), "closed.pdf")
	if err := os.WriteFile(path, closed, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	flat := strings.Join(strings.Fields(string(text)), "")
	for _, want := range []string{"Allekirjoittanut Äänekoski Öljynen", "Allekirjoittanut Bo", "Allekirjoittanut Cecilie", "Käsin piirretty allekirjoitus", "Asiakirjan tunnus " + id} {
		if strings.Count(flat, strings.Join(strings.Fields(want), "")) < 1 {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
	// The placed seal is on page 1, the others on the seals page.
	page1, _ := exec.Command("pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", path, "-").CombinedOutput()
	if !strings.Contains(string(page1), "Allekirjoittanut Bo") || strings.Contains(string(page1), "Cecilie") {
		t.Errorf("page 1 text:\n%s", page1)
	}
}

// A bad placement is refused before anything is signed, naming the placement.
func TestPlacementOnMissingPageRefused(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	req := seal.Request{SignatoryName: "Ada", Time: time.Now(), DocumentID: "DOC-9", Placements: []seal.Placement{{Page: 5, X: 10, Y: 10, Width: 100, Height: 50}}}
	if _, err := s.Seal(context.Background(), pdftest.Make(t, 2, 0), req); err == nil || !strings.Contains(err.Error(), "placements[0].page") {
		t.Fatalf("Seal = %v, want an error naming placements[0].page", err)
	}
}
