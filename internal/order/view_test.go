package order

import (
	"reflect"
	"testing"
	"time"
)

// viewOrder is an OPEN order expiring at expires with documents a, b and c and signatories: an
// approver (sequence 1), a signer (sequence 2) given a and b with b preapproved, and a viewer
// (sequence 3).
func viewOrder(expires time.Time) *SignatureOrder {
	return &SignatureOrder{
		ID: "o", Status: StatusOpen, ExpiresAt: expires,
		Documents: []Document{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}, {ID: "c", Title: "C"}},
		EvidenceProviders: []EvidenceProvider{
			{ID: "p1", Kind: ProviderNoop, Noop: &NoopProvider{Name: "one"}, EnabledByDefault: true},
			{ID: "p2", Kind: ProviderNoop, Noop: &NoopProvider{Name: "two"}},
		},
		Signatories: []Signatory{
			{ID: "approver", Status: SignatoryOpen, SignatoryRole: RoleApprover, SigningSequence: 1},
			{ID: "signer", Status: SignatoryOpen, SignatoryRole: RoleSigner, SigningSequence: 2,
				Documents: []SignatoryDocument{{ID: "a"}, {ID: "b", Preapproved: true}}},
			{ID: "viewer", Status: SignatoryOpen, SignatoryRole: RoleViewer, SigningSequence: 3},
		},
	}
}

func TestViewBlocked(t *testing.T) {
	now := time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		signatory string
		change    func(o *SignatureOrder)
		want      Blocked
	}{
		{"the first in sequence may act", "approver", nil, BlockedNone},
		{"a later signer waits", "signer", nil, BlockedNotTurn},
		{"a viewer is never not their turn", "viewer", nil, BlockedNone},
		{"the signer's turn once the approver approved", "signer", func(o *SignatureOrder) {
			o.Signatories[0].Status = SignatoryApproved
		}, BlockedNone},
		{"signed", "signer", func(o *SignatureOrder) { o.Signatories[1].Status = SignatorySigned }, BlockedSigned},
		{"approved", "approver", func(o *SignatureOrder) { o.Signatories[0].Status = SignatoryApproved }, BlockedApproved},
		{"rejected", "approver", func(o *SignatureOrder) { o.Signatories[0].Status = SignatoryRejected }, BlockedRejected},
		{"closed", "approver", func(o *SignatureOrder) { o.Status = StatusClosed }, BlockedClosed},
		{"cancelled", "approver", func(o *SignatureOrder) { o.Status = StatusCancelled }, BlockedCancelled},
		{"expired by the sweeper", "approver", func(o *SignatureOrder) { o.Status = StatusExpired }, BlockedExpired},
		{"expired by the clock, still OPEN", "approver", func(o *SignatureOrder) { o.ExpiresAt = now }, BlockedExpired},
		{"expired before the turn counts", "signer", func(o *SignatureOrder) { o.ExpiresAt = now.Add(-time.Hour) }, BlockedExpired},
		{"a signatory in no known state", "approver", func(o *SignatureOrder) { o.Signatories[0].Status = "ERROR" }, BlockedNotOpen},
		// What the signatory did comes before what became of the order.
		{"signed, then closed", "signer", func(o *SignatureOrder) {
			o.Signatories[1].Status, o.Status = SignatorySigned, StatusClosed
		}, BlockedSigned},
		{"rejected, then expired", "approver", func(o *SignatureOrder) {
			o.Signatories[0].Status, o.Status = SignatoryRejected, StatusExpired
		}, BlockedRejected},
		{"closed before expired", "approver", func(o *SignatureOrder) {
			o.Status, o.ExpiresAt = StatusClosed, now.Add(-time.Hour)
		}, BlockedClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := viewOrder(now.Add(time.Hour))
			if tt.change != nil {
				tt.change(o)
			}
			if got := o.ViewOf(o.Signatory(tt.signatory), now, true).Blocked; got != tt.want {
				t.Errorf("Blocked = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestViewUI(t *testing.T) {
	now := time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)
	redirect, style := "https://example.com/done", "https://example.com/brand.css"
	orderLogo, ownLogo := &Logo{Src: "https://example.com/order.png"}, &Logo{Src: "https://example.com/mine.png"}
	orderUI := UI{Language: "EN_US", SignatoryRedirectURI: &redirect, Stylesheet: &style, Logo: orderLogo}
	tests := []struct {
		name string
		sig  *UI
		want UI
	}{
		{"no signatory ui: the order's", nil, orderUI},
		{"the signatory's language keeps the order's logo", &UI{Language: "DA_DK"},
			UI{Language: "DA_DK", SignatoryRedirectURI: &redirect, Stylesheet: &style, Logo: orderLogo}},
		{"the signatory's own logo wins", &UI{Language: "SV_SE", Logo: ownLogo, DisableRejection: true},
			UI{Language: "SV_SE", SignatoryRedirectURI: &redirect, Stylesheet: &style, Logo: ownLogo, DisableRejection: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := viewOrder(now.Add(time.Hour))
			o.UI = orderUI
			o.Signatories[0].UI = tt.sig
			if got := o.ViewOf(&o.Signatories[0], now, false).UI; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UI = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestViewDocumentsAndProviders(t *testing.T) {
	now := time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)
	st := func(s DocumentStatus) *DocumentStatus { return &s }
	type doc struct {
		id     string
		status *DocumentStatus
	}
	tests := []struct {
		name        string
		signatory   string
		change      func(o *SignatureOrder)
		docs        []doc
		allApproved bool
		providers   []string
	}{
		{"every document, none acted on", "approver", nil,
			[]doc{{"a", nil}, {"b", nil}, {"c", nil}}, false, []string{"p1"}},
		{"the signer's subset, one preapproved", "signer", nil,
			[]doc{{"a", nil}, {"b", st(DocumentPreapproved)}}, false, []string{"p1"}},
		{"opened is not approved", "signer", func(o *SignatureOrder) {
			o.Signatories[1].DocumentStatus = map[string]DocumentStatus{"a": DocumentOpened}
		}, []doc{{"a", st(DocumentOpened)}, {"b", st(DocumentPreapproved)}}, false, []string{"p1"}},
		{"approved and preapproved", "signer", func(o *SignatureOrder) {
			o.Signatories[1].DocumentStatus = map[string]DocumentStatus{"a": DocumentApproved}
		}, []doc{{"a", st(DocumentApproved)}, {"b", st(DocumentPreapproved)}}, true, []string{"p1"}},
		{"a rejection", "signer", func(o *SignatureOrder) {
			o.Signatories[1].DocumentStatus = map[string]DocumentStatus{"a": DocumentRejected}
		}, []doc{{"a", st(DocumentRejected)}, {"b", st(DocumentPreapproved)}}, false, []string{"p1"}},
		{"signed", "signer", func(o *SignatureOrder) {
			o.Signatories[1].DocumentStatus = map[string]DocumentStatus{"a": DocumentSigned, "b": DocumentSigned}
		}, []doc{{"a", st(DocumentSigned)}, {"b", st(DocumentSigned)}}, true, []string{"p1"}},
		{"a document no longer in the order is left out", "signer", func(o *SignatureOrder) {
			o.Documents = o.Documents[1:]
		}, []doc{{"b", st(DocumentPreapproved)}}, true, []string{"p1"}},
		{"the signatory's chosen providers", "approver", func(o *SignatureOrder) {
			o.Signatories[0].EvidenceProviders = []string{"p2"}
		}, []doc{{"a", nil}, {"b", nil}, {"c", nil}}, false, []string{"p2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := viewOrder(now.Add(time.Hour))
			if tt.change != nil {
				tt.change(o)
			}
			v := o.ViewOf(o.Signatory(tt.signatory), now, true)
			var got []doc
			for _, d := range v.Documents {
				got = append(got, doc{d.Document.ID, d.Status})
			}
			if !reflect.DeepEqual(got, tt.docs) {
				t.Errorf("documents = %v, want %v", got, tt.docs)
			}
			if v.AllApproved != tt.allApproved {
				t.Errorf("AllApproved = %v, want %v", v.AllApproved, tt.allApproved)
			}
			var providers []string
			for _, p := range v.Providers {
				providers = append(providers, p.ID)
			}
			if !reflect.DeepEqual(providers, tt.providers) {
				t.Errorf("providers = %v, want %v", providers, tt.providers)
			}
			if len(v.Documents) > 0 && v.Document(v.Documents[0].Document.ID) != &v.Documents[0] {
				t.Error("Document does not find the signatory's first document")
			}
			if v.Document("nope") != nil {
				t.Error("Document found a document that is not the signatory's")
			}
		})
	}
}

func TestViewLoginNeeded(t *testing.T) {
	now := time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		stages    []string
		validated bool
		needs     bool
		want      bool
	}{
		{"no stages", nil, false, false, false},
		{"SIGN only", []string{EvidenceStageSign}, false, false, false},
		{"VIEW, not logged in", []string{EvidenceStageSign, EvidenceStageView}, false, true, true},
		{"VIEW, logged in", []string{EvidenceStageView}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := viewOrder(now.Add(time.Hour))
			o.EvidenceValidationStages = tt.stages
			if got := o.NeedsViewLogin(); got != tt.needs {
				t.Errorf("NeedsViewLogin = %v, want %v", got, tt.needs)
			}
			v := o.ViewOf(&o.Signatories[0], now, tt.validated)
			if v.LoginNeeded != tt.want {
				t.Errorf("LoginNeeded = %v, want %v", v.LoginNeeded, tt.want)
			}
			if v.Order != o || v.Signatory != &o.Signatories[0] {
				t.Error("the view is not of the order and signatory asked for")
			}
		})
	}
}
