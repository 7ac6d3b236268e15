package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// TestDecompressionBombs sends documents whose streams inflate to hundreds of megabytes to
// validateDocument and createSignatureOrder: validation answers valid:false saying why, the order is
// refused naming the document and the rule, and nothing is stored.
func TestDecompressionBombs(t *testing.T) {
	s := startServer(t, embedded, nil)
	for name, bomb := range map[string][]byte{
		"object streams": pdftest.ObjStmBomb(t, 3, 64<<20),
		"metadata":       pdftest.MetadataBomb(t, 128<<20),
	} {
		t.Run(name, func(t *testing.T) {
			resp, status := s.graphql(t, s.writeKey.basic(), `mutation($in: ValidateDocumentInput!) {
  validateDocument(input: $in) { valid errors fixable } }`, map[string]any{"in": map[string]any{"pdf": base64.StdEncoding.EncodeToString(bomb)}})
			if status != http.StatusOK || len(resp.Errors) > 0 {
				t.Fatalf("validateDocument: HTTP %d, errors %v", status, resp.Errors)
			}
			var v struct {
				ValidateDocument struct {
					Valid   bool
					Errors  []string
					Fixable *bool
				}
			}
			if err := json.Unmarshal(resp.Data, &v); err != nil {
				t.Fatal(err)
			}
			out := v.ValidateDocument
			if out.Valid || len(out.Errors) != 1 || !strings.HasPrefix(out.Errors[0], "Document expands to more than ") ||
				!strings.Contains(out.Errors[0], "32 times its size") || out.Fixable == nil || *out.Fixable {
				t.Fatalf("validateDocument(bomb) = %+v, want valid:false, fixable:false and the decode limit", out)
			}

			resp, _ = s.graphql(t, s.writeKey.basic(), createMutation, map[string]any{"input": map[string]any{
				"documents": []any{pdfDoc("Contract", pdftest.Make(t, 1, 0)), pdfDoc("Annex B", bomb)}}})
			if msg := resp.firstError(); !strings.Contains(msg, "Document Annex B expands to more than ") {
				t.Fatalf("createSignatureOrder with a bomb: %q, want the document named with the rule", msg)
			}
		})
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `{ viewer { ... on Application { signatureOrders(first: 10) { totalCount } } } }`, nil)
	if !strings.Contains(string(resp.Data), `"totalCount":0`) {
		t.Errorf("orders after the bombs: %s %v", resp.Data, resp.Errors)
	}
	if n := countFiles(t, filepath.Join(s.env["DATA_DIR"], "blobs")); n != 0 {
		t.Errorf("%d blob files after the bombs, want 0", n)
	}
}
