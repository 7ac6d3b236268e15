package signing_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

// TestSignatoryProviderSettingsReachTheLogin: a signatory's own criiptoVerify acrValues, loginHint
// and message are what their login asks the eID broker for (the message as Criipto Verify's
// "message:" hint); another signatory of the order logs in with the provider's own.
func TestSignatoryProviderSettingsReachTheLogin(t *testing.T) {
	ctx := context.Background()
	issuer := oidctest.NewIssuer(t)
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Login: login, JWT: verifier,
		Verify: &signing.VerifyConfig{Domain: issuer.URL(), ClientID: "broker-client"}})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, CriiptoVerify: &order.CriiptoVerifyProvider{
			AcrValues: []string{"urn:grn:authn:dk:mitid:substantial"}}}},
		Signatories: []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eid := o.EvidenceProviders[0].ID
	message := "Sign the lease for Åboulevarden 3"
	o, ids, err := svc.AddSignatories(ctx, p, o.ID, []order.SignatoryDraft{{EvidenceProviders: []string{eid},
		ProviderSettings: []order.ProviderSettings{{ID: eid, CriiptoVerify: &order.CriiptoVerifySettings{
			AcrValues: []string{"urn:grn:authn:se:bankid:same-device"}, LoginHint: &[]string{"sub:19121212-1212"}[0], Message: &message}}}}})
	if err != nil {
		t.Fatal(err)
	}
	query := func(signatoryID, acr string) (url.Values, error) {
		t.Helper()
		sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: signatoryID}
		if _, _, err := svc.SetDocumentStatus(ctx, sp, o.Documents[0].ID, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
		authURL, _, err := svc.StartLogin(ctx, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: signatoryID},
			signing.LoginStart{ProviderID: eid, Stage: order.EvidenceStageSign, RedirectURI: "https://sign.example/sign/callback", Browser: "b", AcrValue: acr})
		if err != nil {
			return nil, err
		}
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query(), nil
	}
	bankID := "urn:grn:authn:se:bankid:same-device"
	own, err := query(ids[0], bankID)
	if err != nil {
		t.Fatal(err)
	}
	wantHint := "sub:19121212-1212 message:" + base64.StdEncoding.EncodeToString([]byte(message))
	if own.Get("acr_values") != bankID || own.Get("login_hint") != wantHint {
		t.Errorf("the signatory's login asks acr_values %q, login_hint %q; want their own settings (%q)", own.Get("acr_values"), own.Get("login_hint"), wantHint)
	}
	if _, err := query(o.Signatories[0].ID, bankID); err == nil || !strings.Contains(err.Error(), "urn:grn:authn:dk:mitid:substantial") {
		t.Errorf("another signatory may log in with the first one's acr value: %v", err)
	}
	other, err := query(o.Signatories[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if other.Get("login_hint") != "" {
		t.Errorf("another signatory's login asks login_hint %q; want the provider's (none)", other.Get("login_hint"))
	}
}
