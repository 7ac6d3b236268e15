package order

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// signingOrder has documents a and b and three signatories: an approver (sequence 1), a signer given
// a and b with b preapproved (sequence 2), and a viewer (sequence 3).
func signingOrder(t *testing.T) *SignatureOrder {
	t.Helper()
	o, err := Build(Draft{
		Documents: []DocumentDraft{
			{Kind: DocumentPDF, Title: "A", Reference: ptr("a"), StorageMode: StorageModeTemporary},
			{Kind: DocumentPDF, Title: "B", Reference: ptr("b"), StorageMode: StorageModeTemporary},
		},
		Signatories: []SignatoryDraft{
			{SignatoryRole: ptr(RoleApprover), SigningSequence: ptr(1)},
			{SigningSequence: ptr(2), Documents: []SignatoryDocument{{ID: "a"}, {ID: "b", Preapproved: true}}},
			{SignatoryRole: ptr(RoleViewer), SigningSequence: ptr(3)},
		},
	}, "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSigningSequenceAndApproval(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	o := signingOrder(t)
	approver, signer, viewer := o.Signatories[0].ID, o.Signatories[1].ID, o.Signatories[2].ID
	docA, docB := o.Documents[0].ID, o.Documents[1].ID

	if err := o.SetDocumentStatus(signer, docA, DocumentApproved, now); err == nil || !strings.Contains(err.Error(), "turn") {
		t.Fatalf("signer acted before the approver: %v", err)
	}
	if _, err := o.CheckCanSign(approver, now); err == nil {
		t.Fatal("an APPROVER may not sign")
	}
	for _, doc := range []string{docA, docB} {
		if err := o.SetDocumentStatus(approver, doc, DocumentApproved, now); err != nil {
			t.Fatal(err)
		}
	}
	if o.Signatory(approver).Status != SignatoryApproved {
		t.Fatalf("approver status %s after approving everything", o.Signatory(approver).Status)
	}
	// The signer's turn: b is preapproved, a is not yet approved.
	if _, err := o.CheckCanSign(signer, now); err == nil {
		t.Fatal("signed before approving document a")
	}
	if err := o.SetDocumentStatus(signer, docA, DocumentOpened, now); err != nil {
		t.Fatal(err)
	}
	if err := o.SetDocumentStatus(signer, docA, DocumentApproved, now); err != nil {
		t.Fatal(err)
	}
	if err := o.SetDocumentStatus(signer, docA, DocumentOpened, now); err != nil || *o.Signatory(signer).SignatoryDocumentStatus(docA) != DocumentApproved {
		t.Fatal("opening again undid the approval")
	}
	if st := o.Signatory(signer).SignatoryDocumentStatus(docB); st == nil || *st != DocumentPreapproved {
		t.Fatalf("document b status %v, want PREAPPROVED", st)
	}
	if _, err := o.CheckCanSign(signer, now); err != nil {
		t.Fatal(err)
	}
	o.MarkSigned(signer, time.Now())
	if s := o.Signatory(signer); s.Status != SignatorySigned || *s.SignatoryDocumentStatus(docA) != DocumentSigned {
		t.Fatalf("after signing: %+v", s)
	}
	if _, err := o.CheckCanSign(signer, now); err == nil {
		t.Fatal("signed twice")
	}
	// Viewers only open, and never block anyone.
	if err := o.SetDocumentStatus(viewer, docA, DocumentApproved, now); err == nil {
		t.Fatal("a VIEWER approved")
	}
	if err := o.SetDocumentStatus(viewer, docA, DocumentOpened, now); err != nil {
		t.Fatal(err)
	}
	if !o.AllCurrentSignatoriesSigned() {
		t.Fatal("everyone has acted, but the order says otherwise")
	}
}

func TestSignatoryRulesRefuse(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		act  func(o *SignatureOrder) error
		want string
	}{
		{"unknown signatory", func(o *SignatureOrder) error { return o.Reject("nobody", nil, now) }, "does not contain the defined signatory"},
		{"document not theirs", func(o *SignatureOrder) error {
			o.Signatories[0].Documents = []SignatoryDocument{{ID: o.Documents[0].ID}}
			return o.SetDocumentStatus(o.Signatories[0].ID, o.Documents[1].ID, DocumentApproved, now)
		}, "is not one of this signatory's documents"},
		{"bad status", func(o *SignatureOrder) error {
			return o.SetDocumentStatus(o.Signatories[0].ID, o.Documents[0].ID, DocumentSigned, now)
		}, "must be OPENED, APPROVED or REJECTED"},
		{"closed order", func(o *SignatureOrder) error {
			o.Status = StatusClosed
			return o.Reject(o.Signatories[0].ID, nil, now)
		}, "signature order is CLOSED"},
		{"expired", func(o *SignatureOrder) error {
			return o.Reject(o.Signatories[0].ID, nil, o.ExpiresAt)
		}, "expired"},
		{"rejection disabled", func(o *SignatureOrder) error {
			o.UI.DisableRejection = true
			return o.Reject(o.Signatories[0].ID, nil, now)
		}, "rejection is disabled"},
		{"reject twice", func(o *SignatureOrder) error {
			if err := o.Reject(o.Signatories[0].ID, ptr("no"), now); err != nil {
				return err
			}
			if *o.Signatories[0].StatusReason != "no" || o.Signatories[0].Status != SignatoryRejected {
				return nil
			}
			return o.Reject(o.Signatories[0].ID, nil, now)
		}, "is REJECTED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.act(signingOrder(t))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want %q", err, c.want)
			}
		})
	}
}

func TestTrackRecordsFirstOpening(t *testing.T) {
	o := signingOrder(t)
	first := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	id := o.Signatories[1].ID
	for i, at := range []time.Time{first, first.Add(time.Hour)} {
		if err := o.Track(id, false, at); err != nil {
			t.Fatal(err)
		}
		if got := o.Signatory(id).SignLinkOpenedAt; !got.Equal(first) {
			t.Fatalf("after call %d: opened at %v, want the first opening %v", i+1, got, first)
		}
	}
	if o.Signatory(id).DownloadLinkOpenedAt != nil {
		t.Error("a sign-link opening was recorded as a download")
	}
	if err := o.Track("nobody", true, first); err == nil {
		t.Error("tracked an unknown signatory")
	}
}

func TestUIForFallsBackToTheOrder(t *testing.T) {
	redirect, style := "https://example.com/done", "https://example.com/brand.css"
	own := "https://example.com/mine"
	orderUI := UI{Language: "EN_US", SignatoryRedirectURI: &redirect, Stylesheet: &style,
		Logo: &Logo{Src: "https://example.com/logo.png"}, DisableRejection: true}
	tests := []struct {
		name string
		sig  *UI
		want UI
	}{
		{"no signatory ui", nil, orderUI},
		{"language only keeps the order's redirect, logo and stylesheet", &UI{Language: "DA_DK"},
			UI{Language: "DA_DK", SignatoryRedirectURI: &redirect, Stylesheet: &style, Logo: orderUI.Logo}},
		{"the signatory's own redirect wins", &UI{Language: "SV_SE", SignatoryRedirectURI: &own, EnableCancel: true},
			UI{Language: "SV_SE", SignatoryRedirectURI: &own, Stylesheet: &style, Logo: orderUI.Logo, EnableCancel: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &SignatureOrder{UI: orderUI}
			got := o.UIFor(&Signatory{UI: tt.sig})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UIFor = %+v, want %+v", got, tt.want)
			}
		})
	}
}
