package signing_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// TestSignatoryDownload runs the download on the real sealer (the evidence a verification is
// matched with is read back from the signed PDF) and a loopback OpenID Connect issuer: a drawn
// signature downloads without a login; an ID-token signature needs a fresh login by the same person;
// nothing exists while the order is open, and nothing outlives the retention.
func TestSignatoryDownload(t *testing.T) {
	ctx := context.Background()
	issuer := oidctest.NewIssuer(t)
	pki := pkitest.New(t)
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{JWT: verifier, Login: login,
		Sealer: &seal.Sealer{Key: pades.Key{Signer: pki.Seal.Signer, Chain: pki.Seal.Chain}, TSA: pki.TSA}})
	// Signing happens ten minutes ago; the download logins now.
	signedAt := time.Now().UTC().Add(-10 * time.Minute)
	clock := signedAt
	svc.Now = func() time.Time { return clock }
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	readOnly := signingtest.Principal(t, svc, "app", tenant.KeyReadOnly)
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{
			{EnabledByDefault: true, Drawable: &order.DrawableProvider{}},
			{EnabledByDefault: true, OIDC: &order.OIDCProvider{Name: "Test ID", Domain: issuer.URL(), ClientID: "client-1", Audience: "client-1"}},
		},
		Documents:   []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
		Signatories: []order.SignatoryDraft{{}, {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	drawer := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	eid := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[1].ID}
	drawProvider, oidcProvider := o.EvidenceProviders[0].ID, o.EvidenceProviders[1].ID
	doc := o.Documents[0].ID

	name := "Ada"
	signingJWT := issuer.Token(t, nil, map[string]any{"iat": signedAt.Add(-time.Second).Unix()})
	for _, s := range []struct {
		sp signing.SignatoryPrincipal
		in signing.SignInput
	}{
		{drawer, signing.SignInput{ProviderID: drawProvider, Drawable: &signing.DrawableInput{Image: drawn(t), Name: &name}}},
		{eid, signing.SignInput{ProviderID: oidcProvider, OIDCJWT: &signingJWT}},
	} {
		if _, _, err := svc.SetDocumentStatus(ctx, s.sp, doc, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Sign(ctx, s.sp, s.in); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("no download while the order is open", func(t *testing.T) {
		d, err := svc.SignatoryDownload(ctx, drawer, nil)
		if err != nil || d.Exists || d.Documents != nil {
			t.Fatalf("download of an open order: %+v, %v", d, err)
		}
		cur, _ := svc.Order(ctx, p, o.ID)
		if h := svc.DownloadHref(p, cur, cur.Signatory(drawer.SignatoryID)); h != nil {
			t.Errorf("downloadHref of an open order: %s", *h)
		}
	})

	days := 1
	if _, err := svc.CloseOrder(ctx, p, o.ID, &days); err != nil {
		t.Fatal(err)
	}
	clock = time.Now().UTC()
	closed, _ := svc.Order(ctx, p, o.ID)
	retained, err := svc.DocumentBytes(ctx, p, o.ID, doc)
	if err != nil || retained.Current == nil {
		t.Fatalf("retained document: %v", err)
	}

	t.Run("downloadHref", func(t *testing.T) {
		h := svc.DownloadHref(p, closed, closed.Signatory(eid.SignatoryID))
		if h == nil || *h != svc.SignatoryHref(eid.SignatoryID)+"/download" {
			t.Errorf("downloadHref %v", h)
		}
		if h := svc.DownloadHref(readOnly, closed, closed.Signatory(eid.SignatoryID)); h != nil {
			t.Errorf("a READ_ONLY key sees the download link (it carries the token): %s", *h)
		}
	})

	t.Run("drawn signature: no verification", func(t *testing.T) {
		d, err := svc.SignatoryDownload(ctx, drawer, nil)
		if err != nil || !d.Exists || d.Expired || d.VerificationRequired || len(d.Documents) != 1 || d.Documents[0].ID != doc {
			t.Fatalf("download %+v, %v", d, err)
		}
		b, err := svc.SignatoryDownloadDocument(ctx, drawer, nil, doc)
		if err != nil || !bytes.Equal(b.Current, retained.Current) {
			t.Fatalf("downloaded bytes differ from the retained document: %v", err)
		}
		if _, _, err := svc.StartLogin(ctx, drawer, signing.LoginStart{ProviderID: oidcProvider, Stage: order.LoginStageDownload,
			RedirectURI: "https://sign.example/sign/callback"}); err == nil {
			t.Error("a download login started for a download that asks for none")
		}
	})

	t.Run("ID-token signature: a fresh login by the same person", func(t *testing.T) {
		d, err := svc.SignatoryDownload(ctx, eid, nil)
		if err != nil || !d.VerificationRequired || d.VerificationProvider == nil || d.VerificationProvider.ID != oidcProvider || d.Documents != nil {
			t.Fatalf("download without verification %+v, %v", d, err)
		}
		if _, err := svc.SignatoryDownloadDocument(ctx, eid, nil, doc); err == nil {
			t.Fatal("bytes without the verification")
		} else {
			wantCode(t, err, fault.CodeForbidden)
		}
		fresh := issuer.Token(t, nil, nil)
		refused := []struct {
			name string
			v    signing.DownloadVerification
			want string
		}{
			{"the signature's own token", signing.DownloadVerification{ProviderKind: order.ProviderOIDC, JWT: signingJWT}, "after the signature"},
			{"another person", signing.DownloadVerification{JWT: issuer.Token(t, nil, map[string]any{"sub": "user-2"})}, "not the person"},
			{"another audience", signing.DownloadVerification{JWT: issuer.Token(t, nil, map[string]any{"aud": "client-2"})}, "not a valid ID token"},
			{"another kind", signing.DownloadVerification{ProviderKind: order.ProviderCriiptoVerify, JWT: fresh}, "oidc"},
			{"another provider", signing.DownloadVerification{ProviderID: drawProvider, JWT: fresh}, oidcProvider},
			{"an old login", signing.DownloadVerification{JWT: issuer.Token(t, nil, map[string]any{"iat": clock.Add(-2 * time.Hour).Unix()})}, "log in again"},
		}
		for _, c := range refused {
			if _, err := svc.SignatoryDownload(ctx, eid, &c.v); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want a refusal with %q", c.name, err, c.want)
			}
		}
		v := &signing.DownloadVerification{ProviderKind: order.ProviderOIDC, JWT: fresh}
		d, err = svc.SignatoryDownload(ctx, eid, v)
		if err != nil || !d.VerificationRequired || len(d.Documents) != 1 {
			t.Fatalf("verified download %+v, %v", d, err)
		}
		b, err := svc.SignatoryDownloadDocument(ctx, eid, v, doc)
		if err != nil || !bytes.Equal(b.Current, retained.Current) {
			t.Fatalf("verified bytes: %v", err)
		}
		authURL, _, err := svc.StartLogin(ctx, eid, signing.LoginStart{ProviderID: oidcProvider, Stage: order.LoginStageDownload,
			RedirectURI: "https://sign.example/sign/callback"})
		if err != nil || !strings.HasPrefix(authURL, issuer.URL()+"/auth?") {
			t.Errorf("download login start: %q, %v", authURL, err)
		}
		if _, _, err := svc.StartLogin(ctx, eid, signing.LoginStart{ProviderID: drawProvider, Stage: order.LoginStageDownload,
			RedirectURI: "https://sign.example/sign/callback"}); err == nil {
			t.Error("a download login with a provider the download does not ask for")
		}
	})

	t.Run("nothing outlives the retention", func(t *testing.T) {
		clock = closed.ClosedAt.Add(24 * time.Hour)
		defer func() { clock = time.Now().UTC() }()
		for _, sp := range []signing.SignatoryPrincipal{drawer, eid} {
			d, err := svc.SignatoryDownload(ctx, sp, &signing.DownloadVerification{JWT: issuer.Token(t, nil, nil)})
			if err != nil || !d.Exists || !d.Expired || d.Documents != nil || d.VerificationRequired {
				t.Errorf("download after the retention: %+v, %v", d, err)
			}
			if b, err := svc.SignatoryDownloadDocument(ctx, sp, nil, doc); err != nil || b.Current != nil {
				t.Errorf("bytes after the retention: %d, %v", len(b.Current), err)
			}
		}
	})

	t.Run("cleaned up", func(t *testing.T) {
		if _, err := svc.CleanupOrder(ctx, p, o.ID); err != nil {
			t.Fatal(err)
		}
		d, err := svc.SignatoryDownload(ctx, drawer, nil)
		if err != nil || !d.Expired || d.Documents != nil {
			t.Errorf("download after cleanup: %+v, %v", d, err)
		}
	})
}
