package pki_test

import (
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pki"
)

func TestLocalPKICreateLoadAndUsages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	if _, err := pki.LoadOrCreateLocal(dir, false, now); err == nil {
		t.Fatal("a missing PKI was accepted without create")
	}
	made, err := pki.LoadOrCreateLocal(dir, true, now)
	if err != nil || !made.Created {
		t.Fatalf("create: %v (created %v)", err, made != nil && made.Created)
	}
	again, err := pki.LoadOrCreateLocal(dir, false, now)
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
	later, err := pki.LoadOrCreateLocal(dir, false, made.Seal.Cert.NotAfter.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if later.Seal.Cert.Equal(made.Seal.Cert) || !later.Seal.Cert.PublicKey.(*rsa.PublicKey).Equal(made.Seal.Cert.PublicKey) {
		t.Error("an expiring seal certificate was not renewed for the same key")
	}
}
