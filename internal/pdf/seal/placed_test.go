package seal_test

import (
	"context"
	"encoding/pem"
	"fmt"
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
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
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
		requirePyHankoSealed(t, out, root, i+1)
	}
	closed, err := f.Finalize(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, closed)
	requirePyHankoClosed(t, closed, root, len(steps))
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

// requirePyHankoSealed checks a document after its n-th seal with pyHanko: every seal is intact,
// valid and trusted; each earlier one is extended at FORM_FILLING (a later seal fills a new
// signature field and draws it in its own widget, placed or on the seals page: pyHanko's
// SigFieldCreationRule), the last covers the whole file.
func requirePyHankoSealed(t *testing.T, doc, root []byte, n int) {
	t.Helper()
	results := pdftest.RequirePyHankoValid(t, doc, root, n, pdftest.LevelFormFilling)
	for i, r := range results {
		want := pdftest.LevelFormFilling
		if i == n-1 {
			want = pdftest.LevelNone
		}
		if r.Level != want || r.Timestamp {
			t.Errorf("after seal %d, pyHanko on seal %d (%s): level %s, timestamp %t; want %s, a signature", n, i+1, r.Field, r.Level, r.Timestamp, want)
		}
	}
}

// requirePyHankoClosed checks a closed document of n seals with pyHanko: n seals and the document
// timestamp, every one intact, valid and trusted with revocation from the DSS alone (hard-fail: an
// OCSP response or CRL missing for any certificate makes it untrusted).
//
// Every seal but the last is at FORM_FILLING (later seals added fields); the last seal is at
// LTA_UPDATES, the close alone (DSS and document timestamp). That holds because the document
// timestamp's invisible widget carries no /AP: pyHanko counts a new signature field's appearance as
// form filling even when the field is invisible.
func requirePyHankoClosed(t *testing.T, doc, root []byte, n int) {
	t.Helper()
	results := pdftest.RequirePyHankoValid(t, doc, root, n+1, pdftest.LevelFormFilling)
	for i, r := range results {
		want, timestamp := pdftest.LevelFormFilling, false
		switch i {
		case n - 1:
			want = pdftest.LevelLTAUpdates
		case n:
			want, timestamp = pdftest.LevelNone, true
		}
		if r.Level != want || r.Timestamp != timestamp || r.RevocationMode != "hard-fail" {
			t.Errorf("closed, pyHanko on signature %d (%s): level %s, timestamp %t, revocation %s; want %s, %t, hard-fail (from the DSS)",
				i+1, r.Field, r.Level, r.Timestamp, r.RevocationMode, want, timestamp)
		}
	}
}

// Only placed seals, or only seals-page seals, then the close: what pyHanko says after each step.
func TestPlacedSealsPyHankoLevels(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	f := &seal.Finalizer{TSA: p.TSA, Revocation: p.Revocation()}
	ctx := context.Background()
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
	cases := []struct {
		name   string
		placed []bool // per seal: placed on page 1, else on the seals page
	}{
		{"placed only", []bool{true, true, true}},
		{"seals page only", []bool{false, false, false}},
		{"placed after the seals page", []bool{false, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := pdftest.Make(t, 2, 0)
			for i, placed := range tc.placed {
				req := seal.Request{SignatoryName: fmt.Sprintf("Signatory %d", i+1), SealIndex: i, Time: time.Now(), MaxSignatories: len(tc.placed),
					DocumentID: "DOC-P", Evidence: evidence.Evidence{Type: evidence.TypeDrawable}}
				if placed {
					req.Placements = []seal.Placement{{Page: 1, X: 40 + float64(i)*170, Y: 60, Width: 160, Height: 70}}
				}
				var err error
				if out, err = s.Seal(ctx, out, req); err != nil {
					t.Fatalf("seal %d: %v", i+1, err)
				}
				requirePyHankoSealed(t, out, root, i+1)
			}
			closed, err := f.Finalize(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			requirePyHankoClosed(t, closed, root, len(tc.placed))
		})
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
