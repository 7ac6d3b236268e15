package signing_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// Form values kept at a SIGN-stage login start are taken once, by their signatory only, before
// they expire; what is refused before storing is refused with the field and the rule.
func TestLoginFormTakenOnce(t *testing.T) {
	ctx := context.Background()
	issuer := oidctest.NewIssuer(t)
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Login: login, JWT: verifier})
	now := time.Now()
	svc.Now = func() time.Time { return now }
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	enabled := true
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Form(t), FormEnabled: &enabled}},
		EvidenceProviders: []order.EvidenceProvider{{Kind: order.ProviderOIDC, EnabledByDefault: true,
			OIDC: &order.OIDCProvider{Name: "T", Domain: issuer.URL(), ClientID: "client-1", Audience: "client-1"}}},
		Signatories: []order.SignatoryDraft{{}, {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := o.Documents[0].ID
	sps := []signing.SignatoryPrincipal{{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}, {OrderID: o.ID, SignatoryID: o.Signatories[1].ID}}
	for _, sp := range sps {
		if _, _, err := svc.SetDocumentStatus(ctx, sp, doc, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
	}
	form := []signing.DocumentForm{{DocumentID: doc, Fields: []signing.FormValue{{Field: "name", Value: "typed"}}}}
	start := func(sp signing.SignatoryPrincipal, f []signing.DocumentForm) (string, error) {
		t.Helper()
		authURL, state, err := svc.StartLogin(ctx, sp, signing.LoginStart{ProviderID: o.EvidenceProviders[0].ID, Stage: order.EvidenceStageSign,
			RedirectURI: "https://sign.example/sign/callback", Browser: "b", Form: f})
		if err == nil && strings.Contains(authURL, "typed") {
			t.Error("the value is in the authorization URL")
		}
		if u, _ := url.Parse(authURL); err == nil && u.Query().Get("state") != state {
			t.Error("the state is not the URL's")
		}
		return state, err
	}

	state, err := start(sps[0], form)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.TakeLoginForm(ctx, sps[1], state); err == nil || !strings.Contains(err.Error(), "another signatory") {
		t.Errorf("another signatory's take: %v", err)
	}
	kept, err := svc.TakeLoginForm(ctx, sps[0], state)
	got := kept.Documents
	if err != nil || len(got) != 1 || got[0].DocumentID != doc || len(got[0].Fields) != 1 || got[0].Fields[0] != form[0].Fields[0] || kept.Drawing != nil {
		t.Fatalf("take: %+v, %v", kept, err)
	}
	if _, err := svc.TakeLoginForm(ctx, sps[0], state); err == nil || !strings.Contains(err.Error(), "no longer kept") {
		t.Errorf("second take: %v", err)
	}

	// Expired: just before the TTL it is there; at the TTL it is gone (and the state too).
	state, err = start(sps[0], form)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := start(sps[0], form); err != nil { // one the sweeper purges
		t.Fatal(err)
	}
	now = now.Add(evidence.LoginTTL)
	if _, err := svc.TakeLoginForm(ctx, sps[0], state); err == nil || !strings.Contains(err.Error(), "no longer kept") {
		t.Errorf("an expired form: %v", err)
	}
	rep, err := svc.Sweep(ctx, now, 10)
	if err != nil || rep.LoginFormsPurged != 1 {
		t.Errorf("sweep: %+v, %v; want the one expired and not taken purged", rep, err)
	}

	// A login without form values keeps nothing; a take says so with nil.
	state, err = start(sps[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.TakeLoginForm(ctx, sps[0], state); err != nil || got.Documents != nil || got.Drawing != nil {
		t.Errorf("take without a form: %v, %v", got, err)
	}

	// Refused before storing, naming the field and the rule.
	long := strings.Repeat("x", order.MaxMessageLen+1)
	many := make([]signing.FormValue, order.MaxFormFields+1)
	for i := range many {
		many[i] = signing.FormValue{Field: "name", Value: "v"}
	}
	for _, tc := range []struct {
		name string
		form []signing.DocumentForm
		want string
	}{
		{"a value over the limit", []signing.DocumentForm{{DocumentID: doc, Fields: []signing.FormValue{{Field: "name", Value: long}}}}, "documents[0].form.fields[0]"},
		{"too many values", []signing.DocumentForm{{DocumentID: doc, Fields: many}}, "more than 500 field values"},
		{"not the signatory's document", []signing.DocumentForm{{DocumentID: "nope", Fields: form[0].Fields}}, "documents[0].id"},
	} {
		if _, err := start(sps[0], tc.form); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if rep, err := svc.PurgeLoginForms(ctx, now.Add(time.Hour)); err != nil || rep.LoginFormsPurged != 0 {
		t.Errorf("refused forms were stored: %+v, %v", rep, err)
	}
}
