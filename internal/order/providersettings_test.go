package order

import (
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
)

// verifyOrder is an order with a criiptoVerify provider "eid" (acr value DK MitID) and a
// drawable provider "pen".
func verifyOrder(t *testing.T) *SignatureOrder {
	t.Helper()
	env := testEnv()
	env.Verify = &VerifyClient{Domain: "broker.example", ClientID: "client"}
	o, err := Build(draft(func(d *Draft) {
		d.EvidenceProviders = []EvidenceProvider{
			{CriiptoVerify: &CriiptoVerifyProvider{AcrValues: []string{"urn:grn:authn:dk:mitid:substantial"}, LoginHint: ptr("order hint")}, EnabledByDefault: true},
			{Drawable: &DrawableProvider{}, EnabledByDefault: true},
		}
	}), "app", env)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestProviderSettingsApplyToTheSignatory(t *testing.T) {
	o := verifyOrder(t)
	eid, pen := o.EvidenceProviders[0].ID, o.EvidenceProviders[1].ID
	ids, err := o.AddSignatories("input.signatories", []SignatoryDraft{
		{EvidenceProviders: []string{eid, pen}, ProviderSettings: []ProviderSettings{
			{ID: eid, CriiptoVerify: &CriiptoVerifySettings{AcrValues: []string{"urn:grn:authn:se:bankid"}, Message: ptr("Sign the lease"),
				LoginHint: ptr("sub:1234")}},
			{ID: pen},
		}},
		{},
	}, testEnv(), false)
	if err != nil {
		t.Fatal(err)
	}
	own := o.SignatoryProviders(o.Signatory(ids[0]))
	if len(own) != 2 || own[0].CriiptoVerify == nil {
		t.Fatalf("the signatory's providers: %+v", own)
	}
	c := own[0].CriiptoVerify
	if strings.Join(c.AcrValues, ",") != "urn:grn:authn:se:bankid" || strOf(c.Message) != "Sign the lease" || strOf(c.LoginHint) != "sub:1234" ||
		c.Domain != "broker.example" || c.Scope != nil {
		t.Errorf("the signatory's criiptoVerify: %+v", c)
	}
	// The order's provider and another signatory's view of it are unchanged.
	if p := o.EvidenceProviders[0].CriiptoVerify; strOf(p.LoginHint) != "order hint" || p.Message != nil {
		t.Errorf("the order's provider changed: %+v", p)
	}
	if p := o.SignatoryProviders(o.Signatory(ids[1]))[0].CriiptoVerify; strOf(p.LoginHint) != "order hint" {
		t.Errorf("the other signatory sees %+v", p)
	}
}

func TestProviderSettingsRefused(t *testing.T) {
	o := verifyOrder(t)
	eid, pen := o.EvidenceProviders[0].ID, o.EvidenceProviders[1].ID
	cases := []struct {
		name     string
		ids      []string
		settings []ProviderSettings
		field    string
		rule     string
	}{
		{"settings for a drawable provider", []string{pen}, []ProviderSettings{{ID: pen, CriiptoVerify: &CriiptoVerifySettings{Scope: ptr("openid")}}},
			"input.signatories[0].evidenceProviders[0].criiptoVerify", "is not a criiptoVerify provider"},
		{"a message with a control character", []string{eid}, []ProviderSettings{{ID: eid, CriiptoVerify: &CriiptoVerifySettings{Message: ptr("a\x00b")}}},
			"input.signatories[0].evidenceProviders[0].criiptoVerify.message", "control character"},
		{"too many acr values", []string{eid}, []ProviderSettings{{ID: eid, CriiptoVerify: &CriiptoVerifySettings{AcrValues: make([]string, MaxListItems+1)}}},
			"input.signatories[0].evidenceProviders[0].criiptoVerify.acrValues", "at most 20 items"},
		{"the same provider twice", []string{eid, eid}, []ProviderSettings{{ID: eid, CriiptoVerify: &CriiptoVerifySettings{Scope: ptr("a")}},
			{ID: eid, CriiptoVerify: &CriiptoVerifySettings{Scope: ptr("b")}}},
			"input.signatories[0].evidenceProviders[1].id", "given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := o.AddSignatories("input.signatories", []SignatoryDraft{{EvidenceProviders: c.ids, ProviderSettings: c.settings}}, testEnv(), false)
			de, ok := fault.As(err)
			if !ok || de.Field != c.field || !strings.Contains(de.Message, c.rule) {
				t.Fatalf("error = %v, want %s: …%s…", err, c.field, c.rule)
			}
		})
	}
}

func strOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestCooldown: before cooldownExpiresAt a signatory may open their documents but not approve,
// reject or sign, and their view says why; after it they may. A VIEWER has no cooldown to wait.
func TestCooldown(t *testing.T) {
	env := testEnv()
	until := env.Now.Add(time.Hour)
	o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{CooldownExpiresAt: &until}} }), "app", env)
	if err != nil {
		t.Fatal(err)
	}
	s, doc := &o.Signatories[0], o.Documents[0].ID
	before, after := env.Now.Add(time.Minute), until
	if err := o.SetDocumentStatus(s.ID, doc, DocumentOpened, before); err != nil {
		t.Errorf("opening during the cooldown: %v", err)
	}
	for _, st := range []DocumentStatus{DocumentApproved, DocumentRejected} {
		if err := o.SetDocumentStatus(s.ID, doc, st, before); err == nil || !strings.Contains(err.Error(), "cooldown expires at") {
			t.Errorf("%s during the cooldown: %v", st, err)
		}
	}
	if got := o.ViewOf(s, before, false).Blocked; got != BlockedCooldown {
		t.Errorf("the view during the cooldown is blocked %q", got)
	}
	if err := o.SetDocumentStatus(s.ID, doc, DocumentApproved, after); err != nil {
		t.Fatalf("approving when the cooldown expired: %v", err)
	}
	if _, err := o.CheckCanSign(s.ID, before); err == nil || !strings.Contains(err.Error(), "cooldown") {
		t.Errorf("signing during the cooldown: %v", err)
	}
	if _, err := o.CheckCanSign(s.ID, after); err != nil {
		t.Errorf("signing when the cooldown expired: %v", err)
	}
	if got := o.ViewOf(s, after, false).Blocked; got != BlockedNone {
		t.Errorf("the view after the cooldown is blocked %q", got)
	}
}
