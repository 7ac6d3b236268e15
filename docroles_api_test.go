package main

import (
	"encoding/json"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// TestDocumentRolesOverGraphQL: a signatory given one document to view and one to sign
// (SignatoryDocumentInput.signatoryRole) is signed for with signActingAs with only the SIGNER
// document preapproved, and after the close only that document carries a signature.
func TestDocumentRolesOverGraphQL(t *testing.T) {
	s := startServer(t, embedded, nil)
	view := pdfDoc("Terms", pdftest.Make(t, 1, 0))
	view["pdf"].(map[string]any)["reference"] = "terms"
	sign := pdfDoc("Contract", pdftest.Make(t, 1, 0))
	sign["pdf"].(map[string]any)["reference"] = "contract"
	r, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id documents { id reference } evidenceProviders { id } signatories { id } } } }`,
		map[string]any{"input": map[string]any{
			"documents":         []any{view, sign},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories": []any{map[string]any{"documents": []any{
				map[string]any{"id": "terms", "signatoryRole": "VIEWER"},
				map[string]any{"id": "contract", "signatoryRole": "SIGNER", "preapproved": true},
			}}},
		}})
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				Documents         []struct{ ID, Reference string }
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || r.firstError() != "" {
		t.Fatalf("create: %s %q", r.Data, r.firstError())
	}
	o := created.CreateSignatureOrder.SignatureOrder
	documentID := map[string]string{}
	for _, d := range o.Documents {
		documentID[d.Reference] = d.ID
	}

	// An APPROVER asked to sign a document is refused, naming the document's role.
	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($input: AddSignatoryInput!) { addSignatory(input: $input) { signatory { id } } }`,
		map[string]any{"input": map[string]any{"signatureOrderId": o.ID, "role": "x", "signatoryRole": "APPROVER",
			"documents": []any{map[string]any{"id": documentID["contract"], "signatoryRole": "SIGNER"}}}})
	if msg := r.firstError(); !strings.Contains(msg, "documents[0].signatoryRole") || !strings.Contains(msg, "more than the signatory's own role APPROVER") {
		t.Fatalf("an APPROVER with a SIGNER document: %s %q", r.Data, msg)
	}

	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: $p, noop: true}}) { signatory { status } } }`,
		map[string]any{"s": o.Signatories[0].ID, "p": o.EvidenceProviders[0].ID})
	var signed struct {
		SignActingAs struct{ Signatory struct{ Status string } }
	}
	if err := json.Unmarshal(r.Data, &signed); err != nil || r.firstError() != "" || signed.SignActingAs.Signatory.Status != "SIGNED" {
		t.Fatalf("signActingAs: %s %q", r.Data, r.firstError())
	}

	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o}) {
		signatureOrder { documents { reference ... on PdfDocument { signatures { __typename } } } } } }`, map[string]any{"o": o.ID})
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Documents []struct {
					Reference  string
					Signatures []struct {
						Typename string `json:"__typename"`
					}
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &closed); err != nil || r.firstError() != "" {
		t.Fatalf("close: %.300s %q", r.Data, r.firstError())
	}
	count := map[string]int{}
	for _, d := range closed.CloseSignatureOrder.SignatureOrder.Documents {
		count[d.Reference] = len(d.Signatures)
	}
	if len(count) != 2 || count["terms"] != 0 || count["contract"] != 1 {
		t.Fatalf("signatures per document %v, want only the SIGNER document (contract) signed once", count)
	}
}
