package graph

import (
	"context"
	"reflect"
	"testing"

	"esign/graph/model"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// TestViewerUIIsTheSignatorysUI: what a signatory's token shows as viewer.ui is what the
// application sees as signatory.ui, with the order's logo where the signatory's ui has none.
func TestViewerUIIsTheSignatorysUI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	orderLogo := &order.Logo{Src: "https://cdn.example.com/order.png"}
	ownLogo := &order.Logo{Src: "https://cdn.example.com/mine.png"}
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		UI: &order.UI{Language: "EN_US", Logo: orderLogo},
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Make(t, 1, 0)}},
		Signatories: []order.SignatoryDraft{
			{},
			{UI: &order.UI{Language: "DA_DK"}},
			{UI: &order.UI{Language: "SV_SE", Logo: ownLogo}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Service: svc}
	wantLogo := []string{orderLogo.Src, orderLogo.Src, ownLogo.Src}
	for i := range o.Signatories {
		s := &o.Signatories[i]
		signatory := r.signatoryModel(o, s)
		v, err := r.viewerOfSignatory(ctx, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: s.ID})
		if err != nil {
			t.Fatal(err)
		}
		viewer, ok := v.(*model.SignatoryViewer)
		if !ok {
			t.Fatalf("signatory %d: viewer %T", i, v)
		}
		if !reflect.DeepEqual(viewer.UI, signatory.UI) {
			t.Errorf("signatory %d: viewer.ui %+v, signatory.ui %+v", i, viewer.UI, signatory.UI)
		}
		if viewer.UI.Logo == nil || viewer.UI.Logo.Src != wantLogo[i] {
			t.Errorf("signatory %d: viewer.ui.logo %+v, want %s", i, viewer.UI.Logo, wantLogo[i])
		}
		if after := r.signatoryViewer(o, s, false).(*model.SignatoryViewer); !reflect.DeepEqual(after.UI, signatory.UI) {
			t.Errorf("signatory %d: a mutation's viewer.ui %+v, signatory.ui %+v", i, after.UI, signatory.UI)
		}
		if len(viewer.Documents.Edges) != len(signatory.Documents.Edges) {
			t.Errorf("signatory %d: viewer has %d documents, signatory %d", i, len(viewer.Documents.Edges), len(signatory.Documents.Edges))
		}
	}
}
