package tsa_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"esign/internal/netguard"
	"esign/internal/pki"
	"esign/internal/pki/pkitest"
	"esign/internal/tsa"
)

// TestClientAuthAndGuard: an external TSA behind basic auth (a CA of its own, on loopback) answers
// with the right credentials only, through the guarded outbound client when the operator's TSA
// host is trusted; a bearer token goes in its header.
func TestClientAuthAndGuard(t *testing.T) {
	op := pkitest.NewOperator(t)
	hp, err := netguard.HostPort(op.TSAURL)
	if err != nil {
		t.Fatal(err)
	}
	trusted := netguard.New(netguard.Config{TrustedHosts: []string{hp}}).Client(netguard.Options{Timeout: 5 * time.Second})
	guarded := netguard.New(netguard.Config{}).Client(netguard.Options{Timeout: 5 * time.Second})
	bearer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		(&tsa.Server{Signer: op.TSA.Signer, Cert: op.TSA.Cert, Chain: op.TSA.Chain[1:]}).ServeHTTP(w, r)
	}))
	t.Cleanup(bearer.Close)
	digest := sha256.Sum256([]byte("document"))
	for _, tc := range []struct {
		name    string
		client  tsa.Client
		wantErr string
	}{
		{name: "basic auth", client: tsa.Client{URL: op.TSAURL, Username: op.TSAUser, Password: op.TSAPassword, HTTP: trusted}},
		{name: "wrong password", client: tsa.Client{URL: op.TSAURL, Username: op.TSAUser, Password: "nope", HTTP: trusted},
			wantErr: "HTTP 401: the TSA refused the credentials"},
		{name: "no credentials", client: tsa.Client{URL: op.TSAURL, HTTP: trusted}, wantErr: "HTTP 401"},
		{name: "loopback not trusted", client: tsa.Client{URL: op.TSAURL, Username: op.TSAUser, Password: op.TSAPassword, HTTP: guarded},
			wantErr: "is not a public address"},
		{name: "bearer token", client: tsa.Client{URL: bearer.URL, BearerToken: "s3cret-token"}},
		{name: "wrong bearer token", client: tsa.Client{URL: bearer.URL, BearerToken: "other"}, wantErr: "HTTP 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, err := tc.client.Timestamp(context.Background(), digest[:], crypto.SHA256)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := timestamp.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed.Certificates) != 3 || !parsed.Certificates[0].Equal(op.TSA.Cert) && !parsed.Certificates[2].Equal(op.TSA.Cert) {
				t.Errorf("token carries %d certificates, want the TSA's chain of 3", len(parsed.Certificates))
			}
			opensslVerify(t, token, digest[:], op.Root, &tsa.Server{Cert: op.TSA.Cert})
		})
	}
}

// TestClientRefusesTokenWithoutCertificates: a TSA that ignores certReq is refused, since its
// token's signature goes unchecked and the DSS could not hold its certificate.
func TestClientRefusesTokenWithoutCertificates(t *testing.T) {
	op := pkitest.NewOperator(t)
	for _, tc := range []struct {
		name    string
		addCert bool
		cert    *pki.Identity
		wantErr string
	}{
		{name: "certificate left out", cert: op.TSA, wantErr: "carries no certificate although the request asked for it"},
		{name: "not a timestamping certificate", addCert: true, cert: op.Seal, wantErr: "no certificate in the token is a timestamping certificate"},
		{name: "with its certificate", addCert: true, cert: op.TSA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				req, err := timestamp.ParseRequest(body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
					Policy: tsa.DefaultPolicy, Nonce: req.Nonce, AddTSACertificate: tc.addCert}
				resp, err := ts.CreateResponseWithOpts(tc.cert.Cert, tc.cert.Signer, crypto.SHA256)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				_, _ = w.Write(resp)
			}))
			defer srv.Close()
			digest := sha256.Sum256([]byte("x"))
			_, err := (&tsa.Client{URL: srv.URL}).Timestamp(context.Background(), digest[:], crypto.SHA256)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestPolicy: the built-in TSA writes the configured policy into its tokens; ParsePolicy takes the
// dotted form and refuses what is not an OID.
func TestPolicy(t *testing.T) {
	srv, _ := newTSA(t)
	srv.Policy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}
	digest := sha256.Sum256([]byte("x"))
	token, err := srv.Timestamp(context.Background(), digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if parsed, err := timestamp.Parse(token); err != nil || !parsed.Policy.Equal(srv.Policy) {
		t.Errorf("token policy %v (%v), want %v", parsed.Policy, err, srv.Policy)
	}
	for _, tc := range []struct {
		in      string
		want    asn1.ObjectIdentifier
		wantErr string
	}{
		{in: "1.3.6.1.4.1.32473.1.1", want: tsa.DefaultPolicy},
		{in: "2.999.1", want: asn1.ObjectIdentifier{2, 999, 1}},
		{in: "0.39", want: asn1.ObjectIdentifier{0, 39}},
		{in: "1", wantErr: "at least two arcs"},
		{in: "1.3.", wantErr: "arc 3"},
		{in: ".1.3", wantErr: "arc 1"},
		{in: "1.03.6", wantErr: "leading zero"},
		{in: "1.3.-6", wantErr: "decimal digits"},
		{in: "1.3.6 ", wantErr: "decimal digits"},
		{in: "3.1", wantErr: "first arc must be 0, 1 or 2"},
		{in: "1.40", wantErr: "second arc must be below 40"},
		{in: "1.3.99999999999", wantErr: "too large"},
		{in: "urn:oid:1.3.6", wantErr: "decimal digits"},
	} {
		got, err := tsa.ParsePolicy(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || !got.Equal(tc.want)):
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParsePolicy(%q) error %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}
