package signing_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// A SIGNER with one SIGNER and one VIEWER document: only the SIGNER one needs approval and is sealed.
func TestSignSealsOnlySignerDocuments(t *testing.T) {
	sealer := &markSealer{}
	e := newEnvWith(t, sealer, nil)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	ctx := context.Background()
	viewer := order.RoleViewer
	o, err := e.svc.CreateOrder(ctx, p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}}},
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: "Sign", Reference: ptr("sign"), StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
			{Kind: order.DocumentPDF, Title: "View", Reference: ptr("view"), StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
		},
		Signatories: []order.SignatoryDraft{{Documents: []order.SignatoryDocument{{ID: "sign"}, {ID: "view", Role: &viewer}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	signDoc, viewDoc := o.Documents[0].ID, o.Documents[1].ID
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	in := signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true}

	// The stored order keeps the role.
	stored, err := e.svc.Order(ctx, p, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := stored.Signatories[0].DocumentRole(viewDoc); r != order.RoleViewer {
		t.Fatalf("stored role of the VIEWER document %s", r)
	}
	if _, _, err := e.svc.SetDocumentStatus(ctx, sp, viewDoc, order.DocumentApproved); err == nil {
		t.Fatal("approved a VIEWER document")
	}
	if _, _, err := e.svc.Sign(ctx, sp, in); err == nil || !strings.Contains(err.Error(), "approved") {
		t.Fatalf("signed before approving the SIGNER document: %v", err)
	}
	if _, _, err := e.svc.SetDocumentStatus(ctx, sp, signDoc, order.DocumentApproved); err != nil {
		t.Fatal(err)
	}
	view, err := e.svc.SignatoryView(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Documents) != 2 || view.Document(viewDoc).Role != order.RoleViewer || !view.AllApproved {
		t.Fatalf("view: %d documents, VIEWER document role %s, all approved %v", len(view.Documents), view.Document(viewDoc).Role, view.AllApproved)
	}
	// Form values for the VIEWER document would be written nowhere: refused, naming the document.
	withForm := in
	withForm.Documents = []signing.DocumentForm{{DocumentID: viewDoc, Fields: []signing.FormValue{{Field: "name", Value: "x"}}}}
	if _, _, err := e.svc.Sign(ctx, sp, withForm); err == nil || !strings.Contains(err.Error(), "documents[0].id: document View is this signatory's to view, not to sign") {
		t.Fatalf("form values for a VIEWER document: %v", err)
	}
	got, sig, err := e.svc.Sign(ctx, sp, in)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Status != order.SignatorySigned || sealer.calls.Load() != 1 {
		t.Fatalf("status %s after %d seals, want SIGNED after 1", sig.Status, sealer.calls.Load())
	}
	if n := len(got.Document(signDoc).Versions); n != 2 {
		t.Fatalf("SIGNER document has %d versions, want 2", n)
	}
	if n := len(got.Document(viewDoc).Versions); n != 1 {
		t.Fatalf("VIEWER document has %d versions, want 1 (not sealed)", n)
	}
	b, err := e.svc.DocumentBytes(ctx, p, got.ID, viewDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Current, b.Original) || bytes.Contains(b.Current, []byte("sealed #")) {
		t.Fatal("the VIEWER document was changed")
	}
}
