// Package pkitest builds a throwaway PKI for tests: a root CA with OCSP and CRL responders on
// loopback, a sealing identity and an in-process RFC 3161 TSA, all valid for an hour.
package pkitest

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// Fixture is a root CA with a sealing identity and a TSA it issued. Both certificates name the
// fixture's responders (ResponderURL), which answer until the test ends.
type Fixture struct {
	CA           *pki.Authority
	Seal         *pki.Identity
	TSA          *tsa.Server
	Responder    *pki.Responder
	ResponderURL string
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
	f := &Fixture{CA: ca, Responder: &pki.Responder{CA: ca, Now: time.Now}}
	mux := http.NewServeMux()
	f.Responder.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.ResponderURL = srv.URL
	identity := func(name string, usage pki.Usage) *pki.Identity {
		key, err := pki.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := ca.Issue(pki.IssueRequest{CommonName: name, PublicKey: key.Public(), Usage: usage, NotBefore: now,
			Validity: time.Hour, OCSPURL: srv.URL + pki.OCSPPath, CRLURL: srv.URL + pki.CRLPath})
		if err != nil {
			t.Fatal(err)
		}
		f.Responder.Known = append(f.Responder.Known, cert)
		return &pki.Identity{Cert: cert, Chain: []*x509.Certificate{cert, ca.Cert}, Signer: key}
	}
	f.Seal = identity("esign test seal", pki.UsageSeal)
	stamp := identity("esign test TSA", pki.UsageTSA)
	f.TSA = &tsa.Server{Signer: stamp.Signer, Cert: stamp.Cert, Chain: stamp.Chain[1:]}
	return f
}

// Revocation fetches validation data from the fixture's responders over HTTP, as for any CA.
func (f *Fixture) Revocation() *pki.Revocation {
	return &pki.Revocation{HTTP: &http.Client{Timeout: 10 * time.Second}}
}
