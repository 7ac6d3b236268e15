// Package pkitest builds a throwaway PKI for tests: a root CA, a sealing identity and an in-process
// RFC 3161 TSA, all valid for an hour.
package pkitest

import (
	"testing"
	"time"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// Fixture is a root CA with a sealing identity and a TSA it issued.
type Fixture struct {
	CA   *pki.Authority
	Seal *pki.Identity
	TSA  *tsa.Server
}

// New makes a fixture.
func New(t testing.TB) *Fixture {
	t.Helper()
	now := time.Now()
	caKey, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewRootCA("esign test root", caKey, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ca.NewIdentity("esign test seal", pki.UsageSeal, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stamp, err := ca.NewIdentity("esign test TSA", pki.UsageTSA, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{CA: ca, Seal: seal, TSA: &tsa.Server{Signer: stamp.Signer, Cert: stamp.Cert, Chain: stamp.Chain[1:]}}
}
