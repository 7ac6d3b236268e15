package pki_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"esign/internal/netguard"
	"esign/internal/netguard/netguardtest"
	"esign/internal/pki"
)

// The OCSP and CRL addresses come from certificates, and a document's signatures can carry anyone's:
// with the server's outbound client, one that names loopback is refused and never contacted.
func TestRevocationURLsOnLoopbackAreNotFetched(t *testing.T) {
	l := netguardtest.Listen(t)
	now := time.Now()
	caKey, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewRootCA("hostile root", caKey, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	inner := "http://127.0.0.1:" + l.Port()
	cert, err := ca.Issue(pki.IssueRequest{CommonName: "hostile signer", PublicKey: key.Public(), Usage: pki.UsageSeal, NotBefore: now,
		Validity: time.Hour, OCSPURL: inner + pki.OCSPPath, CRLURL: inner + pki.CRLPath})
	if err != nil {
		t.Fatal(err)
	}
	r := &pki.Revocation{HTTP: netguard.New(netguard.Config{}).Client(netguard.Options{Timeout: 5 * time.Second})}
	if _, err := r.Collect(context.Background(), []*x509.Certificate{cert, ca.Cert}); !errors.Is(err, netguard.ErrNotPublic) {
		t.Errorf("Collect: %v, want refused as not a public address", err)
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}
