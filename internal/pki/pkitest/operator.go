package pkitest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// Operator is a second CA, separate from the service's local PKI, such as an operator buys a seal
// certificate from: a root, an intermediate, a seal identity and a TSA identity issued by the
// intermediate, revocation responders on loopback that record every answer they give, and an
// RFC 3161 TSA on loopback behind HTTP basic auth (TSAUser, TSAPassword).
//
// The seal and TSA certificates name the intermediate's OCSP responder and CRL; the intermediate
// names the root's CRL and an OCSP responder that always answers HTTP 503, so that its status
// can only come from the CRL (the fallback).
type Operator struct {
	Root, Intermediate *pki.Authority
	Seal, TSA          *pki.Identity // chains: leaf, intermediate, root
	URL                string        // the responders' server
	TSAURL             string
	TSAUser            string
	TSAPassword        string

	mu     sync.Mutex
	served map[string][][]byte // "ocsp" and "crl": every answer's body, in order
	hits   map[string]int      // request path: count
}

// NewOperator makes an Operator whose servers run until the test ends.
func NewOperator(t testing.TB) *Operator {
	t.Helper()
	now := time.Now()
	o := &Operator{TSAUser: "esign-tsa-client", TSAPassword: "tsa-secret-" + time.Now().Format("150405.000"),
		served: map[string][][]byte{}, hits: map[string]int{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(o.record(mux))
	t.Cleanup(srv.Close)
	o.URL = srv.URL

	rootKey := mustKey(t)
	root, err := pki.NewRootCA("Operator Test Root CA", rootKey, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	o.Root = root
	intKey := mustKey(t)
	intCert := IssueCert(t, root, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Operator Test Seal CA", Organization: []string{"Operator Trust Services"}},
		IsCA:    true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		OCSPServer: []string{srv.URL + "/root-down/ocsp"}, CRLDistributionPoints: []string{srv.URL + "/root" + pki.CRLPath},
	}, intKey.Public())
	o.Intermediate = &pki.Authority{Cert: intCert, Signer: intKey}

	intResponder := &pki.Responder{CA: o.Intermediate, Now: time.Now}
	leaf := func(name string, usage pki.Usage) *pki.Identity {
		key := mustKey(t)
		cert, err := o.Intermediate.Issue(pki.IssueRequest{CommonName: name, PublicKey: key.Public(), Usage: usage, NotBefore: now,
			Validity: 12 * time.Hour, OCSPURL: srv.URL + "/int" + pki.OCSPPath, CRLURL: srv.URL + "/int" + pki.CRLPath})
		if err != nil {
			t.Fatal(err)
		}
		intResponder.Known = append(intResponder.Known, cert)
		return &pki.Identity{Cert: cert, Chain: []*x509.Certificate{cert, intCert, root.Cert}, Signer: key}
	}
	o.Seal = leaf("Operator Test Document Seal", pki.UsageSeal)
	o.TSA = leaf("Operator Test TSA", pki.UsageTSA)

	for prefix, r := range map[string]*pki.Responder{"/int": intResponder, "/root": {CA: root, Known: []*x509.Certificate{intCert}, Now: time.Now}} {
		sub := http.NewServeMux()
		r.Register(sub)
		mux.Handle(prefix+"/", http.StripPrefix(prefix, sub))
	}
	mux.HandleFunc("/root-down/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "responder down", http.StatusServiceUnavailable)
	})

	stamp := &tsa.Server{Signer: o.TSA.Signer, Cert: o.TSA.Cert, Chain: o.TSA.Chain[1:]}
	tsaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != o.TSAUser || p != o.TSAPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="tsa"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		stamp.ServeHTTP(w, r)
	}))
	t.Cleanup(tsaSrv.Close)
	o.TSAURL = tsaSrv.URL
	return o
}

// record notes every answer of the responders (OCSP by POST, the CRLs) and every request path.
func (o *Operator) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.hits[r.URL.Path]++
		if rec.status != 0 && rec.status != http.StatusOK {
			return
		}
		switch filepath.Base(r.URL.Path) {
		case "ocsp":
			o.served["ocsp"] = append(o.served["ocsp"], rec.body.Bytes())
		case "crl":
			o.served["crl"] = append(o.served["crl"], rec.body.Bytes())
		}
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Served returns the OCSP answers and CRLs the responders gave, in order.
func (o *Operator) Served() (ocsps, crls [][]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([][]byte(nil), o.served["ocsp"]...), append([][]byte(nil), o.served["crl"]...)
}

// Hits is how many requests a path of the responders' server got (e.g. "/int/pki/ocsp").
func (o *Operator) Hits(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// WritePKCS12 writes the seal key with its chain (the leaf first) as a PKCS#12 file (AES-256,
// PBKDF2, the encoding of current OpenSSL) and returns its path.
func (o *Operator) WritePKCS12(t testing.TB, dir, password string) string {
	t.Helper()
	der, err := pkcs12.Modern2023.Encode(o.Seal.Signer, o.Seal.Cert, o.Seal.Chain[1:], password)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "seal.p12")
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WritePEM writes the seal key (PKCS#8) and its chain (leaf, intermediate, root) as PEM files.
func (o *Operator) WritePEM(t testing.TB, dir string) (keyFile, chainFile string) {
	t.Helper()
	keyFile, chainFile = WriteKey(t, filepath.Join(dir, "seal.key"), o.Seal.Signer), filepath.Join(dir, "seal-chain.pem")
	WriteFile(t, chainFile, CertsPEM(o.Seal.Chain...))
	return keyFile, chainFile
}

// WriteKey writes key as a PKCS#8 PEM file at path and returns path.
func WriteKey(t testing.TB, path string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return path
}

// CertsPEM is certs as PEM blocks, in order.
func CertsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// WriteFile writes data at path (0600) or fails the test.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// IssueCert signs tmpl for pub with parent; a zero serial, validity or key id is filled in (valid
// from an hour ago for 12 hours).
func IssueCert(t testing.TB, parent *pki.Authority, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if tmpl.SerialNumber == nil {
		sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = sn
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(12*time.Hour)
	}
	tmpl.AuthorityKeyId = parent.Cert.SubjectKeyId
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.Cert, pub, parent.Signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func mustKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
