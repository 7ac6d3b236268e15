package signing_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"esign/internal/blob"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/store"
	"esign/internal/tenant"
)

// env is a service on real parts: SQLite, a blob folder and file key wrappers in a temp dir.
type env struct {
	svc     *signing.Service
	store   store.Store
	blobs   blob.Store
	deletes *countingBlobs
	dbPath  string
}

// countingBlobs counts the service's deletes per key.
type countingBlobs struct {
	blob.Store
	mu      sync.Mutex
	deleted map[string]int
}

func (c *countingBlobs) Delete(ctx context.Context, key string) error {
	c.mu.Lock()
	c.deleted[key]++
	c.mu.Unlock()
	return c.Store.Delete(ctx, key)
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil, nil) }

func newEnvWith(t *testing.T, sealer signing.DocumentSealer, finalizer signing.DocumentFinalizer) *env {
	t.Helper()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	counting := &countingBlobs{Store: blobs, deleted: map[string]int{}}
	svc := signingtest.New(st, counting, signingtest.FileKeys(t, dir), signing.Config{Sealer: sealer, Finalizer: finalizer})
	return &env{svc: svc, store: st, blobs: blobs, deletes: counting, dbPath: filepath.Join(dir, "esign.db")}
}

func (e *env) principal(t *testing.T, app string, mode tenant.KeyMode) signing.Principal {
	return signingtest.Principal(t, e.svc, app, mode)
}

func (e *env) create(t *testing.T, p signing.Principal, docs ...[]byte) *order.SignatureOrder {
	t.Helper()
	d := order.Draft{Signatories: []order.SignatoryDraft{{}, {}}}
	for i, data := range docs {
		d.Documents = append(d.Documents, order.DocumentDraft{Kind: order.DocumentPDF, Title: "Doc " + string(rune('A'+i)),
			StorageMode: order.StorageModeTemporary, Data: data})
	}
	o, err := e.svc.CreateOrder(context.Background(), p, d)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func wantCode(t *testing.T, err error, code fault.Code) {
	t.Helper()
	de, ok := fault.As(err)
	if !ok || de.Code != code {
		t.Fatalf("error = %v, want a %s domain error", err, code)
	}
}

func TestCreateStoresEncryptedAndReadsBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	a, b := pdftest.Make(t, 1, 0), pdftest.Make(t, 3, 50_000)
	o := e.create(t, p, a, b)
	for i, want := range [][]byte{a, b} {
		got, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Current, want) || !bytes.Equal(got.Original, want) {
			t.Errorf("document %d bytes differ after the round trip", i)
		}
	}
	// Tokens: derived, 256-bit, indexed by hash only, never stored in clear.
	for _, s := range o.Signatories {
		token := e.svc.SignatoryToken(s.ID)
		if len(token) != 43 {
			t.Errorf("token length %d, want 43 (256 bits, base64url)", len(token))
		}
		if href := e.svc.SignatoryHref(s.ID); href != "https://sign.example/sign/"+token {
			t.Errorf("href = %q", href)
		}
		id, err := e.store.FindOrderID(ctx, store.IndexSignatoryToken, signing.TokenHash(token))
		if err != nil || id != o.ID {
			t.Errorf("token lookup: %q, %v", id, err)
		}
		db, err := os.ReadFile(e.dbPath)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(db, []byte(token)) {
			t.Error("the database holds a signatory token in clear text")
		}
	}
}

func TestIsolationBetweenApplications(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.principal(t, "alice", tenant.KeyReadWrite), e.principal(t, "bob", tenant.KeyReadWrite)
	o := e.create(t, alice, pdftest.Make(t, 1, 0))
	if got, err := e.svc.Order(ctx, bob, o.ID); err != nil || got != nil {
		t.Errorf("bob sees alice's order: %v %v", got, err)
	}
	for kind, find := range map[string]func(p signing.Principal) (*order.SignatureOrder, error){
		"signatory": func(p signing.Principal) (*order.SignatureOrder, error) {
			return e.svc.OrderOfSignatory(ctx, p, o.Signatories[0].ID)
		},
		"document": func(p signing.Principal) (*order.SignatureOrder, error) {
			return e.svc.OrderOfDocument(ctx, p, o.Documents[0].ID)
		},
	} {
		if got, err := find(bob); err != nil || got != nil {
			t.Errorf("bob finds alice's order by its %s: %v %v", kind, got, err)
		}
		if got, err := find(alice); err != nil || got == nil || got.ID != o.ID {
			t.Errorf("alice does not find her own order by its %s: %v %v", kind, got, err)
		}
	}
	if b, err := e.svc.DocumentBytes(ctx, bob, o.ID, o.Documents[0].ID); err != nil || b.Current != nil {
		t.Errorf("bob reads alice's document: %d bytes, %v", len(b.Current), err)
	}
	_, err := e.svc.CancelOrder(ctx, bob, o.ID)
	wantCode(t, err, fault.CodeNotFound)
	if got, _ := e.svc.Order(ctx, alice, o.ID); got.Status != order.StatusOpen {
		t.Errorf("bob's cancel changed alice's order: %s", got.Status)
	}
}

func TestReadOnlyKeyCannotChangeAnything(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rw := e.principal(t, "app", tenant.KeyReadWrite)
	ro := e.principal(t, "app", tenant.KeyReadOnly)
	o := e.create(t, rw, pdftest.Make(t, 1, 0))
	_, err := e.svc.CreateOrder(ctx, ro, order.Draft{})
	wantCode(t, err, fault.CodeForbidden)
	_, err = e.svc.CancelOrder(ctx, ro, o.ID)
	wantCode(t, err, fault.CodeForbidden)
	_, err = e.svc.CloseOrder(ctx, ro, o.ID, nil)
	wantCode(t, err, fault.CodeForbidden)
	if got, _ := e.svc.Order(ctx, ro, o.ID); got == nil || got.Status != order.StatusOpen {
		t.Errorf("read-only key cannot read, or changed the order: %+v", got)
	}
}

// A ciphertext moved onto another document's blob path must not decrypt: associated data binds it.
func TestBlobMovedToAnotherDocumentFailsToDecrypt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := e.create(t, p, pdftest.Make(t, 1, 0), pdftest.Make(t, 2, 0))
	moved, err := e.blobs.Get(ctx, o.Documents[0].Versions[0].BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.blobs.Put(ctx, o.Documents[1].Versions[0].BlobKey, moved); err != nil {
		t.Fatal(err)
	}
	if b, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[1].ID); err == nil {
		t.Fatalf("moved blob decrypted (%d bytes)", len(b.Current))
	}
	// The untouched document still opens.
	if _, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[0].ID); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWithoutRetentionAnswersThenShreds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	doc := pdftest.Make(t, 2, 0)
	o := e.create(t, p, doc)
	blobPath := o.Documents[0].Versions[0].BlobKey
	closed, err := e.svc.CloseOrder(ctx, p, o.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(closed.Bytes[o.Documents[0].ID].Current, doc) {
		t.Error("close did not answer with the document")
	}
	if closed.Order.Status != order.StatusClosed || closed.Order.ClosedAt == nil {
		t.Errorf("status %s closedAt %v", closed.Order.Status, closed.Order.ClosedAt)
	}
	assertShredded(t, e, p, o.ID, blobPath)
	// Cleanup of an order whose documents are gone succeeds, twice.
	for i := 0; i < 2; i++ {
		if _, err := e.svc.CleanupOrder(ctx, p, o.ID); err != nil {
			t.Fatalf("cleanup %d: %v", i+1, err)
		}
	}
	_, err = e.svc.CloseOrder(ctx, p, o.ID, nil)
	wantCode(t, err, fault.CodeConflict)
}

// assertShredded: blob gone, no version (so no wrapped key) left in the stored order, bytes unreadable.
func assertShredded(t *testing.T, e *env, p signing.Principal, orderID, blobKey string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.blobs.Get(ctx, blobKey); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("blob %s still exists (%v)", blobKey, err)
	}
	stored, err := e.store.GetOrder(ctx, orderID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range stored.Documents {
		if len(d.Versions) != 0 || d.DeletedAt == nil {
			t.Errorf("document %s keeps %d versions (wrapped keys) after deletion", d.ID, len(d.Versions))
		}
	}
	b, err := e.svc.DocumentBytes(ctx, p, orderID, stored.Documents[0].ID)
	if err != nil || b.Current != nil || b.Original != nil {
		t.Errorf("deleted document still readable: %d bytes, %v", len(b.Current), err)
	}
}

func TestCloseWithRetentionKeepsUntilCleanup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	doc := pdftest.Make(t, 1, 0)
	o := e.create(t, p, doc)
	blobPath := o.Documents[0].Versions[0].BlobKey
	for _, bad := range []int{0, 8, -1} {
		_, err := e.svc.CloseOrder(ctx, p, o.ID, &bad)
		wantCode(t, err, fault.CodeInvalid)
	}
	days := 3
	closed, err := e.svc.CloseOrder(ctx, p, o.ID, &days)
	if err != nil {
		t.Fatal(err)
	}
	if want := closed.Order.ClosedAt.AddDate(0, 0, 3); closed.Order.RetainDocumentsUntil == nil || !closed.Order.RetainDocumentsUntil.Equal(want) {
		t.Errorf("retain until %v, want %v", closed.Order.RetainDocumentsUntil, want)
	}
	b, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[0].ID)
	if err != nil || !bytes.Equal(b.Current, doc) {
		t.Fatalf("retained document unreadable: %v", err)
	}
	// Ten concurrent cleanups: all succeed, the documents are deleted once.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CleanupOrder(ctx, p, o.ID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent cleanup: %v", err)
		}
	}
	assertShredded(t, e, p, o.ID, blobPath)
	if n := e.deletes.deleted[blobPath]; n != 1 {
		t.Errorf("the blob was deleted %d times by ten cleanups, want once", n)
	}
}

func TestCancelDeletesDocumentsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := e.create(t, p, pdftest.Make(t, 1, 0))
	blobPath := o.Documents[0].Versions[0].BlobKey
	got, err := e.svc.CancelOrder(ctx, p, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != order.StatusCancelled {
		t.Errorf("status %s", got.Status)
	}
	assertShredded(t, e, p, o.ID, blobPath)
	_, err = e.svc.CancelOrder(ctx, p, o.ID)
	wantCode(t, err, fault.CodeConflict)
	_, _, err = e.svc.AddSignatories(ctx, p, o.ID, []order.SignatoryDraft{{}})
	wantCode(t, err, fault.CodeConflict)
}

func TestSignatoryChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := e.create(t, p, pdftest.Make(t, 1, 0))
	ref := "new-ref"
	o2, ids, err := e.svc.AddSignatories(ctx, p, o.ID, []order.SignatoryDraft{{Reference: &ref}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || len(o2.Signatories) != 3 || *o2.Signatory(ids[0]).Reference != ref {
		t.Fatalf("add: ids %v, %d signatories", ids, len(o2.Signatories))
	}
	seq := 5
	o3, err := e.svc.ChangeSignatory(ctx, p, ids[0], order.SignatoryDraft{SigningSequence: &seq})
	if err != nil {
		t.Fatal(err)
	}
	if s := o3.Signatory(ids[0]); s.SigningSequence != 5 || *s.Reference != ref {
		t.Errorf("change: %+v", s)
	}
	if _, err := e.svc.DeleteSignatory(ctx, p, o.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if id, err := e.store.FindOrderID(ctx, store.IndexSignatory, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted signatory still indexed: %q %v", id, err)
	}
	_, err = e.svc.DeleteSignatory(ctx, p, o.ID, ids[0])
	if de, ok := fault.As(err); !ok || de.Message != "signatureOrder does not contain the defined signatory" {
		t.Errorf("delete unknown signatory: %v", err)
	}
	_, err = e.svc.ChangeSignatory(ctx, p, "no-such-signatory", order.SignatoryDraft{})
	wantCode(t, err, fault.CodeNotFound)
}

func TestExtendAddsExactDays(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := e.create(t, p, pdftest.Make(t, 1, 0))
	for _, bad := range []int{0, 31, -2} {
		_, err := e.svc.ExtendOrder(ctx, p, o.ID, bad)
		wantCode(t, err, fault.CodeInvalid)
	}
	got, err := e.svc.ExtendOrder(ctx, p, o.ID, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := o.ExpiresAt.AddDate(0, 0, 7); !got.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt %v, want %v", got.ExpiresAt, want)
	}
}

func TestListOrdersPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	other := e.principal(t, "other", tenant.KeyReadWrite)
	e.create(t, other, pdftest.Make(t, 1, 0))
	made := map[string]bool{}
	for i := 0; i < 5; i++ {
		made[e.create(t, p, pdftest.Make(t, 1, 0)).ID] = true
	}
	seen := map[string]bool{}
	var after *string
	two := 2
	for page := 0; ; page++ {
		res, err := e.svc.ListOrders(ctx, p, &two, after, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalCount != 5 {
			t.Errorf("totalCount %d, want 5", res.TotalCount)
		}
		for _, o := range res.Orders {
			if seen[o.ID] || !made[o.ID] {
				t.Errorf("page %d: order %s repeated or not ours", page, o.ID)
			}
			seen[o.ID] = true
		}
		if !res.HasNext {
			break
		}
		after = &res.Cursors[len(res.Cursors)-1]
	}
	if len(seen) != 5 {
		t.Errorf("saw %d orders, want 5", len(seen))
	}
	bad := "not-a-cursor!"
	_, err := e.svc.ListOrders(ctx, p, &two, &bad, nil)
	wantCode(t, err, fault.CodeInvalid)
	zero := 0
	_, err = e.svc.ListOrders(ctx, p, &zero, nil, nil)
	wantCode(t, err, fault.CodeInvalid)
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds, err := e.svc.CreateAPIKey(ctx, "app", tenant.EnvironmentProduction, tenant.KeyReadWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]string{
		"wrong secret": {creds.ClientID, creds.ClientSecret + "x"},
		"unknown id":   {"nobody", creds.ClientSecret},
		"empty":        {"", ""},
	} {
		_, err := e.svc.Authenticate(ctx, c[0], c[1])
		if de, ok := fault.As(err); !ok || de.Message != "Unauthorized access" {
			t.Errorf("%s: %v", name, err)
		}
	}
	db, err := os.ReadFile(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(creds.ClientSecret)) {
		t.Error("the API secret is stored in clear text")
	}
	// A second key for the same name reuses the application.
	again, err := e.svc.CreateAPIKey(ctx, "app", tenant.EnvironmentTest, tenant.KeyReadOnly, nil)
	if err != nil || again.ApplicationID != creds.ApplicationID {
		t.Errorf("second key: app %q vs %q, %v", again.ApplicationID, creds.ApplicationID, err)
	}
	// PRODUCTION applications may not use the noop provider.
	p, _ := e.svc.Authenticate(ctx, creds.ClientID, creds.ClientSecret)
	_, err = e.svc.CreateOrder(ctx, p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{Noop: &order.NoopProvider{Name: "n"}}},
		Documents:         []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
	})
	if de, ok := fault.As(err); !ok || !strings.Contains(de.Message, "only available to TEST applications") {
		t.Errorf("noop for production: %v", err)
	}
}

// After deletion the wrapped keys are gone from the database file itself, not only from the rows
// the store returns (SQLite runs with secure_delete, and closing checkpoints the WAL).
func TestShreddedKeysLeaveTheDatabaseFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := e.create(t, p, pdftest.Make(t, 1, 0))
	keys := o.Documents[0].Versions[0].Keys
	if _, err := e.svc.CancelOrder(ctx, p, o.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, wrapped := range map[string][]byte{"inner": keys.Inner, "outer": keys.Outer} {
		if len(wrapped) < 16 {
			t.Fatalf("%s wrapped key is only %d bytes", name, len(wrapped))
		}
		if bytes.Contains(db, []byte(base64.StdEncoding.EncodeToString(wrapped)[:24])) || bytes.Contains(db, wrapped[:16]) {
			t.Errorf("the %s wrapped key is still in the database file after deletion", name)
		}
	}
}
