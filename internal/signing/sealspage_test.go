package signing_test

import (
	"context"
	"testing"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/tenant"
)

// A seals page template goes through the document intake's checks and the template's rules at
// createSignatureOrder, each refusal naming the template's field; a valid one is accepted (what
// becomes of it: template_test.go).
func TestCreateOrderChecksSealsPageTemplate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	const f = "documents[0].pdf.sealsPageTemplate"
	one := pdftest.Make(t, 1, 0)
	for _, tc := range []struct {
		name     string
		tmpl     order.SealsPageTemplateDraft
		wantCode fault.Code
		want     string
	}{
		{"two pages", order.SealsPageTemplateDraft{Data: pdftest.Make(t, 2, 0), Area: [4]float64{40, 40, 555, 400}}, fault.CodeInvalid, f + ".blob"},
		{"encrypted", order.SealsPageTemplateDraft{Data: pdftest.Encrypted(t), Area: [4]float64{40, 40, 555, 400}}, fault.CodeInvalid, f + ".blob"},
		{"not a PDF", order.SealsPageTemplateDraft{Data: []byte("hello"), Area: [4]float64{40, 40, 555, 400}}, fault.CodeInvalid, f + ".blob"},
		{"area outside the page", order.SealsPageTemplateDraft{Data: one, Area: [4]float64{40, 40, 555, 900}}, fault.CodeInvalid, f + ".area"},
		{"slots too small for 14", order.SealsPageTemplateDraft{Data: one, Area: [4]float64{40, 40, 555, 150}}, fault.CodeInvalid, f + ".area"},
		{"valid", order.SealsPageTemplateDraft{Data: one, Area: [4]float64{40, 40, 555, 700}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := tc.tmpl
			_, err := e.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}},
				Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", StorageMode: order.StorageModeTemporary,
					Data: pdftest.Make(t, 2, 0), SealsPageTemplate: &tmpl}}})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("CreateOrder: %v, want the template accepted", err)
				}
				return
			}
			if fe, ok := fault.As(err); !ok || fe.Code != tc.wantCode || fe.Field != tc.want {
				t.Fatalf("CreateOrder: %v, want code %v on %q", err, tc.wantCode, tc.want)
			}
		})
	}
}
