package signing_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/envelope"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/store"
	"esign/internal/tenant"
	"esign/internal/webhook"
)

// signedBy is a receiver that counts requests whose X-Criipto-Signature checks with its secret.
type signedBy struct {
	mu        sync.Mutex
	secret    []byte
	good, bad int
}

func (s *signedBy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get(webhook.HeaderCriiptoSignature) == webhook.Sign(s.secret, body) {
		s.good++
	} else {
		s.bad++
	}
}

func (s *signedBy) counts() (good, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.good, s.bad
}

// assertNotInFile fails when a file (and its write-ahead log) holds the secret raw, in base64 (as
// JSON writes bytes) or in hex.
func assertNotInFile(t *testing.T, path string, secret []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(path + "-wal"); err == nil {
		raw = append(raw, wal...)
	}
	for _, form := range [][]byte{secret, []byte(base64.StdEncoding.EncodeToString(secret)), []byte(hex.EncodeToString(secret))} {
		if bytes.Contains(raw, form) {
			t.Errorf("%s holds the webhook secret (%.12q…)", path, form)
		}
	}
}

// dispatcher delivers e's webhooks (to loopback receivers), opening their secrets with e's service.
func (e *env) dispatcher(t *testing.T) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.New(e.store, webhook.Config{Workers: 1, Timeout: 5 * time.Second, PollInterval: time.Second, AllowPrivateTargets: true},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	d.DecryptSecret = e.svc.DecryptWebhookSecret
	return d
}

func oneDocument(t *testing.T) []order.DocumentDraft {
	return []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}}
}

// Webhook secrets are encrypted in the order row and in every delivery row; the dispatcher decrypts them
// to sign, and the receiver checks the signature with the secret the caller gave (also after a
// change of secret).
func TestWebhookSecretEncryptedAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	first, second := bytes.Repeat([]byte{0xA5, 'k'}, 16), bytes.Repeat([]byte("second-secret-"), 4)[:48]
	receiver := &signedBy{secret: first}
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)

	o, err := e.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}}, Documents: oneDocument(t),
		Webhook: &order.Webhook{URL: srv.URL + "/hook", Secret: first}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(stored.Webhook.Secret, first) || bytes.Contains(stored.Webhook.Secret, first) {
		t.Fatal("the order keeps the webhook secret in clear")
	}

	d := e.dispatcher(t)
	signatory := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	deliver := func(download bool) {
		t.Helper()
		if _, _, err := e.svc.Track(ctx, signatory, download); err != nil {
			t.Fatal(err)
		}
		claimed, err := e.store.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: time.Now().Add(time.Minute), Lease: time.Minute, Limit: 10})
		if err != nil || len(claimed) == 0 {
			t.Fatalf("claimed %d deliveries (%v)", len(claimed), err)
		}
		for _, del := range claimed {
			if bytes.Contains(del.Secret, receiver.secret) {
				t.Errorf("delivery %s holds the webhook secret in clear", del.ID)
			}
			inv := d.Attempt(ctx, del)
			if inv.Outcome != order.InvocationSuccess {
				t.Errorf("attempt: %s %v", inv.Outcome, inv.Exception)
			}
			if err := e.store.RecordWebhookInvocation(ctx, inv); err != nil {
				t.Fatal(err)
			}
		}
		if good, bad := receiver.counts(); good != 1 || bad != 0 {
			t.Errorf("the receiver checked %d signatures good and %d bad, want 1 good", good, bad)
		}
	}
	deliver(false) // SIGNATORY_SIGN_LINK_OPENED

	// A new secret: encrypted too, and the receiver now checks with it.
	if _, err := e.svc.ChangeOrder(ctx, p, o.ID, nil, &order.Webhook{URL: srv.URL + "/hook", Secret: second}); err != nil {
		t.Fatal(err)
	}
	receiver.mu.Lock()
	receiver.secret, receiver.good = second, 0
	receiver.mu.Unlock()
	deliver(true) // SIGNATORY_DOWNLOAD_LINK_OPENED

	e.store.Close() // flushes the write-ahead log into the file
	assertNotInFile(t, e.dbPath, first)
	assertNotInFile(t, e.dbPath, second)
}

// A encrypted secret decrypts only for its own order: copied into another order's delivery it fails, and
// a secret stored in clear before encryption (an older row) is still used as it is.
func TestWebhookSecretBoundToItsOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	secret := bytes.Repeat([]byte{1, 2, 3, 4}, 8)
	hook := &order.Webhook{URL: "https://hooks.example/x", Secret: secret}
	a, err := e.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}}, Documents: oneDocument(t), Webhook: hook})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}}, Documents: oneDocument(t)})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.GetOrder(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	del := store.WebhookDelivery{ID: "d", ApplicationID: a.ApplicationID, OrderID: a.ID, Secret: stored.Webhook.Secret}
	if got, err := e.svc.DecryptWebhookSecret(ctx, del); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open in its own order: %v", err)
	}
	moved := del
	moved.OrderID = b.ID
	if _, err := e.svc.DecryptWebhookSecret(ctx, moved); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("decrypted in another order: %v", err)
	}
	tampered := del
	tampered.Secret = bytes.Clone(del.Secret)
	tampered.Secret[len(tampered.Secret)-3] ^= 1
	if _, err := e.svc.DecryptWebhookSecret(ctx, tampered); err == nil {
		t.Error("a tampered encrypted secret decrypted")
	}
	// The dispatcher sends nothing for a secret that does not open, and logs why without internals.
	receiver := &signedBy{secret: secret}
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)
	d := e.dispatcher(t)
	moved.URL, moved.Attempt = srv.URL, 1
	inv := d.Attempt(ctx, moved)
	if good, bad := receiver.counts(); good+bad != 0 || inv.Outcome != order.InvocationException || inv.RetryingAt == nil ||
		inv.Exception == nil || strings.Contains(*inv.Exception, "layer") {
		t.Errorf("a secret that does not open: %d requests sent, outcome %s, exception %v, retry %v", good+bad, inv.Outcome, inv.Exception, inv.RetryingAt)
	}
	legacy := del
	legacy.Secret = secret
	if got, err := e.svc.DecryptWebhookSecret(ctx, legacy); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("a secret stored in clear before encryption: %v", err)
	}
}

// Secrets stored in clear before encryption (an order and a delivery from an older version) are encrypted
// by EncryptStoredWebhookSecrets, once: deliveries then still verify with the caller's secret, and the
// database file no longer holds it.
func TestEncryptStoredWebhookSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	secret := bytes.Repeat([]byte("legacy-secret-32"), 2)
	receiver := &signedBy{secret: secret}
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)
	o, err := e.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}}, Documents: oneDocument(t),
		Webhook: &order.Webhook{URL: srv.URL, Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	// What an older version wrote: the secret in clear in the order, and so in its delivery.
	if _, err := e.store.UpdateOrder(ctx, o.ID, func(o *order.SignatureOrder) error {
		o.Webhook.Secret = secret
		return o.Track(o.Signatories[0].ID, false, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	orders, deliveries, err := e.svc.EncryptStoredWebhookSecrets(ctx)
	if err != nil || orders != 1 || deliveries != 1 {
		t.Fatalf("encrypted %d orders and %d deliveries (%v), want 1 and 1", orders, deliveries, err)
	}
	if orders, deliveries, err := e.svc.EncryptStoredWebhookSecrets(ctx); err != nil || orders != 0 || deliveries != 0 {
		t.Errorf("a second run encrypted %d orders and %d deliveries (%v), want none", orders, deliveries, err)
	}
	stored, err := e.store.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.Webhook.Secret, secret) {
		t.Error("the order still holds the secret in clear")
	}
	d := e.dispatcher(t)
	if _, _, err := e.svc.Track(ctx, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}, true); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 2 {
		t.Fatalf("delivered %d (%v), want the old delivery and a new one", n, err)
	}
	if good, bad := receiver.counts(); good != 2 || bad != 0 {
		t.Errorf("the receiver checked %d signatures good and %d bad, want 2 good", good, bad)
	}
	e.store.Close()
	assertNotInFile(t, e.dbPath, secret)
}
