package signing_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	iofs "io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// A stored version records a keyed fingerprint of its bytes, not their SHA-256: the database file
// does not confirm a guessed document.
func TestStoredDocumentHashIsKeyed(t *testing.T) {
	e := newEnv(t)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	data := pdftest.Make(t, 1, 0)
	o := e.create(t, p, data)
	plain := sha256.Sum256(data)
	plainHex := hex.EncodeToString(plain[:])
	stored, err := e.store.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := stored.Documents[0].Versions[0].Fingerprint
	mac := hmac.New(sha256.New, bytes.Repeat([]byte{7}, 32)) // newEnv's token key
	mac.Write([]byte("esign document fingerprint v1\x00"))
	mac.Write(data)
	if want := "hmac-sha256:" + hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("stored hash = %q, want the keyed fingerprint %q", got, want)
	}
	raw, err := os.ReadFile(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(e.dbPath + "-wal"); err == nil {
		raw = append(raw, wal...)
	}
	if bytes.Contains(raw, []byte(plainHex)) || bytes.Contains(raw, plain[:]) {
		t.Error("the database file holds the document's plain SHA-256")
	}
}

// What `kill -9` during a blob write leaves (a temporary file in the blob folder) is deleted by the
// orphan pass once it is older than the grace; a fresh one, which may be a write in flight, stays.
func TestOrphanPassRemovesStaleTemporaryBlobFiles(t *testing.T) {
	e := newEnv(t)
	// The blob folder itself, not the counting wrapper newEnv puts around it (as server.go wires it).
	svc := signing.New(e.store, e.blobs, nil, pdf.Inspect, signing.Config{PublicURL: "https://sign.example"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir := filepath.Join(filepath.Dir(e.dbPath), "blobs")
	now := time.Now()
	plant := func(name string, age time.Duration) string {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, 1024), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return path
	}
	old := plant("orders.d/0190a5f0-0000-7000-8000-000000000001.d/doc.d/.tmp-4242", 3*time.Hour)
	fresh := plant("orders.d/0190a5f0-0000-7000-8000-000000000002.d/doc.d/.tmp-4343", 10*time.Minute)

	r, err := svc.SweepOrphanBlobs(context.Background(), now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("the temporary file of a write killed 3 h ago survived the orphan pass (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the temporary file of a write 10 min ago (inside the 1 h grace) was deleted: %v", err)
	}
	if r.OrphansDeleted != 1 {
		t.Errorf("OrphansDeleted = %d, want 1", r.OrphansDeleted)
	}
}
