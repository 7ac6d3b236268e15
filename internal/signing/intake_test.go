package signing_test

import (
	"bytes"
	"context"
	"testing"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
	"esign/internal/tenant"
)

// TestCreateOrderAppliesDocumentOptions: what CreateOrder stores for each document option, through
// the real intake (pdf.Inspect and pdf.Inspector.Rewrite).
func TestCreateOrderAppliesDocumentOptions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	yes, no := true, false
	broken, sound := pdftest.BrokenXRef(t), pdftest.Make(t, 2, 0)
	signed := pdftest.Build(t, pdftest.Spec{Pages: 1, Signed: true})
	marked := pdftest.Build(t, pdftest.Spec{Pages: 2, Bookmarks: true})
	for _, tc := range []struct {
		name      string
		doc       order.DocumentDraft
		orderFix  *bool
		stored    func(t *testing.T, upload, stored []byte, info pdf.Info)
		wantField string
	}{
		{name: "a sound upload is stored as given", doc: order.DocumentDraft{Data: sound}, stored: same},
		{name: "a broken upload is stored repaired", doc: order.DocumentDraft{Data: broken}, stored: repaired},
		{name: "preserveOriginalStructure stores it as given", doc: order.DocumentDraft{Data: broken, PreserveOriginalStructure: &yes}, stored: same},
		{name: "fixDocumentFormattingErrors false on a broken upload is refused",
			doc: order.DocumentDraft{Data: broken, FixDocumentFormattingErrors: &no}, wantField: "documents[0].fixDocumentFormattingErrors"},
		{name: "a signed upload keeps its signatures", doc: order.DocumentDraft{Data: signed}, stored: same},
		{name: "removePreviousSignatures stores it unsigned", doc: order.DocumentDraft{Data: signed, RemovePreviousSignatures: &yes},
			stored: func(t *testing.T, upload, stored []byte, info pdf.Info) {
				repaired(t, upload, stored, info)
				if info.PreviouslySigned {
					t.Error("still signed")
				}
			}},
		{name: "removeBookmarks stores it without", doc: order.DocumentDraft{Data: marked, RemoveBookmarks: true},
			stored: func(t *testing.T, upload, stored []byte, info pdf.Info) {
				repaired(t, upload, stored, info)
				if info.HasBookmarks {
					t.Error("still has bookmarks")
				}
			}},
		{name: "removeBookmarks on a signed upload is refused", doc: order.DocumentDraft{Data: pdftest.Build(t, pdftest.Spec{Pages: 1, Signed: true, Bookmarks: true}), RemoveBookmarks: true},
			wantField: "documents[0].pdf.removeBookmarks"},
		{name: "keep and remove together are refused", doc: order.DocumentDraft{Data: signed, KeepPreviousSignatures: &yes, RemovePreviousSignatures: &yes},
			wantField: "documents[0].removePreviousSignatures"},
		{name: "the order's fixDocumentFormattingErrors rewrites a sound upload", orderFix: &yes, doc: order.DocumentDraft{Data: sound}, stored: repaired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			doc.Kind, doc.Title, doc.StorageMode = order.DocumentPDF, "Contract", order.StorageModeTemporary
			o, err := e.svc.CreateOrder(ctx, p, order.Draft{FixDocumentFormattingErrors: tc.orderFix,
				Signatories: []order.SignatoryDraft{{}}, Documents: []order.DocumentDraft{doc}})
			if tc.wantField != "" {
				if fe, ok := fault.As(err); !ok || fe.Code != fault.CodeInvalid || fe.Field != tc.wantField {
					t.Fatalf("CreateOrder: %v, want refused naming %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			info, err := pdf.Inspect(ctx, got.Current)
			if err != nil {
				t.Fatal(err)
			}
			tc.stored(t, doc.Data, got.Current, info)
		})
	}
}

func same(t *testing.T, upload, stored []byte, _ pdf.Info) {
	t.Helper()
	if !bytes.Equal(upload, stored) {
		t.Error("the stored document differs from the upload")
	}
}

func repaired(t *testing.T, upload, stored []byte, info pdf.Info) {
	t.Helper()
	if bytes.Equal(upload, stored) || info.Defect != "" {
		t.Errorf("stored: rewritten %v, defect %q; want a rewrite without defect", !bytes.Equal(upload, stored), info.Defect)
	}
	pdftest.QPDFCheck(t, stored)
}
