package main

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"esign/internal/pdf/pdftest"
)

type formField struct{ Field, Value string }

// TestDocumentFormFields: a form PDF's fields, with their values, are what PdfDocument.form lists,
// to the application and to the signatory, and only where the order enabled the form.
func TestDocumentFormFields(t *testing.T) {
	s := startServer(t, embedded, nil)
	withForm := pdfDoc("Application form", pdftest.Form(t))
	withForm["pdf"].(map[string]any)["form"] = map[string]any{"enabled": true}
	input := map[string]any{
		"documents":   []any{withForm, pdfDoc("Terms", pdftest.Form(t))},
		"signatories": []any{map[string]any{"reference": "one"}},
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder {
			documents { title ... on PdfDocument { form { enabled fields { field value } } } }
			signatories { token } } } }`, map[string]any{"input": input})
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				Documents []struct {
					Title string
					Form  *struct {
						Enabled bool
						Fields  []formField
					}
				}
				Signatories []struct{ Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil || resp.firstError() != "" {
		t.Fatalf("create: %s %v", resp.Data, resp.Errors)
	}
	want := []formField{{"agree", "true"}, {"country", "Norway"}, {"name", "Ada Lovelace"}, {"note", ""},
		{"plan", "basic"}, {"address.city", "Aarhus"}}
	o := out.CreateSignatureOrder.SignatureOrder
	if len(o.Documents) != 2 || o.Documents[0].Form == nil || !o.Documents[0].Form.Enabled ||
		!reflect.DeepEqual(o.Documents[0].Form.Fields, want) {
		t.Fatalf("application's form of the first document: %s", resp.Data)
	}
	if o.Documents[1].Form != nil {
		t.Errorf("a document without form.enabled lists a form: %+v", o.Documents[1].Form)
	}

	r, _, _ := s.graphqlWith(t, http.Header{"Signatory-Token": {o.Signatories[0].Token}}, `{ viewer { ... on SignatoryViewer {
		documents { edges { node { ... on PdfDocument { form { fields { field value } } } } } } } } }`, nil)
	var viewer struct {
		Viewer struct {
			Documents struct {
				Edges []struct {
					Node struct{ Form *struct{ Fields []formField } }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &viewer); err != nil || r.firstError() != "" || len(viewer.Viewer.Documents.Edges) != 2 {
		t.Fatalf("signatory's viewer: %s %v", r.Data, r.Errors)
	}
	if f := viewer.Viewer.Documents.Edges[0].Node.Form; f == nil || !reflect.DeepEqual(f.Fields, want) {
		t.Errorf("signatory's form: %s", r.Data)
	}
}
