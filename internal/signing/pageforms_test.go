package signing_test

import (
	"context"
	"testing"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
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

// TestSignatoryFormFieldsReadOncePerVersion: the signing page's listing of a version is read from
// the blob once; later renders answer from memory (the blob gone proves it), and another version (a
// new blob key) is read afresh.
func TestSignatoryFormFieldsReadOncePerVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	enabled := true
	create := func() (*order.SignatureOrder, signing.SignatoryPrincipal) {
		t.Helper()
		o, err := svc.CreateOrder(ctx, p, order.Draft{Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Form",
			StorageMode: order.StorageModeTemporary, Data: pdftest.Form(t), FormEnabled: &enabled}}, Signatories: []order.SignatoryDraft{{}}})
		if err != nil {
			t.Fatal(err)
		}
		return o, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	}
	o, sp := create()
	first, err := svc.SignatoryFormFields(ctx, sp, o.Documents[0].ID)
	if err != nil || len(first) != 6 {
		t.Fatalf("first listing: %d fields, %v", len(first), err)
	}
	if err := blobs.Delete(ctx, o.Documents[0].Versions[0].BlobKey); err != nil {
		t.Fatal(err)
	}
	again, err := svc.SignatoryFormFields(ctx, sp, o.Documents[0].ID)
	if err != nil || len(again) != len(first) {
		t.Fatalf("the second listing read the blob again: %d fields, %v", len(again), err)
	}
	// Another order's version is another key: read from its own blob, not answered from memory.
	other, osp := create()
	if err := blobs.Delete(ctx, other.Documents[0].Versions[0].BlobKey); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignatoryFormFields(ctx, osp, other.Documents[0].ID); err == nil {
		t.Error("a version never listed was answered without its blob")
	}
}

// BenchmarkSignatoryFormFields is the signing page's form listing on a 20 MB form PDF: the first
// render of a version (read the blob, decrypt both layers, parse the form) and every later one.
func BenchmarkSignatoryFormFields(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	st, blobs := signingtest.Embedded(b, dir)
	cfg := signingtest.Config(signing.Config{})
	cfg.MaxDocumentBytes = 64 << 20 // the tests' 2 MiB is too small for the 20 MB form
	svc := signing.New(st, blobs, signingtest.FileKeys(b, dir), pdf.Inspect, cfg, signingtest.Discard())
	p := signingtest.Principal(b, svc, "app", tenant.KeyReadWrite)
	enabled := true
	create := func() (string, signing.SignatoryPrincipal) {
		o, err := svc.CreateOrder(ctx, p, order.Draft{Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Form",
			StorageMode: order.StorageModeTemporary, Data: pdftest.FormOfSize(b, 20_000_000), FormEnabled: &enabled}},
			Signatories: []order.SignatoryDraft{{}}})
		if err != nil {
			b.Fatal(err)
		}
		return o.Documents[0].ID, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	}
	b.Run("first render of a version", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			doc, sp := create() // a new version each time: nothing in memory
			b.StartTimer()
			if _, err := svc.SignatoryFormFields(ctx, sp, doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("later renders", func(b *testing.B) {
		doc, sp := create()
		if _, err := svc.SignatoryFormFields(ctx, sp, doc); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.SignatoryFormFields(ctx, sp, doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
