package tsa_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"esign/internal/pki"
	"esign/internal/pki/pkitest"
	"esign/internal/tsa"
)

func newTSA(t testing.TB) (*tsa.Server, *pki.Authority) {
	t.Helper()
	p := pkitest.New(t)
	return p.TSA, p.CA
}

func TestInProcessAndHTTPTimestampsVerify(t *testing.T) {
	srv, ca := newTSA(t)
	digest := sha256.Sum256([]byte("document"))
	web := httptest.NewServer(srv)
	defer web.Close()
	for name, ts := range map[string]interface {
		Timestamp(context.Context, []byte, crypto.Hash) ([]byte, error)
	}{"in process": srv, "http": &tsa.Client{URL: web.URL}} {
		t.Run(name, func(t *testing.T) {
			token, err := ts.Timestamp(context.Background(), digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := timestamp.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if string(parsed.HashedMessage) != string(digest[:]) || time.Since(parsed.Time) > time.Minute {
				t.Errorf("token for %x at %v", parsed.HashedMessage, parsed.Time)
			}
			opensslVerify(t, token, digest[:], ca, srv)
		})
	}
}

// opensslVerify checks the token with OpenSSL, an independent implementation, against the CA.
func opensslVerify(t *testing.T, token, digest []byte, ca *pki.Authority, srv *tsa.Server) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is not installed: apt-get install openssl")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok := write("token.der", token)
	caPEM := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
	tsaPEM := write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Cert.Raw}))
	out, err := exec.Command(openssl, "ts", "-verify", "-digest", hex.EncodeToString(digest), "-token_in", "-in", tok,
		"-CAfile", caPEM, "-untrusted", tsaPEM).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

func TestClientRefusesBadAnswersAndDownTSA(t *testing.T) {
	srv, _ := newTSA(t)
	digest := sha256.Sum256([]byte("x"))
	start := time.Now()
	_, err := (&tsa.Client{URL: "http://127.0.0.1:1/tsa"}).Timestamp(context.Background(), digest[:], crypto.SHA256)
	if err == nil || time.Since(start) > 6*time.Second {
		t.Errorf("down TSA: %v after %v", err, time.Since(start))
	}
	if _, err := srv.Timestamp(context.Background(), digest[:], crypto.SHA1); err == nil {
		t.Error("SHA-1 imprint accepted")
	}
	if _, err := srv.Timestamp(context.Background(), digest[:10], crypto.SHA256); err == nil {
		t.Error("short digest accepted")
	}
}

func BenchmarkInProcessTimestamp(b *testing.B) {
	srv, _ := newTSA(b)
	digest := sha256.Sum256([]byte("x"))
	for i := 0; i < b.N; i++ {
		if _, err := srv.Timestamp(context.Background(), digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
