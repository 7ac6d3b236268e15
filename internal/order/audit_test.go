package order

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuditEntriesRecorded(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	person := &Actor{IP: "192.0.2.1", UserAgent: "UA/1"}
	approved := func(o *SignatureOrder) { // the approver has finished: the signer's turn
		for _, d := range o.Documents {
			if err := o.SetDocumentStatus(o.Signatories[0].ID, d.ID, DocumentApproved, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	reason := "wrong amount"
	for _, c := range []struct {
		name    string
		before  func(o *SignatureOrder)
		act     func(o *SignatureOrder) error
		want    []AuditKind
		details map[string]string // of the last entry
		person  bool              // acted as a person
		drop    bool              // the act drops the documents afterwards (as the service does)
		at      time.Time         // when the entries are, if not now (or RecordingAt's time)
	}{
		{name: "link opened", person: true, want: []AuditKind{AuditLinkOpened},
			act: func(o *SignatureOrder) error { return o.Track(o.Signatories[0].ID, false, now) }},
		{name: "link opened again", person: true, want: nil,
			before: func(o *SignatureOrder) { _ = o.Track(o.Signatories[0].ID, false, now) },
			act:    func(o *SignatureOrder) error { return o.Track(o.Signatories[0].ID, false, now) }},
		{name: "download link opened", person: true, want: []AuditKind{AuditDownloadLinkOpened},
			act: func(o *SignatureOrder) error { return o.Track(o.Signatories[2].ID, true, now) }},
		{name: "document opened", person: true, want: []AuditKind{AuditDocumentOpened},
			act: func(o *SignatureOrder) error {
				return o.SetDocumentStatus(o.Signatories[0].ID, o.Documents[0].ID, DocumentOpened, now)
			}},
		{name: "approver approves the last document", person: true,
			want: []AuditKind{AuditDocumentApproved, AuditSignatoryApproved},
			before: func(o *SignatureOrder) {
				_ = o.SetDocumentStatus(o.Signatories[0].ID, o.Documents[0].ID, DocumentApproved, now)
			},
			act: func(o *SignatureOrder) error {
				return o.SetDocumentStatus(o.Signatories[0].ID, o.Documents[1].ID, DocumentApproved, now)
			}},
		{name: "document rejected", person: true, want: []AuditKind{AuditDocumentRejected}, before: approved,
			act: func(o *SignatureOrder) error {
				return o.SetDocumentStatus(o.Signatories[1].ID, o.Documents[0].ID, DocumentRejected, now)
			}},
		{name: "refused act records nothing", person: true, want: nil,
			act: func(o *SignatureOrder) error {
				if err := o.SetDocumentStatus(o.Signatories[1].ID, o.Documents[0].ID, DocumentApproved, now); err == nil {
					t.Error("the signer acted before their turn")
				}
				return nil
			}},
		{name: "rejected", person: true, want: []AuditKind{AuditSignatoryRejected}, details: map[string]string{"reason": reason},
			act: func(o *SignatureOrder) error { return o.Reject(o.Signatories[0].ID, &reason, now) }},
		{name: "signed after a login", person: true, before: approved,
			want:    []AuditKind{AuditSignatoryLogin, AuditDocumentSealed, AuditSignatorySigned},
			details: map[string]string{"provider": "p1", "providerKind": "criiptoVerify", "name": "Ada", "claims": "name,sub"},
			act: func(o *SignatureOrder) error {
				d := o.Document(o.Documents[0].ID)
				d.Versions = append(d.Versions, DocumentVersion{Number: 0}, DocumentVersion{Number: 1, SignedBy: o.Signatories[1].ID, Fingerprint: "hmac-sha256:ff"})
				o.MarkSignedWith(o.Signatories[1].ID, now, SignatureProof{ProviderID: "p1", ProviderKind: ProviderCriiptoVerify,
					Name: "Ada", ClaimNames: []string{"sub", "name"}, Login: true, SHA256: map[string]string{d.ID: "abc"}})
				return nil
			}},
		{name: "sign error", person: true, want: []AuditKind{AuditSignatorySignFailed}, details: map[string]string{"error": "TSA down"},
			act: func(o *SignatureOrder) error { o.SignError(o.Signatories[1].ID, "TSA down", now); return nil }},
		{name: "view login", person: true, want: []AuditKind{AuditSignatoryLogin},
			details: map[string]string{"provider": "p1", "providerKind": "oidc", "stage": EvidenceStageView, "claims": "email"},
			act: func(o *SignatureOrder) error {
				o.RecordLogin(o.Signatories[0].ID, EvidenceStageView, SignatureProof{ProviderID: "p1", ProviderKind: ProviderOIDC,
					ClaimNames: []string{"email"}}, now)
				return nil
			}},
		{name: "original stored", want: []AuditKind{AuditDocumentStored}, at: testEnv().Now,
			details: map[string]string{"version": "0", "sha256": "00ff", "fingerprint": "hmac-sha256:aa", "size": "12"},
			act: func(o *SignatureOrder) error {
				o.RecordStored(o.Documents[0].ID, DocumentVersion{Number: 0, Size: 12, Fingerprint: "hmac-sha256:aa", CreatedAt: testEnv().Now}, "00ff")
				return nil
			}},
		{name: "document downloaded", person: true, want: []AuditKind{AuditDocumentDownloaded}, details: map[string]string{"version": "2"},
			act: func(o *SignatureOrder) error {
				o.RecordDownload(o.Signatories[2].ID, o.Documents[0].ID, 2, now)
				return nil
			}},
		{name: "signatory changed", want: []AuditKind{AuditSignatoryChanged},
			act: func(o *SignatureOrder) error {
				return o.ChangeSignatory(o.Signatories[0].ID, SignatoryDraft{Role: ptr("CEO")})
			}},
		{name: "signatory deleted", want: []AuditKind{AuditSignatoryDeleted},
			act: func(o *SignatureOrder) error { return o.DeleteSignatory(o.Signatories[2].ID) }},
		{name: "signatory added", want: []AuditKind{AuditSignatoryAdded}, details: map[string]string{"role": "SIGNER"}, at: testEnv().Now,
			act: func(o *SignatureOrder) error {
				_, err := o.AddSignatories("signatories", []SignatoryDraft{{}}, testEnv(), false)
				return err
			}},
		{name: "order changed", want: []AuditKind{AuditOrderChanged}, details: map[string]string{"maxSignatories": "5", "webhook": "changed"},
			act: func(o *SignatureOrder) error {
				return o.Change(ptr(5), &Webhook{URL: "https://example.com/hook?token=secret"})
			}},
		{name: "extended", want: []AuditKind{AuditOrderExtended}, details: map[string]string{"days": "2"},
			act: func(o *SignatureOrder) error { return o.Extend(2) }},
		{name: "closed with retention", want: []AuditKind{AuditOrderClosed}, details: map[string]string{"retainDocumentsForDays": "3"},
			act: func(o *SignatureOrder) error { return o.Close(now, ptr(3)) }},
		{name: "closed without retention", want: []AuditKind{AuditOrderClosed, AuditDocumentsDeleted}, drop: true,
			details: map[string]string{"reason": DeletedAtClose},
			act:     func(o *SignatureOrder) error { return o.Close(now, nil) }},
		{name: "cancelled", want: []AuditKind{AuditOrderCancelled, AuditDocumentsDeleted}, drop: true,
			details: map[string]string{"reason": DeletedByCancel},
			act:     func(o *SignatureOrder) error { return o.Cancel(now) }},
		{name: "cleanup", want: []AuditKind{AuditDocumentsDeleted}, drop: true, details: map[string]string{"reason": DeletedByCleanup},
			before: func(o *SignatureOrder) { _ = o.Close(now, ptr(3)) },
			act:    func(o *SignatureOrder) error { return o.CheckCleanup() }},
		{name: "cleanup again deletes nothing", want: nil, drop: true,
			before: func(o *SignatureOrder) { _ = o.Close(now, nil); o.DropDocuments(now) },
			act:    func(o *SignatureOrder) error { return o.CheckCleanup() }},
		{name: "expired by the sweep", want: []AuditKind{AuditOrderExpired, AuditDocumentsDeleted},
			details: map[string]string{"reason": DeletedAtExpiry}, at: now.AddDate(1, 0, 0),
			act: func(o *SignatureOrder) error { o.Sweep(now.AddDate(1, 0, 0)); return nil }},
		{name: "retention ended", want: []AuditKind{AuditDocumentsDeleted}, details: map[string]string{"reason": DeletedRetentionEnded},
			at:     now.Add(48 * time.Hour),
			before: func(o *SignatureOrder) { _ = o.Close(now, ptr(1)) },
			act:    func(o *SignatureOrder) error { o.Sweep(now.Add(48 * time.Hour)); return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := signingOrder(t)
			for i := range o.Documents {
				o.Documents[i].Versions = []DocumentVersion{{Number: 0}}
			}
			if c.before != nil {
				c.before(o)
			}
			o.audit = nil
			later := now.Add(time.Minute)
			o.RecordingAt(later)
			if c.person {
				o.ActingAs(person)
			}
			if err := c.act(o); err != nil {
				t.Fatal(err)
			}
			if c.drop {
				o.DropDocuments(now)
			}
			got := o.AuditEntries()
			var kinds []AuditKind
			for _, e := range got {
				kinds = append(kinds, e.Kind)
				if c.at.IsZero() && !e.At.Equal(now) && !e.At.Equal(later) || !c.at.IsZero() && !e.At.Equal(c.at) {
					t.Errorf("%s at %v: neither the act's time nor RecordingAt's", e.Kind, e.At)
				}
				if c.person != (e.Actor != nil) || (e.Actor != nil && *e.Actor != *person) {
					t.Errorf("%s actor %+v, want person %v", e.Kind, e.Actor, c.person)
				}
			}
			if !slices.Equal(kinds, c.want) {
				t.Fatalf("entries %v, want %v", kinds, c.want)
			}
			if len(got) > 0 {
				last := got[len(got)-1]
				for k, v := range c.details {
					if last.Details[k] != v {
						t.Errorf("%s details[%q] = %q, want %q (all: %v)", last.Kind, k, last.Details[k], v, last.Details)
					}
				}
				for _, v := range last.Details {
					if strings.Contains(v, "secret") {
						t.Errorf("%s details hold the webhook URL's token: %v", last.Kind, last.Details)
					}
				}
			}
		})
	}
}

// Build records the creation and each signatory, at the creation time and without a person.
func TestAuditEntriesOfBuild(t *testing.T) {
	o := signingOrder(t)
	var kinds []AuditKind
	for _, e := range o.AuditEntries() {
		kinds = append(kinds, e.Kind)
		if !e.At.Equal(o.CreatedAt) || e.Actor != nil {
			t.Errorf("%s at %v by %+v", e.Kind, e.At, e.Actor)
		}
	}
	want := []AuditKind{AuditOrderCreated, AuditSignatoryAdded, AuditSignatoryAdded, AuditSignatoryAdded}
	if !slices.Equal(kinds, want) {
		t.Fatalf("entries %v, want %v", kinds, want)
	}
	if d := o.AuditEntries()[0].Details; d["documents"] != "2" || d["signatories"] != "3" {
		t.Errorf("created details %v", d)
	}
}

// The actor is copied: changing the caller's value later does not rewrite recorded entries.
func TestActingAsCopies(t *testing.T) {
	o := signingOrder(t)
	a := &Actor{IP: "192.0.2.1"}
	o.ActingAs(a)
	if err := o.Track(o.Signatories[0].ID, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	a.IP = "changed"
	entries := o.AuditEntries()
	if got := entries[len(entries)-1].Actor.IP; got != "192.0.2.1" {
		t.Fatalf("recorded actor changed to %q", got)
	}
}

func TestAuditDetailsAreBounded(t *testing.T) {
	long := strings.Repeat("ø", 200) // 400 bytes
	var kv []string
	for i := range 30 {
		kv = append(kv, string(rune('a'+i%26))+strings.Repeat("k", i/26), long)
	}
	for _, c := range []struct {
		name     string
		kv       []string
		keys     int
		truncate bool
	}{
		{"none", nil, 0, false},
		{"empty values are left out", []string{"a", "", "b", "x"}, 1, false},
		{"at the limit", kv[:2*AuditMaxDetails], AuditMaxDetails, false},
		{"beyond the limit", kv, AuditMaxDetails, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := boundDetails(c.kv)
			if len(m) != c.keys {
				t.Fatalf("%d keys, want %d", len(m), c.keys)
			}
			if _, ok := m["truncated"]; ok != c.truncate {
				t.Errorf("truncated marker %v, want %v", ok, c.truncate)
			}
			for k, v := range m {
				if len(v) > AuditMaxDetailLen || !strings.HasSuffix(v, "…") && len(v) > 1 && v != "details" {
					t.Errorf("%s: value of %d bytes: %q", k, len(v), v[:min(len(v), 20)])
				}
			}
		})
	}
}
