package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
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
			id documents { id title ... on PdfDocument { form { enabled fields { field value } } } }
			evidenceProviders { id } signatories { token } } } }`, map[string]any{"input": input})
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID        string
				Documents []struct {
					ID    string
					Title string
					Form  *struct {
						Enabled bool
						Fields  []formField
					}
				}
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ Token string }
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

// TestSignFillsTheForm: sign's documents input fills the document's form in the signatory's
// revision; a value the form cannot take, or a document without form filling, is refused naming
// the input, and nothing is signed.
func TestSignFillsTheForm(t *testing.T) {
	s := startServer(t, embedded, nil)
	withForm := pdfDoc("Application form", pdftest.Form(t))
	withForm["pdf"].(map[string]any)["form"] = map[string]any{"enabled": true}
	input := map[string]any{
		"documents":         []any{withForm, pdfDoc("Terms", pdftest.Make(t, 1, 0))},
		"signatories":       []any{map[string]any{"reference": "one"}},
		"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "Test"}}},
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id documents { id } evidenceProviders { id } signatories { token } } } }`,
		map[string]any{"input": input})
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				Documents         []struct{ ID string }
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil || resp.firstError() != "" {
		t.Fatalf("create: %s %v", resp.Data, resp.Errors)
	}
	o := out.CreateSignatureOrder.SignatureOrder
	token, provider, form, terms := o.Signatories[0].Token, o.EvidenceProviders[0].ID, o.Documents[0].ID, o.Documents[1].ID
	for _, id := range []string{form, terms} {
		q := fmt.Sprintf(`mutation { updateSignatoryDocumentStatus(input: {documentId: %q, status: APPROVED}) { viewer { __typename } } }`, id)
		if r := signatoryGraphQL(t, s, token, "", q); strings.Contains(r, `"errors"`) {
			t.Fatalf("approve: %s", r)
		}
	}
	sign := func(documents string) string {
		return signatoryGraphQL(t, s, token, "", fmt.Sprintf(`mutation { sign(input: {id: %q, noop: true, documents: %s}) { viewer { __typename } } }`, provider, documents))
	}
	refused := []struct{ documents, want string }{
		{fmt.Sprintf(`[{id: %q, form: {fields: [{field: "name", value: "Ada"}, {field: "nickname", value: "x"}]}}]`, form),
			`documents[0].form.fields[1]: \"nickname\" is not a field of the document's form`},
		{fmt.Sprintf(`[{id: %q, form: {fields: [{field: "plan", value: "gold"}]}}]`, form),
			`documents[0].form.fields[0]: \"plan\" must be one of \"basic\", \"premium\"`},
		{fmt.Sprintf(`[{id: %q, form: {fields: [{field: "x", value: "y"}]}}]`, terms),
			`documents[0].form: document Terms was not created with form filling enabled`},
		{`[{id: "not-mine", form: {fields: []}}]`, `documents[0].id: is not one of this signatory's documents`},
	}
	for _, tc := range refused {
		if r := sign(tc.documents); !strings.Contains(r, tc.want) || !strings.Contains(r, "INVALID_INPUT") {
			t.Errorf("sign with %s:\n%s\nwant %s", tc.documents, r, tc.want)
		}
	}
	if r := sign(fmt.Sprintf(`[{id: %q, form: {fields: [{field: "name", value: "Åse Ødegård"}, {field: "agree", value: "false"}, {field: "country", value: "Sweden"}]}}]`, form)); strings.Contains(r, `"errors"`) {
		t.Fatalf("sign: %s", r)
	}
	r, _ := s.graphql(t, s.writeKey.basic(), `query($id: ID!) { signatureOrder(id: $id) { signatories { status }
		documents { ... on PdfDocument { form { fields { field value } } signatures { __typename } } } } }`, map[string]any{"id": o.ID})
	var after struct {
		SignatureOrder struct {
			Signatories []struct{ Status string }
			Documents   []struct {
				Form       *struct{ Fields []formField }
				Signatures []struct {
					Typename string `json:"__typename"`
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &after); err != nil || r.firstError() != "" || len(after.SignatureOrder.Documents) != 2 {
		t.Fatalf("after signing: %s %v", r.Data, r.Errors)
	}
	want := []formField{{"agree", "false"}, {"country", "Sweden"}, {"name", "Åse Ødegård"}, {"note", ""}, {"plan", "basic"}, {"address.city", "Aarhus"}}
	if f := after.SignatureOrder.Documents[0].Form; f == nil || !reflect.DeepEqual(f.Fields, want) {
		t.Errorf("form after signing: %s", r.Data)
	}
	if st := after.SignatureOrder.Signatories[0].Status; st != "SIGNED" || len(after.SignatureOrder.Documents[0].Signatures) != 1 {
		t.Errorf("signatory %s with %d signatures on the form, want SIGNED with 1 (the refused attempts signed nothing)", st, len(after.SignatureOrder.Documents[0].Signatures))
	}
}
