package signing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// batchOrder is an order of p like newSigningEnv's (drawable with a name, and noop) with one
// document and one signer, who is the batch's item.
func batchOrder(t *testing.T, e *env, p signing.Principal, title string) (*order.SignatureOrder, order.BatchItem) {
	t.Helper()
	o, err := e.svc.CreateOrder(context.Background(), p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{
			{EnabledByDefault: true, Drawable: &order.DrawableProvider{RequireName: true}},
			{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}},
		},
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: title, StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
		},
		Signatories: []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
}

func auditKinds(t *testing.T, e *env, p signing.Principal, orderID string) []order.AuditKind {
	t.Helper()
	return auditKindsOf(t, e.svc, p, orderID)
}

func count[T comparable](list []T, v T) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func TestCreateBatchSignatory(t *testing.T) {
	e, _, p, first := newSigningEnv(t)
	ctx := context.Background()
	_, second := batchOrder(t, e, p, "Second")
	items := []order.BatchItem{{OrderID: first.ID, SignatoryID: first.Signatories[0].ID}, second}

	if _, err := e.svc.CreateBatchSignatory(ctx, e.principal(t, "app", tenant.KeyReadOnly), items, nil); err == nil {
		t.Fatal("a READ_ONLY key made a batch")
	}
	other := e.principal(t, "other", tenant.KeyReadWrite)
	if _, err := e.svc.CreateBatchSignatory(ctx, other, items, nil); err == nil || !strings.Contains(err.Error(), "items[0]") {
		t.Fatalf("another application's orders: %v", err)
	}
	b, err := e.svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 2 || b.Items[1] != second || b.TraceID == "" {
		t.Fatalf("batch %+v", b)
	}
	token := e.svc.BatchSignatoryToken(b.ID)
	if b.TokenHash != signing.TokenHash(token) || strings.Contains(b.TokenHash, token) {
		t.Fatal("the batch does not keep the hash of its token")
	}
	if token == e.svc.SignatoryToken(b.ID) {
		t.Fatal("a batch token is a signatory token of the same id")
	}
	got, err := e.svc.BatchSignatory(ctx, p, b.ID)
	if err != nil || got == nil || got.ID != b.ID || len(got.Items) != 2 {
		t.Fatalf("batchSignatory: %+v, %v", got, err)
	}
	if got, err := e.svc.BatchSignatory(ctx, other, b.ID); got != nil || err != nil {
		t.Fatalf("another application sees the batch: %+v, %v", got, err)
	}
	if got, err := e.svc.BatchSignatory(ctx, p, "nope"); got != nil || err != nil {
		t.Fatalf("unknown id: %+v, %v", got, err)
	}
	if _, tok, ok := e.svc.BatchSignatoryLink(e.principal(t, "app", tenant.KeyReadOnly), b.ID); ok || tok != "" {
		t.Fatal("a READ_ONLY key sees the batch token")
	}
	if href, tok, ok := e.svc.BatchSignatoryLink(p, b.ID); !ok || tok != token || !strings.HasSuffix(href, "/batch/"+token) {
		t.Fatalf("link %q %q %v", href, tok, ok)
	}

	bp, ok, err := e.svc.AuthenticateBatchSignatory(ctx, token)
	if err != nil || !ok || bp.BatchID != b.ID {
		t.Fatalf("authenticate: %+v %v %v", bp, ok, err)
	}
	for _, bad := range []string{"", token[:len(token)-1], e.svc.SignatoryToken(first.Signatories[0].ID)} {
		if _, ok, err := e.svc.AuthenticateBatchSignatory(ctx, bad); ok || err != nil {
			t.Errorf("token %q authenticated: %v", bad, err)
		}
	}
	if _, ok, _ := e.svc.AuthenticateSignatory(ctx, token); ok {
		t.Error("the batch token opens a signatory's page")
	}
}

// Two orders in a batch, the second closed after the batch was made: approving and signing do the
// first, report the second with its reason, and the first gets its own seal, events and trail.
func TestSignBatchReportsAClosedOrder(t *testing.T) {
	e, sealer, p, first := newSigningEnv(t)
	ctx := context.Background()
	second, secondItem := batchOrder(t, e, p, "Second")
	third, thirdItem := batchOrder(t, e, p, "Third")
	items := []order.BatchItem{{OrderID: first.ID, SignatoryID: first.Signatories[0].ID}, secondItem, thirdItem}
	b, err := e.svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	bp, _, _ := e.svc.AuthenticateBatchSignatory(ctx, e.svc.BatchSignatoryToken(b.ID))

	v, err := e.svc.BatchView(ctx, bp)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Items) != 3 || len(v.Providers) != 2 || v.AllApproved() || v.Status() != order.SignatoryOpen {
		t.Fatalf("view %+v", v)
	}
	if len(v.Items[0].View.Documents) != 2 || len(v.Items[1].View.Documents) != 1 {
		t.Fatalf("documents %d %d", len(v.Items[0].View.Documents), len(v.Items[1].View.Documents))
	}
	doc, err := e.svc.BatchDocumentBytes(ctx, bp, second.ID, second.Documents[0].ID)
	if err != nil || len(doc.Current) == 0 {
		t.Fatalf("document: %v", err)
	}
	if doc, err := e.svc.BatchDocumentBytes(ctx, bp, second.ID, first.Documents[0].ID); err != nil || doc.Current != nil {
		t.Fatalf("another order's document through this item: %v", err)
	}

	res, err := e.svc.ApproveBatch(ctx, bp)
	if err != nil || len(res.Failed()) != 0 {
		t.Fatalf("approve: %+v %v", res.Failed(), err)
	}
	if v, _ := e.svc.BatchView(ctx, bp); !v.AllApproved() {
		t.Fatal("not all approved after approving all")
	}
	// Closed midway: after approval, before signing.
	if _, err := e.svc.CancelOrder(ctx, p, third.ID); err != nil {
		t.Fatal(err)
	}

	name := "Ada Lovelace"
	in := signing.SignInput{ProviderID: v.Providers[0].ID(), Drawable: &signing.DrawableInput{Image: drawn(t), Name: &name}}
	if _, err := e.svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: v.Providers[0].ID()}); err == nil {
		t.Fatal("signed without a drawing")
	}
	if _, err := e.svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: "nope", Noop: true}); err == nil {
		t.Fatal("signed with an unknown provider")
	}
	before := sealer.calls.Load()
	res, err = e.svc.SignBatch(ctx, bp, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := sealer.calls.Load() - before; got != 3 {
		t.Fatalf("%d seals, want 3 (two documents of the first order, one of the second)", got)
	}
	if len(res.Items) != 3 || !res.Partial() || len(res.Failed()) != 1 {
		t.Fatalf("result %+v", res)
	}
	failed := res.Failed()[0]
	if de, ok := fault.As(failed.Err); failed.Item != thirdItem || !ok || !strings.Contains(de.Message, "cancelled") {
		t.Fatalf("failed item %+v: %v", failed.Item, failed.Err)
	}
	for _, it := range res.Items[:2] {
		if it.Err != nil || it.Order.Signatory(it.Item.SignatoryID).Status != order.SignatorySigned {
			t.Fatalf("item %+v: %v", it.Item, it.Err)
		}
		for _, d := range it.Order.Documents {
			b, err := e.svc.DocumentBytes(ctx, p, it.Order.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b.Current, []byte("sealed #0 by Ada Lovelace type criipto.signature.drawable.v1")) {
				t.Errorf("order %s document %s not sealed", it.Order.ID, d.Title)
			}
		}
		kinds := auditKinds(t, e, p, it.Order.ID)
		if count(kinds, order.AuditSignatorySigned) != 1 || count(kinds, order.AuditDocumentSealed) != len(it.Order.Documents) {
			t.Errorf("order %s trail %v", it.Order.ID, kinds)
		}
	}
	if kinds := auditKinds(t, e, p, third.ID); count(kinds, order.AuditSignatorySigned) != 0 {
		t.Errorf("the cancelled order's trail %v", kinds)
	}

	// Everything signed that can be: a second try signs nothing and says why per item.
	res, err = e.svc.SignBatch(ctx, bp, in)
	if err == nil || len(res.Failed()) != 3 || !strings.Contains(res.Failed()[0].Err.Error(), "signed already") {
		t.Fatalf("second signing: %+v %v", res, err)
	}
	if v, _ := e.svc.BatchView(ctx, bp); v.Status() != order.SignatoryOpen || v.Items[2].Blocked != order.BlockedCancelled {
		t.Fatalf("status %s, third %q", v.Status(), v.Items[2].Blocked)
	}
}

// An item whose evidenceValidation the shared evidence does not meet fails alone.
func TestSignBatchChecksEachSignatorysValidation(t *testing.T) {
	e, _, p, _ := newSigningEnv(t)
	ctx := context.Background()
	a, aItem := batchOrder(t, e, p, "A")
	b, bItem := batchOrder(t, e, p, "B")
	want := "someone else"
	if _, err := e.svc.ChangeSignatory(ctx, p, bItem.SignatoryID, order.SignatoryDraft{
		EvidenceValidation: []order.EvidenceValidation{{Key: "name", Value: &want}}}); err != nil {
		t.Fatal(err)
	}
	batch, err := e.svc.CreateBatchSignatory(ctx, p, []order.BatchItem{aItem, bItem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bp := signing.BatchPrincipal{BatchID: batch.ID}
	if _, err := e.svc.ApproveBatch(ctx, bp); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: b.EvidenceProviders[1].ID, Noop: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items[0].Err != nil || res.Items[0].Order.Signatories[0].Status != order.SignatorySigned {
		t.Fatalf("order A: %v", res.Items[0].Err)
	}
	if res.Items[1].Err == nil || res.Items[1].Order.ID != b.ID {
		t.Fatalf("order B signed against its evidenceValidation")
	}
	if o, _ := e.svc.Order(ctx, p, b.ID); o.Signatories[0].Status != order.SignatoryOpen {
		t.Fatalf("order B signatory %s", o.Signatories[0].Status)
	}
	_ = a
}

// countingJWT counts the ID tokens it verifies.
type countingJWT struct {
	signing.JWTChecker
	calls int
}

func (c *countingJWT) Verify(ctx context.Context, domain, audience string, acr []string, raw string) (evidence.Evidence, error) {
	c.calls++
	return c.JWTChecker.Verify(ctx, domain, audience, acr, raw)
}

// One ID token signs two orders whose OIDC providers have the same settings: verified once, each
// order claims the person's evidence key; an order with another client is refused at creation.
func TestSignBatchWithOneIDToken(t *testing.T) {
	issuer := oidctest.NewIssuer(t)
	e := newEnvWith(t, &markSealer{}, nil)
	jwts := &countingJWT{JWTChecker: evidence.NewJWTVerifier(5*time.Second, true)}
	e.svc.SetJWTChecker(jwts)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	sub := "sub"
	create := func(client string) order.BatchItem {
		o, err := e.svc.CreateOrder(ctx, p, order.Draft{
			EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, OIDC: &order.OIDCProvider{
				Name: "test", Domain: issuer.URL(), ClientID: client, Audience: client, UniqueEvidenceKey: &sub}}},
			Documents:   []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
			Signatories: []order.SignatoryDraft{{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	}
	a, b, other := create("client-1"), create("client-1"), create("client-2")
	if _, err := e.svc.CreateBatchSignatory(ctx, p, []order.BatchItem{a, b, other}, nil); err == nil || !strings.Contains(err.Error(), "items[2]") {
		t.Fatalf("a batch over providers of different clients: %v", err)
	}
	batch, err := e.svc.CreateBatchSignatory(ctx, p, []order.BatchItem{a, b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bp := signing.BatchPrincipal{BatchID: batch.ID}
	if _, err := e.svc.ApproveBatch(ctx, bp); err != nil {
		t.Fatal(err)
	}
	v, _ := e.svc.BatchView(ctx, bp)
	jwt := issuer.Token(t, nil, map[string]any{"sub": "person-1"})
	// The second order's provider id names the shared provider as well as the first's.
	res, err := e.svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: v.Providers[0].IDs[b], OIDCJWT: &jwt})
	if err != nil || len(res.Failed()) != 0 {
		t.Fatalf("sign: %v %+v", err, res.Failed())
	}
	if jwts.calls != 1 {
		t.Errorf("the ID token was verified %d times, want once", jwts.calls)
	}
	for _, it := range res.Items {
		s := it.Order.Signatory(it.Item.SignatoryID)
		if s.Status != order.SignatorySigned || s.EvidenceKey == "" {
			t.Errorf("order %s: %s, evidence key %q", it.Order.ID, s.Status, s.EvidenceKey)
		}
	}
	if _, err := e.svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: v.Providers[0].ID(),
		VerifyCode: &signing.LoginCode{Code: "c", State: "s"}}); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("an authorization code: %v", err)
	}
}

// codeIdP is an OpenID provider with a token endpoint (oidctest's issuer signs its ID tokens): it
// redeems each authorization code once, as a real provider does, and puts the nonce it was given
// into the ID token.
type codeIdP struct {
	srv   *httptest.Server
	keys  *oidctest.Issuer
	mu    sync.Mutex
	nonce string
	used  map[string]bool
	// exchanges counts the token requests, refused ones too.
	exchanges int
}

func newCodeIdP(t *testing.T) *codeIdP {
	t.Helper()
	idp := &codeIdP{keys: oidctest.NewIssuer(t), used: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.srv.URL, "jwks_uri": idp.keys.URL() + "/jwks",
			"authorization_endpoint": idp.srv.URL + "/auth", "token_endpoint": idp.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		idp.exchanges++
		code, nonce := r.PostFormValue("code"), idp.nonce
		reused := idp.used[code]
		idp.used[code] = true
		idp.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if reused {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600,
			"id_token": idp.keys.Token(t, nil, map[string]any{"iss": idp.srv.URL, "nonce": nonce, "sub": "person-1"})})
	})
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

// authorized is what the provider does when the person logs in at authURL: it remembers the
// login's nonce for the ID token of the code it sends back.
func (idp *codeIdP) authorized(t *testing.T, authURL string) (state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, idp.srv.URL+"/auth") {
		t.Fatalf("authorization URL %q: %v", authURL, err)
	}
	idp.mu.Lock()
	idp.nonce = u.Query().Get("nonce")
	idp.mu.Unlock()
	return u.Query().Get("state")
}

func (idp *codeIdP) exchangeCount() int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.exchanges
}

// One login signs a batch of two orders: started for the batch (the state names no order's
// signatory), the code exchanged once and the ID token verified once, each order sealed and
// recorded on its own with the login's evidence; a second callback with the same state is refused
// without reaching the provider, and a state is bound to its batch and browser.
func TestBatchSignsWithOneLogin(t *testing.T) {
	ctx := context.Background()
	idp := newCodeIdP(t)
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	jwts := &countingJWT{JWTChecker: verifier}
	sealer := &markSealer{}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Login: login, JWT: jwts, Sealer: sealer})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	sub := "sub"
	var orders []*order.SignatureOrder
	var items []order.BatchItem
	for _, title := range []string{"A", "B"} {
		o, err := svc.CreateOrder(ctx, p, order.Draft{
			EvidenceProviders: []order.EvidenceProvider{
				{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}},
				{EnabledByDefault: true, OIDC: &order.OIDCProvider{Name: "Test ID", Domain: idp.srv.URL, ClientID: "client-1",
					Audience: "client-1", UniqueEvidenceKey: &sub}}},
			Documents:   []order.DocumentDraft{{Kind: order.DocumentPDF, Title: title, StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
			Signatories: []order.SignatoryDraft{{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
		items = append(items, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID})
	}
	b, err := svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	bp := signing.BatchPrincipal{BatchID: b.ID}
	if _, err := svc.ApproveBatch(ctx, bp); err != nil {
		t.Fatal(err)
	}
	v, err := svc.BatchView(ctx, bp)
	if err != nil {
		t.Fatal(err)
	}
	var oidcID, noopID string
	for _, bprov := range v.Providers {
		switch bprov.Provider.Kind {
		case order.ProviderOIDC:
			oidcID = bprov.ID()
		case order.ProviderNoop:
			noopID = bprov.ID()
		}
	}
	const redirect, browser = "https://sign.example/sign/callback", "the-browser"
	for _, tc := range []struct {
		name, provider, want string
	}{
		{"a provider without a login", noopID, "not an OpenID Connect evidence provider"},
		{"an unknown provider", "nope", "not an evidence provider every signatory"},
	} {
		if _, _, err := svc.StartBatchLogin(ctx, bp, tc.provider, "", redirect, browser); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	authURL, state, err := svc.StartBatchLogin(ctx, bp, oidcID, "", redirect, browser)
	if err != nil {
		t.Fatal(err)
	}
	if got := idp.authorized(t, authURL); got != state {
		t.Fatalf("the URL's state %q is not the one returned", got)
	}
	purpose, err := svc.LoginState(state)
	if err != nil || purpose.Batch != b.ID || purpose.OrderID != "" || purpose.SignatoryID != "" || purpose.Browser != browser ||
		purpose.Stage != order.EvidenceStageSign || purpose.ProviderID != oidcID {
		t.Fatalf("the state says %+v, %v; want the batch's SIGN login in this browser", purpose, err)
	}
	code := signing.LoginCode{Code: "the-code", State: state}

	// Bound to its batch and its browser: refused before the code is exchanged, or by the state's check.
	other, err := svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteBatchLogin(ctx, signing.BatchPrincipal{BatchID: other.ID}, code, browser); err == nil || !strings.Contains(err.Error(), "state") {
		t.Errorf("another batch completed the login: %v", err)
	}
	if _, err := svc.CompleteBatchLogin(ctx, bp, code, "another-browser"); err == nil || !strings.Contains(err.Error(), "state") {
		t.Errorf("another browser completed the login: %v", err)
	}
	if n := idp.exchangeCount(); n != 0 {
		t.Fatalf("%d code exchanges before the right callback", n)
	}

	res, err := svc.CompleteBatchLogin(ctx, bp, code, browser)
	if err != nil || len(res.Items) != 2 || len(res.Failed()) != 0 {
		t.Fatalf("complete: %+v, %v", res, err)
	}
	if n := idp.exchangeCount(); n != 1 {
		t.Errorf("%d code exchanges, want one for both orders", n)
	}
	if jwts.calls != 1 {
		t.Errorf("the ID token was verified %d times for signing, want once", jwts.calls)
	}
	if got := sealer.calls.Load(); got != 2 {
		t.Errorf("%d seals, want one per order", got)
	}
	for i, it := range res.Items {
		s := it.Order.Signatory(it.Item.SignatoryID)
		if it.Order.ID != orders[i].ID || s.Status != order.SignatorySigned || s.EvidenceKey == "" {
			t.Errorf("order %d: %s, evidence key %q", i, s.Status, s.EvidenceKey)
		}
		doc, err := svc.DocumentBytes(ctx, p, it.Order.ID, it.Order.Documents[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc.Current, []byte("type criipto.signature.jwt.v1")) {
			t.Errorf("order %d is not sealed with the login's ID token:\n%q", i, doc.Current[len(doc.Current)-120:])
		}
		if kinds := auditKindsOf(t, svc, p, it.Order.ID); count(kinds, order.AuditSignatorySigned) != 1 {
			t.Errorf("order %d trail %v", i, kinds)
		}
	}

	// The same state again: nothing is left to sign, refused before the provider sees the code.
	if res, err := svc.CompleteBatchLogin(ctx, bp, code, browser); err == nil || len(res.Items) != 0 || !strings.Contains(err.Error(), "can sign now") {
		t.Errorf("a second callback: %+v, %v", res, err)
	}
	if n := idp.exchangeCount(); n != 1 {
		t.Errorf("%d code exchanges after a second callback, want 1", n)
	}
	// An authorization code handed to SignBatch directly is still refused.
	if _, err := svc.SignBatch(ctx, bp, signing.SignInput{ProviderID: oidcID, VerifyCode: &code}); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("an authorization code to SignBatch: %v", err)
	}
}

func auditKindsOf(t *testing.T, svc *signing.Service, p signing.Principal, orderID string) []order.AuditKind {
	t.Helper()
	trail, err := svc.AuditTrail(context.Background(), p, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []order.AuditKind
	for _, entry := range trail {
		out = append(out, entry.Kind)
	}
	return out
}
