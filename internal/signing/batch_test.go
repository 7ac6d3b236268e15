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
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
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
	trail, err := e.svc.AuditTrail(context.Background(), p, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []order.AuditKind
	for _, entry := range trail {
		out = append(out, entry.Kind)
	}
	return out
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
