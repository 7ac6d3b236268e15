package keyring

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/envelope"
)

func fileConfig(dir string) Config {
	return Config{
		InnerKeyFile: filepath.Join(dir, "keys", "inner.json"),
		OuterKeyFile: filepath.Join(dir, "keys", "outer.json"),
		TokenKeyFile: filepath.Join(dir, "keys", "token.key"),
		PKIDir:       filepath.Join(dir, "pki"),
		PublicURL:    "http://localhost:8080",
	}
}

// Without leave to create, a fresh folder stays empty and every opener says what is missing; with
// CreateAll the keys are made once and opened as they are afterwards.
func TestCreateOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir)
	for _, create := range []Create{OpenOnly, CreateInHSM} {
		if _, err := Open(cfg, create, time.Now()); err == nil {
			t.Errorf("Open(%d) on a fresh folder: no error", create)
		}
		if _, _, err := OpenEnvelope(cfg, create); err == nil {
			t.Errorf("OpenEnvelope(%d) on a fresh folder: no error", create)
		}
		if _, err := OpenTokenKey(cfg.TokenKeyFile, create); err == nil {
			t.Errorf("OpenTokenKey(%d) on a fresh folder: no error", create)
		}
		if _, err := OpenPKI(cfg, create, time.Now(), nil); err == nil {
			t.Errorf("OpenPKI(%d) on a fresh folder: no error", create)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("opening without leave to create wrote %v (%v)", entries, err)
	}

	made, err := Open(cfg, CreateAll, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer made.Close()
	b := envelope.Binding{ApplicationID: "app", OrderID: "order", DocumentID: "doc", Version: 1}
	sealed, wrapped, err := made.Envelope.Encrypt(context.Background(), []byte("document"), b)
	if err != nil {
		t.Fatal(err)
	}
	if !made.PKI.Created || len(made.TokenKey) != 32 || made.Envelope == nil {
		t.Fatalf("CreateAll on a fresh folder: PKI created %v, token key %d bytes", made.PKI.Created, len(made.TokenKey))
	}
	opened, err := Open(cfg, OpenOnly, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	if opened.PKI.Created || !bytes.Equal(opened.TokenKey, made.TokenKey) || !opened.PKI.Seal.Cert.Equal(made.PKI.Seal.Cert) {
		t.Errorf("reopened keys differ from the ones made (PKI created again: %v)", opened.PKI.Created)
	}
	if plain, err := opened.Envelope.Decrypt(context.Background(), sealed, wrapped, b); err != nil || string(plain) != "document" {
		t.Errorf("a document sealed before reopening: %q, %v", plain, err)
	}
}

func TestTokenKeyTooShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.key")
	if err := os.WriteFile(path, make([]byte, 16), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTokenKey(path, CreateAll); err == nil {
		t.Error("a 16-byte token key was accepted")
	}
}
