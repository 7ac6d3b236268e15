package pki_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/pki"
	"esign/internal/pki/pkitest"
)

// TestFetcherOCSPThenCRLAndCache: for an operator's chain, the seal certificate's status comes from
// its OCSP responder; the intermediate's responder is down, so its status comes from the root's
// CRL; both are the very answers the responders gave, and a second close asks nobody until an
// answer nears its nextUpdate.
func TestFetcherOCSPThenCRLAndCache(t *testing.T) {
	op := pkitest.NewOperator(t)
	clock := time.Now()
	f := pki.NewFetcher(&http.Client{Timeout: 5 * time.Second}, 0, 0)
	f.Now = func() time.Time { return clock }
	rev := &pki.Revocation{HTTP: &http.Client{}, Fetcher: f}
	vd, err := rev.Collect(context.Background(), op.Seal.Chain)
	if err != nil {
		t.Fatal(err)
	}
	ocsps, crls := op.Served()
	if len(ocsps) != 1 || len(crls) != 1 || len(vd.OCSPs) != 1 || len(vd.CRLs) != 1 || len(vd.Certs) != 3 {
		t.Fatalf("served %d OCSP, %d CRL; collected %d OCSP, %d CRL, %d certificates", len(ocsps), len(crls), len(vd.OCSPs), len(vd.CRLs), len(vd.Certs))
	}
	if !bytes.Equal(vd.OCSPs[0], ocsps[0]) || !bytes.Equal(vd.CRLs[0], crls[0]) {
		t.Error("the collected answers are not the ones the responders gave")
	}
	if resp, err := ocsp.ParseResponseForCert(vd.OCSPs[0], op.Seal.Cert, op.Intermediate.Cert); err != nil || resp.Status != ocsp.Good {
		t.Errorf("the OCSP answer is not the seal certificate's: %v", err)
	}
	if op.Hits("/root-down/ocsp") != 1 || op.Hits("/int/pki/crl") != 0 {
		t.Errorf("hits: root OCSP %d (want 1, then the CRL), intermediate CRL %d (want 0: OCSP answered)", op.Hits("/root-down/ocsp"), op.Hits("/int/pki/crl"))
	}

	again, err := rev.Collect(context.Background(), op.Seal.Chain)
	if err != nil {
		t.Fatal(err)
	}
	if op.Hits("/int/pki/ocsp") != 1 || op.Hits("/root/pki/crl") != 1 || !bytes.Equal(again.OCSPs[0], vd.OCSPs[0]) || !bytes.Equal(again.CRLs[0], vd.CRLs[0]) {
		t.Errorf("second close: OCSP asked %d times, CRL %d times, want once each (cached)", op.Hits("/int/pki/ocsp"), op.Hits("/root/pki/crl"))
	}
	if f.CacheLen() != 2 {
		t.Errorf("cache holds %d answers, want 2", f.CacheLen())
	}

	// Thirty seconds before the answers' nextUpdate (a week, pki.Responder's): asked again.
	clock = clock.Add(7*24*time.Hour - 30*time.Second)
	if _, err := rev.Collect(context.Background(), op.Seal.Chain); err != nil {
		t.Fatal(err)
	}
	if op.Hits("/int/pki/ocsp") != 2 || op.Hits("/root/pki/crl") != 2 {
		t.Errorf("near nextUpdate: OCSP asked %d times, CRL %d times, want twice each", op.Hits("/int/pki/ocsp"), op.Hits("/root/pki/crl"))
	}
}

// roundTrip answers every request of a client.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, body []byte) (*http.Response, error) {
	return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}}, nil
}

// TestRevocationBestEffort: with a Fetcher, a close whose revocation data cannot be fetched still
// gets what there is, and the log says what is missing; without one (the local PKI's rule) it
// fails. A revoked certificate fails either way.
func TestRevocationBestEffort(t *testing.T) {
	op := pkitest.NewOperator(t)
	down := &http.Client{Transport: roundTrip(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })}
	now := time.Now().UTC().Truncate(time.Second)
	revokedOCSP, err := ocsp.CreateResponse(op.Intermediate.Cert, op.Intermediate.Cert, ocsp.Response{Status: ocsp.Revoked,
		SerialNumber: op.Seal.Cert.SerialNumber, RevokedAt: now.Add(-time.Hour), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, op.Intermediate.Signer)
	if err != nil {
		t.Fatal(err)
	}
	revokedCRL, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: op.Seal.Cert.SerialNumber, RevocationTime: now.Add(-time.Hour)}}},
		op.Intermediate.Cert, op.Intermediate.Signer)
	if err != nil {
		t.Fatal(err)
	}
	ocspRevoked := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/ocsp") {
			return answer(http.StatusOK, revokedOCSP)
		}
		return answer(http.StatusServiceUnavailable, nil)
	})}
	crlRevoked := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/crl") {
			return answer(http.StatusOK, revokedCRL)
		}
		return answer(http.StatusServiceUnavailable, nil)
	})}
	for _, tc := range []struct {
		name       string
		client     *http.Client
		fetcher    bool
		wantErr    error // nil: the close goes on
		wantLogged int   // certificates logged as without data
	}{
		{name: "responders down, best effort", client: down, fetcher: true, wantLogged: 2},
		{name: "responders down, strict", client: down, wantErr: errors.New("any")},
		{name: "revoked by OCSP", client: ocspRevoked, fetcher: true, wantErr: pki.ErrRevoked},
		{name: "revoked by CRL", client: crlRevoked, fetcher: true, wantErr: pki.ErrRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rev := &pki.Revocation{HTTP: tc.client, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			if tc.fetcher {
				rev.Fetcher = pki.NewFetcher(tc.client, 0, 0)
			}
			vd, err := rev.Collect(context.Background(), op.Seal.Chain)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatal(err)
			case tc.wantErr == pki.ErrRevoked && !errors.Is(err, pki.ErrRevoked):
				t.Fatalf("error %v, want ErrRevoked", err)
			case tc.wantErr != nil && err == nil:
				t.Fatal("no error")
			}
			if tc.wantErr == nil {
				if len(vd.Certs) != 3 || len(vd.OCSPs)+len(vd.CRLs) != 0 {
					t.Errorf("collected %d certificates, %d OCSP, %d CRL; want the 3 certificates alone", len(vd.Certs), len(vd.OCSPs), len(vd.CRLs))
				}
			}
			if n := strings.Count(logs.String(), "the DSS goes without it"); n != tc.wantLogged {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.wantLogged, logs.String())
			}
			if tc.wantLogged > 0 && !strings.Contains(logs.String(), "Operator Test Document Seal") {
				t.Errorf("the warning does not name the certificate:\n%s", logs.String())
			}
		})
	}
}

// TestFetcherCacheBound: the cache never holds more answers than it was given room for.
func TestFetcherCacheBound(t *testing.T) {
	op := pkitest.NewOperator(t)
	f := pki.NewFetcher(&http.Client{Timeout: 5 * time.Second}, 1, 0)
	for _, c := range []*x509.Certificate{op.Seal.Cert, op.TSA.Cert} {
		if _, _, err := f.Status(context.Background(), c, op.Intermediate.Cert); err != nil {
			t.Fatal(err)
		}
	}
	if f.CacheLen() != 1 {
		t.Fatalf("cache of one holds %d", f.CacheLen())
	}
	// The TSA's answer is the one kept: the seal's is asked again.
	if _, _, err := f.Status(context.Background(), op.Seal.Cert, op.Intermediate.Cert); err != nil {
		t.Fatal(err)
	}
	if op.Hits("/int/pki/ocsp") != 3 {
		t.Errorf("OCSP asked %d times, want 3 (the evicted answer fetched again)", op.Hits("/int/pki/ocsp"))
	}
}

// BenchmarkCollect: an operator chain's validation data, from the cache (every close after the
// first) and fetched from the loopback responders.
func BenchmarkCollect(b *testing.B) {
	op := pkitest.NewOperator(b)
	for _, cached := range []bool{true, false} {
		name := map[bool]string{true: "cached", false: "fetched"}[cached]
		b.Run(name, func(b *testing.B) {
			f := pki.NewFetcher(&http.Client{Timeout: 5 * time.Second}, 0, 0)
			rev := &pki.Revocation{HTTP: f.HTTP, Fetcher: f}
			for i := 0; i < b.N; i++ {
				if !cached {
					f = pki.NewFetcher(f.HTTP, 0, 0)
					rev.Fetcher = f
				}
				if _, err := rev.Collect(context.Background(), op.Seal.Chain); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDelegatedResponderCertificateInTheDSS: when a CA answers OCSP through a delegated responder
// (its own OCSP signing certificate, embedded in the answer), the validation data carries that
// certificate beside the chain, so that the answer can be checked offline later.
func TestDelegatedResponderCertificateInTheDSS(t *testing.T) {
	op := pkitest.NewOperator(t)
	responderKey, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	responder := pkitest.IssueCert(t, op.Intermediate, &x509.Certificate{Subject: pkix.Name{CommonName: "Operator OCSP Responder"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, KeyUsage: x509.KeyUsageDigitalSignature}, responderKey.Public())
	var leaf *x509.Certificate
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		der, err := ocsp.CreateResponse(op.Intermediate.Cert, responder, ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.SerialNumber,
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour), Certificate: responder}, responderKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		_, _ = w.Write(der)
	}))
	t.Cleanup(srv.Close)
	leafKey, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	leaf = pkitest.IssueCert(t, op.Intermediate, &x509.Certificate{Subject: pkix.Name{CommonName: "Sealed by a delegated responder"},
		OCSPServer: []string{srv.URL}, KeyUsage: x509.KeyUsageDigitalSignature}, leafKey.Public())

	rev := &pki.Revocation{HTTP: &http.Client{}, Fetcher: pki.NewFetcher(&http.Client{Timeout: 5 * time.Second}, 0, 0)}
	vd, err := rev.Collect(context.Background(), []*x509.Certificate{leaf, op.Intermediate.Cert, op.Root.Cert})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range vd.Certs {
		found = found || bytes.Equal(c, responder.Raw)
	}
	if !found || len(vd.Certs) != 4 {
		t.Errorf("the validation data has %d certificates, the responder's among them: %v; want the chain and the responder", len(vd.Certs), found)
	}
}
