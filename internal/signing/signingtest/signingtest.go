// Package signingtest builds the application service on real embedded parts for tests of the
// packages that drive it (signing, sweeper, the HSM outage test): SQLite, a blob folder, and the two
// envelope layers as key files.
package signingtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"esign/internal/blob"
	blobfs "esign/internal/blob/fs"
	"esign/internal/envelope"
	"esign/internal/pdf"
	"esign/internal/signing"
	"esign/internal/store"
	"esign/internal/store/sqlite"
	"esign/internal/tenant"
)

// Embedded opens SQLite and a blob folder in dir, closed when the test ends.
func Embedded(t testing.TB, dir string) (store.Store, blob.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "esign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return st, blobs
}

// FileKey is a key-file wrapper at path, created when missing (replicas sharing the path share it).
func FileKey(t testing.TB, path string) envelope.KeyWrapper {
	t.Helper()
	k, err := envelope.NewFileKeyWrapper(path, true)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FileKeys is the envelope with both layers as key files in dir.
func FileKeys(t testing.TB, dir string) *envelope.Envelope {
	t.Helper()
	return envelope.New(FileKey(t, filepath.Join(dir, "inner.json")), FileKey(t, filepath.Join(dir, "outer.json")))
}

// Config is the configuration the tests share (public URL, a 2 MiB document limit, a fixed token
// key) with the sealer, finalizer and the like of cfg.
func Config(cfg signing.Config) signing.Config {
	cfg.PublicURL = "https://sign.example"
	cfg.MaxDocumentBytes = 2 << 20
	cfg.TokenKey = bytes.Repeat([]byte{7}, 32)
	return cfg
}

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// New is the service on st and blobs with crypt, PDF intake and Config(cfg).
func New(st store.Store, blobs blob.Store, crypt signing.Encrypter, cfg signing.Config) *signing.Service {
	return signing.New(st, blobs, crypt, pdf.Inspect, Config(cfg), Discard())
}

// Principal creates an API key of mode for the TEST application app (creating it when new) and
// returns the key's principal, as Authenticate gives it.
func Principal(t testing.TB, svc *signing.Service, app string, mode tenant.KeyMode) signing.Principal {
	t.Helper()
	ctx := context.Background()
	creds, err := svc.CreateAPIKey(ctx, app, tenant.EnvironmentTest, mode, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, creds.ClientID, creds.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
