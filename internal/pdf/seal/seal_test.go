package seal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
	"esign/internal/signing"
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
	req := signing.SealRequest{SignatoryName: "Ada", Time: time.Now(), MaxSignatories: 3, DocumentID: "DOC-1",
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
	req := signing.SealRequest{SignatoryName: "Åse", Time: at, DocumentID: "D1", Language: "DA_DK", Timezone: "Europe/Copenhagen",
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
