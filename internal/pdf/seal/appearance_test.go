package seal_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
)

// An integrator's appearance replaces the default lines in every language: the header first, the
// display name after the language's "Signed by", the identifier, the time, the footer instead of the
// kind of evidence, and the document ID last, with the language's label.
func TestSealLinesWithAppearance(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	a := &seal.Appearance{HeaderLeft: []string{"ACME A/S"}, DisplayName: []string{"Åse Ødegård", "CEO"}, Identifier: "PID 9208-2002-2-123456789012",
		Footer: []string{"Signed with MitID"}}
	for _, l := range i18n.Languages {
		t.Run(l.Code, func(t *testing.T) {
			tr := i18n.T(l.Code)
			req := seal.Request{SignatoryName: "ignored", Time: at, DocumentID: "D1", Language: l.Code,
				Evidence: evidence.Evidence{Type: evidence.TypeJWT}, Appearance: a}
			want := []string{"ACME A/S", tr("seal.signedBy") + " Åse Ødegård", "CEO", "PID 9208-2002-2-123456789012",
				"2026-06-01 10:00:00 UTC", "Signed with MitID", tr("seal.documentID") + " D1"}
			if got := seal.SealLines(req); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("lines %q, want %q", got, want)
			}
			// Parts left out keep their defaults.
			req.Appearance = &seal.Appearance{HeaderLeft: []string{"ACME"}}
			want = []string{"ACME", tr("seal.signedBy") + " ignored", "2026-06-01 10:00:00 UTC", tr("seal.eid"), tr("seal.documentID") + " D1"}
			if got := seal.SealLines(req); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("partial appearance: lines %q, want %q", got, want)
			}
		})
	}
}

// End to end through the domain's rendering: an order-level appearance filled from ID-token claims,
// sealed with displayDocumentID; the seals page shows the rendered texts, every page (the seals
// page too) the document ID, and a second seal adds no second ID.
func TestSealRendersAppearanceAndDocumentID(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	ctx := context.Background()
	appearance := &order.SignatureAppearance{IdentifierFromEvidence: []string{"cprNumberIdentifier", "sub"},
		HeaderLeft:  []order.SignatureAppearanceTemplate{{Template: "Company: {{org}}", Replacements: []order.SignatureAppearanceReplacement{{Placeholder: "{{org}}", FromEvidence: []string{"orgName"}}}}},
		DisplayName: []order.SignatureAppearanceTemplate{{Template: "{{n}}", Replacements: []order.SignatureAppearanceReplacement{{Placeholder: "{{n}}", FromEvidence: []string{"name"}}}}},
		Footer:      []order.SignatureAppearanceTemplate{{Template: "Verified by {{idp}}", Replacements: []order.SignatureAppearanceReplacement{{Placeholder: "{{idp}}", FromEvidence: []string{"idp"}}}}}}
	r := appearance.Render(map[string]any{"orgName": "Bølge ApS", "name": "Ærlig Øster", "sub": "{abc-123}", "idp": "MitID"})
	req := seal.Request{SignatoryName: "Fallback", Time: time.Now(), MaxSignatories: 2, DocumentID: "DOC-77", Language: "DA_DK",
		Evidence:          evidence.Evidence{Type: evidence.TypeJWT, Value: `{"jwt":"x"}`},
		Appearance:        &seal.Appearance{HeaderLeft: r.HeaderLeft, DisplayName: r.DisplayName, Identifier: r.Identifier, Footer: r.Footer},
		DisplayDocumentID: "BOTTOM"}
	doc := pdftest.Make(t, 2, 0)
	one, err := s.Seal(ctx, doc, req)
	if err != nil {
		t.Fatal(err)
	}
	req.SealIndex = 1
	two, err := s.Seal(ctx, one, req)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, two)
	text, err := pdftest.QPDF(t, two, "--show-npages")
	if err != nil || strings.TrimSpace(text) != "3" {
		t.Fatalf("pages %q %v", text, err)
	}
	all := squash(pdftotext(t, two, 0))
	for _, want := range []string{"Company: Bølge ApS", "Underskrevet af Ærlig Øster", "{abc-123}", "Verified by MitID"} {
		if strings.Count(all, squash(want)) != 2 {
			t.Errorf("pdftotext shows %q %d times, want once per seal:\n%s", want, strings.Count(all, squash(want)), all)
		}
	}
	if strings.Contains(all, "Fallback") {
		t.Errorf("the default name shows although the appearance has a display name")
	}
	// pdftotext folds text drawn twice at one place, so the stamps are counted in the file: one per
	// page, from the first seal only.
	if got := strings.Count(string(two), "/Subtype /Stamp /Name /EsignDocumentID"); got != 3 {
		t.Errorf("%d document ID stamps, want 3 (one per page, from the first seal)", got)
	}
	for page := 1; page <= 3; page++ {
		// The seals show "Dokument-ID DOC-77" too (the seals page has two); the stamps add one per page.
		want := 1
		if page == 3 {
			want = 3
		}
		if got := strings.Count(squash(pdftotext(t, two, page)), "Dokument-IDDOC-77"); got != want {
			t.Errorf("page %d shows the document ID %d times, want %d", page, got, want)
		}
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// pdftotext is the text of page (from 1; 0 for all) of data.
func pdftotext(t *testing.T, data []byte, page int) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is not installed: apt-get install poppler-utils")
	}
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-enc", "UTF-8"}
	if page > 0 {
		args = append(args, "-f", fmt.Sprint(page), "-l", fmt.Sprint(page))
	}
	out, err := exec.Command(bin, append(args, path, "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// With a seals page template the first seal appends the integrator's page, not the generated one,
// and the seals go in its area.
func TestSealOnTemplatePage(t *testing.T) {
	p := pkitest.New(t)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	ctx := context.Background()
	tmpl := pdftest.Build(t, pdftest.Spec{Pages: 1, Title: "template"}) // its page reads "Test document"
	req := seal.Request{SignatoryName: "Ada", Time: time.Now(), MaxSignatories: 2, DocumentID: "DOC-5", Language: "SV_SE",
		Evidence:          evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada"}`},
		SealsPageTemplate: &pades.SealsPageTemplate{Page: tmpl, Area: [4]float64{40, 40, 555, 300}, Columns: 2, Rows: 1}}
	one, err := s.Seal(ctx, pdftest.Make(t, 2, 0), req)
	if err != nil {
		t.Fatal(err)
	}
	req.SealIndex, req.SignatoryName = 1, "Bo"
	two, err := s.Seal(ctx, one, req)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, two)
	if pages(t, two) != "3" {
		t.Fatalf("pages %s, want 3", pages(t, two))
	}
	last := squash(pdftotext(t, two, 3))
	for _, want := range []string{"Testdocument", "UndertecknatavAda", "UndertecknatavBo"} {
		if !strings.Contains(last, want) {
			t.Errorf("the seals page lacks %q: %q", want, last)
		}
	}
	if strings.Contains(last, "Underskrifter") {
		t.Errorf("the generated seals page's title is on the template page: %q", last)
	}
}
