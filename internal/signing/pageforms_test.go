package signing_test

import (
	"context"
	"testing"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// TestSignatoryFormFields: the page's form listing is the document's form with Multiline, only for
// a form-enabled document of the signatory, and not before a VIEW-stage login the order requires.
func TestSignatoryFormFields(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	enabled := true
	create := func(stages []string) *order.SignatureOrder {
		t.Helper()
		d := order.Draft{
			EvidenceValidationStages: stages,
			Documents: []order.DocumentDraft{
				{Kind: order.DocumentPDF, Title: "Form", StorageMode: order.StorageModeTemporary, Data: pdftest.Form(t), FormEnabled: &enabled},
				{Kind: order.DocumentPDF, Title: "Same form, not enabled", StorageMode: order.StorageModeTemporary, Data: pdftest.Form(t)},
			},
			Signatories: []order.SignatoryDraft{{}},
		}
		if stages != nil {
			d.EvidenceProviders = []order.EvidenceProvider{{Kind: order.ProviderOIDC, EnabledByDefault: true,
				OIDC: &order.OIDCProvider{Name: "Bank ID", Domain: "https://id.example.com", ClientID: "c", Audience: "c"}}}
		}
		o, err := svc.CreateOrder(ctx, p, d)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	open, viewLogin := create(nil), create([]string{order.EvidenceStageView})
	sp := func(o *order.SignatureOrder) signing.SignatoryPrincipal {
		return signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	}
	tests := []struct {
		name      string
		sp        signing.SignatoryPrincipal
		document  string
		fields    int
		multiline []string
		code      fault.Code
	}{
		{"the enabled form", sp(open), open.Documents[0].ID, 6, []string{"note"}, ""},
		{"a form not enabled", sp(open), open.Documents[1].ID, 0, nil, ""},
		{"another order's document", sp(open), viewLogin.Documents[0].ID, 0, nil, fault.CodeInvalid},
		{"before the VIEW login", sp(viewLogin), viewLogin.Documents[0].ID, 0, nil, fault.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := svc.SignatoryFormFields(ctx, tt.sp, tt.document)
			if de, _ := fault.As(err); (tt.code == "" && err != nil) || (tt.code != "" && (de == nil || de.Code != tt.code)) {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if len(fields) != tt.fields {
				t.Fatalf("%d fields, want %d: %+v", len(fields), tt.fields, fields)
			}
			var multiline []string
			for _, f := range fields {
				if f.Multiline {
					multiline = append(multiline, f.Name)
				}
			}
			if len(multiline) != len(tt.multiline) || (len(multiline) > 0 && multiline[0] != tt.multiline[0]) {
				t.Errorf("multiline fields %v, want %v", multiline, tt.multiline)
			}
		})
	}
	// With the login the fields are listed.
	validated := sp(viewLogin)
	validated.ViewValidated = true
	if fields, err := svc.SignatoryFormFields(ctx, validated, viewLogin.Documents[0].ID); err != nil || len(fields) != 6 {
		t.Errorf("after the VIEW login: %d fields, %v", len(fields), err)
	}
}
