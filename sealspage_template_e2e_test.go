package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// e2eTemplateMarker is text only the integrator's seals page has, in an uncompressed content stream
// so that it is in the template's bytes as uploaded.
const e2eTemplateMarker = "Integrator Seals Page"

// TestSealsPageTemplateEndToEnd: createSignatureOrder with PadesDocumentSealsPageTemplateInput
// stores the template encrypted (no file under DATA_DIR holds its text); the signature lands on
// the integrator's page, which is the signed document's last page, and pdfsig trusts it; closing
// without retention leaves no blob, the template's included.
func TestSealsPageTemplateEndToEnd(t *testing.T) {
	s := startServer(t, embedded, nil)
	doc := pdfDoc("Contract", pdftest.Make(t, 2, 0))
	doc["pdf"].(map[string]any)["reference"] = "c"
	doc["pdf"].(map[string]any)["sealsPageTemplate"] = map[string]any{
		"blob":            base64.StdEncoding.EncodeToString(pdftest.SealsPageTemplate(t, e2eTemplateMarker)),
		"area":            map[string]any{"x1": 40, "y1": 40, "x2": 555, "y2": 700},
		"expectedColumns": 2, "expectedRows": 1,
	}
	r, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id evidenceProviders { id } signatories { id } } } }`,
		map[string]any{"input": map[string]any{
			"maxSignatories":    2,
			"documents":         []any{doc},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories":       []any{map[string]any{"documents": []any{map[string]any{"id": "c", "preapproved": true}}}},
		}})
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || r.firstError() != "" {
		t.Fatalf("create: %s %q", r.Data, r.firstError())
	}
	o := created.CreateSignatureOrder.SignatureOrder
	blobs := filepath.Join(s.env["DATA_DIR"], "blobs")
	if n := countFiles(t, blobs); n != 2 {
		t.Errorf("%d blob files after create, want 2 (the document and its template)", n)
	}
	err := filepath.WalkDir(s.env["DATA_DIR"], func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(e2eTemplateMarker)) {
			t.Errorf("%s holds the template's text in clear", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: $p, noop: true}}) { signatory { status } } }`,
		map[string]any{"s": o.Signatories[0].ID, "p": o.EvidenceProviders[0].ID}); r.firstError() != "" {
		t.Fatalf("sign: %s", r.firstError())
	}
	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o}) {
		signatureOrder { documents { ... on PdfDocument { blob } } } } }`, map[string]any{"o": o.ID})
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct{ Documents []struct{ Blob string } }
		}
	}
	if err := json.Unmarshal(r.Data, &closed); err != nil || r.firstError() != "" || len(closed.CloseSignatureOrder.SignatureOrder.Documents) != 1 {
		t.Fatalf("close: %.300s %q", r.Data, r.firstError())
	}
	data, err := base64.StdEncoding.DecodeString(closed.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := pdftest.QPDF(t, data, "--show-npages"); err != nil || strings.TrimSpace(n) != "3" {
		t.Fatalf("signed document: %q pages (%v), want 3 (two and the template's)", n, err)
	}
	pdfFile := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(pdfFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", "3", "-l", "3", pdfFile, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	last := strings.Join(strings.Fields(string(text)), " ")
	if !strings.Contains(last, e2eTemplateMarker) || !strings.Contains(last, "Signed by") || strings.Contains(last, "Signatures") {
		t.Errorf("the last page is not the integrator's page with the seal: %q", last)
	}
	nss := t.TempDir()
	for _, args := range [][]string{{"-N", "-d", "sql:" + nss, "--empty-password"},
		{"-A", "-d", "sql:" + nss, "-n", "esign", "-t", "CT,C,C", "-i", filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt")}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	report, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, pdfFile).CombinedOutput()
	if !strings.Contains(string(report), "Signature is Valid.") || !strings.Contains(string(report), "Certificate is Trusted.") ||
		strings.Contains(string(report), "Invalid") {
		t.Errorf("pdfsig:\n%s", report)
	}
	if n := countFiles(t, blobs); n != 0 {
		t.Errorf("%d blob files after closing without retention, want 0", n)
	}
}
