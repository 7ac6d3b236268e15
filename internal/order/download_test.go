package order

import (
	"strings"
	"testing"
	"time"
)

func downloadOrder(now time.Time) *SignatureOrder {
	until := now.Add(24 * time.Hour)
	closed := now.Add(-time.Hour)
	signedAt := now.Add(-2 * time.Hour)
	key := "sub"
	return &SignatureOrder{
		ID: "o", Status: StatusClosed, ClosedAt: &closed, RetainDocumentsUntil: &until, ExpiresAt: now.Add(48 * time.Hour),
		EvidenceProviders: []EvidenceProvider{
			{ID: "draw", Kind: ProviderDrawable, EnabledByDefault: true, Drawable: &DrawableProvider{}},
			{ID: "oidc", Kind: ProviderOIDC, EnabledByDefault: true, OIDC: &OIDCProvider{Name: "o", Domain: "https://other.example", ClientID: "c2"}},
			{ID: "eid", Kind: ProviderCriiptoVerify, EnabledByDefault: true, CriiptoVerify: &CriiptoVerifyProvider{Domain: "idp.example", ClientID: "c1", UniqueEvidenceKey: &key}},
		},
		Documents: []Document{
			{ID: "d1", Title: "A", Versions: []DocumentVersion{{Number: 0}, {Number: 1, SignedBy: "s1", CreatedAt: signedAt}}},
			{ID: "d2", Title: "B", Versions: []DocumentVersion{{Number: 0}}},
		},
		Signatories: []Signatory{
			{ID: "s1", SignatoryRole: RoleSigner, Status: SignatorySigned, EvidenceKey: "k1", Documents: []SignatoryDocument{{ID: "d1"}}},
			{ID: "s2", SignatoryRole: RoleApprover, Status: SignatoryApproved},
			{ID: "s3", SignatoryRole: RoleSigner, Status: SignatoryOpen},
			{ID: "s4", SignatoryRole: RoleViewer, Status: SignatoryOpen},
			{ID: "s5", SignatoryRole: RoleSigner, Status: SignatoryRejected},
		},
	}
}

func TestDownloadOf(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		signatory string
		change    func(o *SignatureOrder)
		exists    bool
		expired   bool
		documents string // titles
		signed    string // document whose signed version was found
	}{
		{name: "signed, closed with retention", signatory: "s1", exists: true, documents: "A", signed: "A"},
		{name: "approver", signatory: "s2", exists: true, documents: "AB"},
		{name: "open order: not yet", signatory: "s1", change: func(o *SignatureOrder) { o.Status = StatusOpen }},
		{name: "not signed", signatory: "s3"},
		{name: "viewer", signatory: "s4"},
		{name: "rejected", signatory: "s5"},
		{name: "closed without retention", signatory: "s1", exists: true, expired: true,
			change: func(o *SignatureOrder) { o.RetainDocumentsUntil = nil; o.DropDocuments(now) }},
		{name: "retention over, not swept yet", signatory: "s1", exists: true, expired: true,
			change: func(o *SignatureOrder) { past := now; o.RetainDocumentsUntil = &past }},
		{name: "cleaned up", signatory: "s1", exists: true, expired: true, change: func(o *SignatureOrder) { o.DropDocuments(now) }},
		{name: "cancelled", signatory: "s1", exists: true, expired: true, change: func(o *SignatureOrder) { o.Status = StatusCancelled; o.RetainDocumentsUntil = nil }},
		{name: "expired order", signatory: "s1", exists: true, expired: true, change: func(o *SignatureOrder) { o.Status = StatusExpired; o.RetainDocumentsUntil = nil }},
		{name: "one document deleted", signatory: "s2", exists: true, expired: true, change: func(o *SignatureOrder) { o.Documents[1].DeletedAt = &now }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := downloadOrder(now)
			if c.change != nil {
				c.change(o)
			}
			d := o.DownloadOf(o.Signatory(c.signatory), now)
			var titles strings.Builder
			for _, doc := range d.Documents {
				titles.WriteString(doc.Title)
			}
			signed := ""
			if d.Signed != nil {
				signed = d.Signed.Document.Title
				if d.Signed.Version.SignedBy != c.signatory {
					t.Errorf("signed version by %q", d.Signed.Version.SignedBy)
				}
			}
			if d.Exists != c.exists || d.Expired != c.expired || titles.String() != c.documents || signed != c.signed {
				t.Errorf("exists %v expired %v documents %q signed %q; want %v %v %q %q",
					d.Exists, d.Expired, titles.String(), signed, c.exists, c.expired, c.documents, c.signed)
			}
		})
	}
}

func TestDownloadProofFor(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	eid := &SignatureLogin{Issuer: "https://idp.example", Audience: []string{"c1"}, Subject: "person-1"}
	cases := []struct {
		name          string
		signatory     string
		signed        *SignatureLogin
		view          bool // the order asks for a VIEW-stage login
		validated     bool
		change        func(o *SignatureOrder)
		wantProvider  string // "" for no proof
		wantIssuer    string
		wantKey       string
		wantAfterZero bool
	}{
		{name: "signed with the eID: same provider, key", signatory: "s1", signed: eid, wantProvider: "eid", wantIssuer: eid.Issuer, wantKey: "k1"},
		{name: "signed with the oidc provider", signatory: "s1",
			signed:       &SignatureLogin{Issuer: "https://other.example/", Audience: []string{"c2"}, Subject: "x"},
			wantProvider: "oidc", wantIssuer: "https://other.example/"},
		{name: "drawn signature", signatory: "s1"},
		{name: "drawn signature, VIEW-stage order", signatory: "s1", view: true, wantProvider: "oidc", wantAfterZero: true},
		{name: "drawn signature, VIEW login made", signatory: "s1", view: true, validated: true},
		{name: "approver", signatory: "s2"},
		{name: "approver, VIEW-stage order", signatory: "s2", view: true, wantProvider: "oidc", wantAfterZero: true},
		{name: "expired: nothing to prove", signatory: "s1", signed: eid, change: func(o *SignatureOrder) { o.DropDocuments(now) }},
		{name: "inside allOf", signatory: "s1", signed: eid, wantProvider: "all", wantIssuer: eid.Issuer, wantKey: "k1",
			change: func(o *SignatureOrder) {
				o.EvidenceProviders = []EvidenceProvider{{ID: "all", Kind: ProviderAllOf, EnabledByDefault: true,
					AllOf: []EvidenceProvider{{Kind: ProviderDrawable, Drawable: &DrawableProvider{}}, o.EvidenceProviders[2]}}}
			}},
		{name: "the issuer matches no provider any more: the first login provider", signatory: "s1",
			signed: &SignatureLogin{Issuer: "https://gone.example", Audience: []string{"c9"}, Subject: "x"}, wantProvider: "oidc", wantIssuer: "https://gone.example"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := downloadOrder(now)
			if c.view {
				o.EvidenceValidationStages = []string{EvidenceStageView}
			}
			if c.change != nil {
				c.change(o)
			}
			s := o.Signatory(c.signatory)
			p := o.DownloadProofFor(s, o.DownloadOf(s, now), c.signed, c.validated)
			if c.wantProvider == "" {
				if p != nil {
					t.Fatalf("proof %+v, want none", p)
				}
				return
			}
			if p == nil {
				t.Fatal("no proof asked")
			}
			if p.Provider.ID != c.wantProvider || p.Issuer != c.wantIssuer || p.EvidenceKey != c.wantKey || p.After.IsZero() != c.wantAfterZero {
				t.Errorf("proof %s issuer %q key %q after %v; want %s %q %q zero=%v", p.Provider.ID, p.Issuer, p.EvidenceKey, p.After,
					c.wantProvider, c.wantIssuer, c.wantKey, c.wantAfterZero)
			}
			if p.Login.OIDC == nil && p.Login.CriiptoVerify == nil {
				t.Errorf("login member %+v is not a login provider", p.Login)
			}
		})
	}
}

func TestDownloadProofAccepts(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	signedAt := now.Add(-10*time.Minute + 300*time.Millisecond)
	bySubject := DownloadProof{Issuer: "https://idp.example", Subject: "person-1", After: signedAt}
	byKey := DownloadProof{Issuer: "idp.example", Subject: "person-1", EvidenceKey: "k1", EvidenceKeyClaim: "sub", After: signedAt}
	viewOnly := DownloadProof{}
	fresh := now.Add(-time.Minute)
	cases := []struct {
		name  string
		proof DownloadProof
		login VerifiedLogin
		want  string // "" accepted, else part of the refusal
	}{
		{"same person", bySubject, VerifiedLogin{Issuer: "https://idp.example/", Subject: "person-1", IssuedAt: fresh}, ""},
		{"another person", bySubject, VerifiedLogin{Issuer: "https://idp.example", Subject: "person-2", IssuedAt: fresh}, "not the person"},
		{"another issuer", bySubject, VerifiedLogin{Issuer: "https://evil.example", Subject: "person-1", IssuedAt: fresh}, "not the person"},
		{"the signature's own login (same second)", bySubject,
			VerifiedLogin{Issuer: "https://idp.example", Subject: "person-1", IssuedAt: signedAt.Truncate(time.Second)}, "after the signature"},
		{"before the signature", bySubject, VerifiedLogin{Issuer: "https://idp.example", Subject: "person-1", IssuedAt: signedAt.Add(-time.Hour)}, "after the signature"},
		{"too old", viewOnly, VerifiedLogin{IssuedAt: now.Add(-MaxDownloadLoginAge - time.Second)}, "older"},
		{"no issued-at", viewOnly, VerifiedLogin{}, "after the signature"},
		{"key: same person", byKey, VerifiedLogin{Issuer: "https://idp.example", Subject: "other-sub", EvidenceKey: "k1", IssuedAt: fresh}, ""},
		{"key: another person", byKey, VerifiedLogin{Issuer: "https://idp.example", Subject: "person-1", EvidenceKey: "k2", IssuedAt: fresh}, "not the person"},
		{"view-stage proof: any fresh login", viewOnly, VerifiedLogin{Issuer: "x", Subject: "y", IssuedAt: fresh}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.proof.Accepts(c.login, now)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want a refusal with %q", err, c.want)
			}
		})
	}
}
