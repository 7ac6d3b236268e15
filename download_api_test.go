package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// TestSignatoryDownloadOverGraphQL: through the signatory API, download is null while the order
// is open; after a close with retention a drawn signature's signatory gets the signed document
// without a login (the bytes the application gets too) and Signatory.downloadHref points at the
// hosted download page for a READ_WRITE key only; after cleanup the download is expired.
func TestSignatoryDownloadOverGraphQL(t *testing.T) {
	s := startServer(t, embedded, nil)
	doc := pdfDoc("Lease", pdftest.Make(t, 1, 0))
	doc["pdf"].(map[string]any)["reference"] = "lease"
	r, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id evidenceProviders { id } signatories { id token } } } }`,
		map[string]any{"input": map[string]any{
			"documents":         []any{doc},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories":       []any{map[string]any{"documents": []any{map[string]any{"id": "lease", "preapproved": true}}}},
		}})
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID, Token string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || r.firstError() != "" {
		t.Fatalf("create: %s %q", r.Data, r.firstError())
	}
	o := created.CreateSignatureOrder.SignatureOrder
	asSignatory := http.Header{"Signatory-Token": {o.Signatories[0].Token}}
	download := func() (json.RawMessage, string) {
		t.Helper()
		r, _, _ := s.graphqlWith(t, asSignatory, `{ viewer { ... on SignatoryViewer { download {
			expired verificationRequired documents { edges { node { id ... on PdfDocument { blob } } } } } } } }`, nil)
		var v struct {
			Viewer struct{ Download json.RawMessage }
		}
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatalf("viewer: %s", r.Data)
		}
		return v.Viewer.Download, r.firstError()
	}
	if d, msg := download(); msg != "" || string(d) != "null" {
		t.Errorf("download while the order is open: %s %q, want null", d, msg)
	}
	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: $p, noop: true}}) { signatory { status } } }`,
		map[string]any{"s": o.Signatories[0].ID, "p": o.EvidenceProviders[0].ID}); r.firstError() != "" {
		t.Fatalf("sign: %s", r.firstError())
	}
	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o, retainDocumentsForDays: 1}) {
		signatureOrder { documents { ... on PdfDocument { blob } } signatories { downloadHref } } } }`, map[string]any{"o": o.ID})
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Documents   []struct{ Blob string }
				Signatories []struct{ DownloadHref *string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &closed); err != nil || r.firstError() != "" {
		t.Fatalf("close: %.300s %q", r.Data, r.firstError())
	}
	href := closed.CloseSignatureOrder.SignatureOrder.Signatories[0].DownloadHref
	if href == nil || !strings.HasPrefix(*href, s.URL+"/sign/") || !strings.HasSuffix(*href, "/download") {
		t.Errorf("downloadHref after the close: %v, want the hosted download page", href)
	}
	signed, _ := base64.StdEncoding.DecodeString(closed.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)

	d, msg := download()
	var got struct {
		Expired, VerificationRequired bool
		Documents                     struct {
			Edges []struct{ Node struct{ ID, Blob string } }
		}
	}
	if err := json.Unmarshal(d, &got); err != nil || msg != "" {
		t.Fatalf("download after the close: %s %q", d, msg)
	}
	if got.Expired || got.VerificationRequired || len(got.Documents.Edges) != 1 {
		t.Fatalf("download after the close: %s", d)
	}
	if b, _ := base64.StdEncoding.DecodeString(got.Documents.Edges[0].Node.Blob); len(signed) == 0 || !bytes.Equal(b, signed) {
		t.Errorf("the signatory downloads %d bytes, not the %d signed bytes the application got", len(b), len(signed))
	}

	r, _ = s.graphql(t, s.readKey.basic(), `query($o: ID!) { signatureOrder(id: $o) { signatories { downloadHref } } }`, map[string]any{"o": o.ID})
	if !strings.Contains(string(r.Data), `"downloadHref":null`) || r.firstError() != "" {
		t.Errorf("a READ_ONLY key sees %s %q, want downloadHref null (it carries the signatory's token)", r.Data, r.firstError())
	}

	// The completion certificate of the retained close: a sealed PDF quoting the trail.
	certificate := func() []byte {
		t.Helper()
		r, _ := s.graphql(t, s.readKey.basic(), `query($o: ID!) { signatureOrder(id: $o) { completionCertificate } }`, map[string]any{"o": o.ID})
		var out struct {
			SignatureOrder struct{ CompletionCertificate *string }
		}
		if err := json.Unmarshal(r.Data, &out); err != nil || r.firstError() != "" {
			t.Fatalf("completionCertificate: %.200s %q", r.Data, r.firstError())
		}
		if out.SignatureOrder.CompletionCertificate == nil {
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(*out.SignatureOrder.CompletionCertificate)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cert := certificate()
	if !bytes.HasPrefix(cert, []byte("%PDF-")) {
		t.Fatalf("the completion certificate after a retained close: %.40q", cert)
	}
	pdftest.QPDFCheck(t, cert)
	pdftest.RequireOpenSSLValid(t, cert, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"), 1, 1)

	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { cleanupSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`,
		map[string]any{"o": o.ID}); r.firstError() != "" {
		t.Fatalf("cleanup: %s", r.firstError())
	}
	if cert := certificate(); cert != nil {
		t.Errorf("the completion certificate outlives the documents: %d bytes after cleanup", len(cert))
	}
	d, msg = download()
	if msg != "" || !strings.Contains(string(d), `"expired":true`) || !strings.Contains(string(d), `"documents":null`) {
		t.Errorf("download after cleanup: %s %q, want expired without documents", d, msg)
	}

	// The audit trail has it all, the download with the signatory's address, in pages.
	type entry struct {
		Seq           int
		Kind          string
		SignatoryID   *string
		IP, UserAgent *string
		Details       []struct{ Key, Value string }
	}
	trail := func(after, first int) []entry {
		t.Helper()
		r, _ := s.graphql(t, s.readKey.basic(), `query($o: ID!, $a: Int, $f: Int) { signatureOrder(id: $o) {
			auditTrail(after: $a, first: $f) { seq kind signatoryId ip userAgent details { key value } } } }`,
			map[string]any{"o": o.ID, "a": after, "f": first})
		var out struct {
			SignatureOrder struct{ AuditTrail []entry }
		}
		if err := json.Unmarshal(r.Data, &out); err != nil || r.firstError() != "" {
			t.Fatalf("auditTrail: %s %q", r.Data, r.firstError())
		}
		return out.SignatureOrder.AuditTrail
	}
	all := trail(0, 500)
	kinds := map[string]entry{}
	for i, e := range all {
		if e.Seq != i+1 {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		kinds[e.Kind] = e
	}
	for _, k := range []string{"order.created", "signatory.signed", "order.closed", "document.downloaded", "documents.deleted"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("the trail has no %s: %+v", k, all)
		}
	}
	if dl := kinds["document.downloaded"]; dl.IP == nil || *dl.IP != "127.0.0.1" || dl.UserAgent == nil || *dl.UserAgent == "" {
		t.Errorf("the download is recorded without the person's address: %+v", dl)
	}
	if signed := kinds["signatory.signed"]; signed.IP != nil {
		t.Errorf("signActingAs is the application's act, recorded with an address: %+v", signed)
	}
	if page := trail(1, 2); len(page) != 2 || page[0].Seq != 2 || page[1].Seq != 3 {
		t.Errorf("the page after 1 of 2 entries: %+v", page)
	}
}
