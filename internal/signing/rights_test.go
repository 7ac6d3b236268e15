package signing_test

import (
	"context"
	"testing"
	"time"

	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/tenant"
)

func TestSignatoryLinkOnlyForReadWriteKeys(t *testing.T) {
	e := newEnv(t)
	rw := e.principal(t, "app", tenant.KeyReadWrite)
	ro := e.principal(t, "app", tenant.KeyReadOnly)
	o := e.create(t, rw, pdftest.Make(t, 1, 0))
	id := o.Signatories[0].ID
	if href, token, ok := e.svc.SignatoryLink(rw, id); !ok || token != e.svc.SignatoryToken(id) || href != e.svc.SignatoryHref(id) {
		t.Errorf("READ_WRITE key: %q %q %v", href, token, ok)
	}
	if href, token, ok := e.svc.SignatoryLink(ro, id); ok || href != "" || token != "" {
		t.Errorf("READ_ONLY key gets %q %q %v", href, token, ok)
	}
	if rw.ClientID == "" || rw.ClientID == ro.ClientID {
		t.Errorf("principals do not name their keys: %q, %q", rw.ClientID, ro.ClientID)
	}
}

// The sweeper's expiry and the end of retention delete kept answers holding the documents they
// drop, in the same transaction; an answer that names nothing of the order stays.
func TestSweepDeletesKeptAnswersWithTheDocuments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	expiring := e.create(t, p, pdftest.Make(t, 1, 0))
	retained := e.create(t, p, pdftest.Make(t, 1, 0))
	days := 1
	if _, err := e.svc.CloseOrder(ctx, p, retained.ID, &days); err != nil {
		t.Fatal(err)
	}
	keep := func(key string, orders ...string) {
		t.Helper()
		st, _, err := e.svc.BeginIdempotent(ctx, "apikey:"+p.ClientID, key, []byte("request"))
		if err != nil || st != idempotency.Started {
			t.Fatalf("begin %s: %v %v", key, st, err)
		}
		if err := e.svc.FinishIdempotent(ctx, "apikey:"+p.ClientID, key, []byte(`{"blob":"…"}`), orders, []byte(`{"gone":true}`)); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(key string) bool {
		t.Helper()
		st, _, err := e.svc.BeginIdempotent(ctx, "apikey:"+p.ClientID, key, []byte("request"))
		if err != nil {
			t.Fatal(err)
		}
		return st == idempotency.Replay
	}
	keep("expiring", expiring.ID)
	keep("retained", retained.ID)
	keep("nothing")

	// A day and a bit later: the retention has ended, the open order is not yet expired.
	if _, err := e.svc.Sweep(ctx, time.Now().Add(25*time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if kept("retained") || !kept("expiring") || !kept("nothing") {
		t.Errorf("after the end of retention: retained %v, expiring %v, nothing %v", kept("retained"), kept("expiring"), kept("nothing"))
	}
	// Past the open order's expiry.
	if _, err := e.svc.Sweep(ctx, expiring.ExpiresAt.Add(time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Order(ctx, p, expiring.ID); got.Status != order.StatusExpired {
		t.Fatalf("order is %s after its expiry", got.Status)
	}
	if kept("expiring") || !kept("nothing") {
		t.Errorf("after the expiry: expiring %v, nothing %v", kept("expiring"), kept("nothing"))
	}
}
