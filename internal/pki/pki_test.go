package pki_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pki"
	"esign/internal/testenv"
)

func TestLocalPKICreateLoadAndUsages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	if _, err := pki.LoadOrCreateLocal(dir, false, now, nil, ""); err == nil {
		t.Fatal("a missing PKI was accepted without create")
	}
	made, err := pki.LoadOrCreateLocal(dir, true, now, nil, "")
	if err != nil || !made.Created {
		t.Fatalf("create: %v (created %v)", err, made != nil && made.Created)
	}
	again, err := pki.LoadOrCreateLocal(dir, false, now, nil, "")
	if err != nil || again.Created {
		t.Fatalf("load: %v", err)
	}
	if !again.Seal.Cert.Equal(made.Seal.Cert) || !again.TSA.Cert.Equal(made.TSA.Cert) || !again.CA.Cert.Equal(made.CA.Cert) {
		t.Error("loading gave other certificates than creating")
	}
	roots := x509.NewCertPool()
	roots.AddCert(made.CA.Cert)
	for name, c := range map[string]struct {
		cert  *x509.Certificate
		usage x509.ExtKeyUsage
	}{"seal": {made.Seal.Cert, x509.ExtKeyUsageAny}, "tsa": {made.TSA.Cert, x509.ExtKeyUsageTimeStamping}} {
		if _, err := c.cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{c.usage}}); err != nil {
			t.Errorf("%s does not verify: %v", name, err)
		}
	}
	if made.Seal.Cert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Error("the seal certificate lacks nonRepudiation")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", e.Name(), info.Mode().Perm())
		}
	}
	// Close to expiry, leaves are re-issued for the same keys.
	later, err := pki.LoadOrCreateLocal(dir, false, made.Seal.Cert.NotAfter.Add(-24*time.Hour), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if later.Seal.Cert.Equal(made.Seal.Cert) || !later.Seal.Cert.PublicKey.(*rsa.PublicKey).Equal(made.Seal.Cert.PublicKey) {
		t.Error("an expiring seal certificate was not renewed for the same key")
	}
}

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// The sealing key can live in an HSM: the local PKI then issues the seal certificate for it and keeps
// no seal key file.
func TestSealKeyInHSM(t *testing.T) {
	tok := testenv.SoftHSM(t)
	cfg := pki.PKCS11KeyConfig{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel, PIN: tok.PIN, KeyLabel: tok.KeyLabel}
	if _, _, err := pki.PKCS11Signer(cfg); err == nil {
		t.Fatal("a missing HSM key was accepted without Create")
	}
	cfg.Create = true
	key, closer, err := pki.PKCS11Signer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	dir := filepath.Join(t.TempDir(), "pki")
	local, err := pki.LoadOrCreateLocal(dir, true, time.Now(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	if !local.Seal.Cert.PublicKey.(*rsa.PublicKey).Equal(key.Public()) {
		t.Fatal("the seal certificate is not for the HSM key")
	}
	if _, err := os.Stat(filepath.Join(dir, "seal.key")); !os.IsNotExist(err) {
		t.Errorf("a seal key file exists beside the HSM key (%v)", err)
	}
	digest := sha256.Sum256([]byte("document"))
	sig, err := local.Seal.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(local.Seal.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("HSM signature does not verify with the seal certificate: %v", err)
	}
	cfg.Create = false
	again, closer2, err := pki.PKCS11Signer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closer2.Close()
	reloaded, err := pki.LoadOrCreateLocal(dir, false, time.Now(), again, "")
	if err != nil || !reloaded.Seal.Cert.Equal(local.Seal.Cert) {
		t.Fatalf("reload with the same HSM key re-issued the certificate (%v)", err)
	}
}
