package pki_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pki"
	"esign/internal/pki/pkitest"
)

// names are the labels the configuration gives (config.sealNames): errors must carry them.
var names = pki.SealNames{PKCS12File: "SEAL_PKCS12_FILE", PKCS12Password: "SEAL_PKCS12_PASSWORD", KeyFile: "SEAL_KEY_FILE",
	ChainFile: "SEAL_CERT_CHAIN_FILE", TrustAnchorFile: "SEAL_TRUST_ANCHOR_FILE", Signer: "PKCS11_SEAL_KEY_LABEL"}

// wrongSigner claims the certificate's public key but signs with another key: an HSM label that
// names the wrong private key.
type wrongSigner struct {
	crypto.Signer
	claimed crypto.PublicKey
}

func (w wrongSigner) Public() crypto.PublicKey { return w.claimed }

// TestLoadOperatorSeal: the start-up check accepts a complete, valid chain with a matching key in
// each form (PKCS#12 from this library and from OpenSSL, PEM, an HSM-like signer, a trust anchor
// instead of a self-signed root) and refuses each broken one with an error naming the variable
// and the problem.
func TestLoadOperatorSeal(t *testing.T) {
	op := pkitest.NewOperator(t)
	dir := t.TempDir()
	now := time.Now()
	seal, inter, root := op.Seal.Cert, op.Intermediate.Cert, op.Root.Cert
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		pkitest.WriteFile(t, p, data)
		return p
	}
	keyFile, chainFile := op.WritePEM(t, dir)
	p12 := op.WritePKCS12(t, dir, "correct horse")
	// OpenSSL's own PKCS#12 (AES-256-CBC, PBKDF2, HMAC-SHA256 by default in OpenSSL 3).
	opensslP12 := filepath.Join(dir, "openssl.p12")
	if out, err := exec.Command("openssl", "pkcs12", "-export", "-inkey", keyFile, "-in", chainFile,
		"-passout", "pass:battery staple", "-out", opensslP12).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12 -export: %v\n%s", err, out)
	}
	withoutIntermediate := file("no-intermediate.pem", pkitest.CertsPEM(seal, root))
	toIntermediate := file("to-intermediate.pem", pkitest.CertsPEM(seal, inter))
	rootFile := file("root.pem", pkitest.CertsPEM(root))
	interFile := file("intermediate.pem", pkitest.CertsPEM(inter))
	other, err := pki.NewRootCA("Another Root", mustKey(t), now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherRoot := file("other-root.pem", pkitest.CertsPEM(other.Cert))
	otherKey := mustKey(t)
	otherKeyFile := pkitest.WriteKey(t, filepath.Join(dir, "other.key"), otherKey)

	// A certificate each for the rules: expired, an expired issuer, no usable key usage, an issuer
	// that is not a CA.
	leafKey := mustKey(t)
	leafKeyFile := pkitest.WriteKey(t, filepath.Join(dir, "leaf.key"), leafKey)
	leaf := func(a *pki.Authority, tmpl *x509.Certificate) *x509.Certificate {
		if tmpl.Subject.CommonName == "" {
			tmpl.Subject = pkix.Name{CommonName: "Operator Test Seal (variant)"}
		}
		return pkitest.IssueCert(t, a, tmpl, leafKey.Public())
	}
	sealUsage := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	expired := leaf(op.Intermediate, &x509.Certificate{KeyUsage: sealUsage, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	expiredInterKey := mustKey(t)
	expiredInter := pkitest.IssueCert(t, op.Root, &x509.Certificate{Subject: pkix.Name{CommonName: "Expired Seal CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Minute)}, expiredInterKey.Public())
	underExpired := leaf(&pki.Authority{Cert: expiredInter, Signer: expiredInterKey}, &x509.Certificate{KeyUsage: sealUsage,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	encipherOnly := leaf(op.Intermediate, &x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment})
	notCAKey := mustKey(t)
	notCA := pkitest.IssueCert(t, op.Root, &x509.Certificate{Subject: pkix.Name{CommonName: "Not A CA"}, KeyUsage: x509.KeyUsageCertSign}, notCAKey.Public())
	underNotCA := leaf(&pki.Authority{Cert: notCA, Signer: notCAKey}, &x509.Certificate{KeyUsage: sealUsage})

	for _, tc := range []struct {
		name    string
		src     pki.SealSource
		wantErr error  // nil: accepted
		wantMsg string // part of the error
	}{
		{name: "PKCS#12", src: pki.SealSource{PKCS12File: p12, PKCS12Password: "correct horse"}},
		{name: "PKCS#12 made by OpenSSL", src: pki.SealSource{PKCS12File: opensslP12, PKCS12Password: "battery staple"}},
		{name: "PEM key and chain", src: pki.SealSource{KeyFile: keyFile, ChainFile: chainFile}},
		{name: "HSM key and chain", src: pki.SealSource{Signer: op.Seal.Signer, ChainFile: chainFile}},
		{name: "chain to a trust anchor", src: pki.SealSource{KeyFile: keyFile, ChainFile: toIntermediate, TrustAnchorFile: rootFile}},
		{name: "an intermediate as trust anchor", src: pki.SealSource{KeyFile: keyFile, ChainFile: toIntermediate, TrustAnchorFile: interFile}},
		{name: "wrong PKCS#12 password", src: pki.SealSource{PKCS12File: p12, PKCS12Password: "wrong"},
			wantErr: pki.ErrSealPassword, wantMsg: "SEAL_PKCS12_PASSWORD: wrong PKCS#12 password"},
		{name: "incomplete chain", src: pki.SealSource{KeyFile: keyFile, ChainFile: withoutIntermediate},
			wantErr: pki.ErrSealChainIncomplete, wantMsg: `SEAL_CERT_CHAIN_FILE: the certificate chain is incomplete: the issuer "CN=Operator Test Seal CA,O=Operator Trust Services" of`},
		{name: "chain stopping at an intermediate", src: pki.SealSource{KeyFile: keyFile, ChainFile: toIntermediate},
			wantErr: pki.ErrSealChainIncomplete, wantMsg: "SEAL_CERT_CHAIN_FILE: the certificate chain is incomplete"},
		{name: "root that is not the trust anchor", src: pki.SealSource{KeyFile: keyFile, ChainFile: chainFile, TrustAnchorFile: otherRoot},
			wantErr: pki.ErrSealChainIncomplete, wantMsg: "SEAL_CERT_CHAIN_FILE (with SEAL_TRUST_ANCHOR_FILE): the certificate chain is incomplete: it ends at the self-signed"},
		{name: "key mismatch", src: pki.SealSource{KeyFile: otherKeyFile, ChainFile: chainFile},
			wantErr: pki.ErrSealKeyMismatch, wantMsg: "SEAL_KEY_FILE: the key does not match the seal certificate: no certificate in SEAL_CERT_CHAIN_FILE"},
		{name: "HSM key signing with another key", src: pki.SealSource{Signer: wrongSigner{Signer: otherKey, claimed: seal.PublicKey}, ChainFile: chainFile},
			wantErr: pki.ErrSealKeyMismatch, wantMsg: "PKCS11_SEAL_KEY_LABEL: the key does not match the seal certificate"},
		{name: "expired seal certificate", src: pki.SealSource{KeyFile: leafKeyFile, ChainFile: file("expired.pem", pkitest.CertsPEM(expired, inter, root))},
			wantErr: pki.ErrSealCertificateExpired, wantMsg: `SEAL_CERT_CHAIN_FILE: a certificate is not valid now: "CN=Operator Test Seal (variant)" expired on`},
		{name: "expired intermediate", src: pki.SealSource{KeyFile: leafKeyFile, ChainFile: file("expired-ca.pem", pkitest.CertsPEM(underExpired, expiredInter, root))},
			wantErr: pki.ErrSealCertificateExpired, wantMsg: `"CN=Expired Seal CA" expired on`},
		{name: "no signing key usage", src: pki.SealSource{KeyFile: leafKeyFile, ChainFile: file("encipher.pem", pkitest.CertsPEM(encipherOnly, inter, root))},
			wantErr: pki.ErrSealKeyUsage, wantMsg: "must have digitalSignature or nonRepudiation"},
		{name: "issuer is not a CA", src: pki.SealSource{KeyFile: leafKeyFile, ChainFile: file("not-ca.pem", pkitest.CertsPEM(underNotCA, notCA, root))},
			wantErr: pki.ErrSealChainIncomplete, wantMsg: `SEAL_CERT_CHAIN_FILE: the certificate chain is incomplete: "CN=Not A CA" cannot be the issuer`},
		{name: "not a PKCS#12 file", src: pki.SealSource{PKCS12File: chainFile}, wantMsg: "SEAL_PKCS12_FILE: not a PKCS#12 file"},
		{name: "missing chain file", src: pki.SealSource{KeyFile: keyFile, ChainFile: filepath.Join(dir, "nope.pem")}, wantMsg: "SEAL_CERT_CHAIN_FILE: open"},
		{name: "chain file with no certificate", src: pki.SealSource{KeyFile: keyFile, ChainFile: keyFile}, wantMsg: "SEAL_CERT_CHAIN_FILE: no PEM certificate"},
		{name: "key file with no key", src: pki.SealSource{KeyFile: chainFile, ChainFile: chainFile}, wantMsg: "SEAL_KEY_FILE: no PEM private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.src.Names = names
			id, err := pki.LoadOperatorSeal(tc.src, now)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !id.Cert.Equal(seal) || !id.Chain[0].Equal(seal) || !id.Chain[1].Equal(inter) {
					t.Fatalf("identity %q, chain of %d", id.Cert.Subject, len(id.Chain))
				}
				return
			}
			var se *pki.SealError
			if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.wantMsg) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q (%v)", err, tc.wantMsg, tc.wantErr)
			}
		})
	}
}

// The chain reaches the root (a self-signed end) or stops at the anchor given.
func TestOperatorSealChainEnds(t *testing.T) {
	op := pkitest.NewOperator(t)
	dir := t.TempDir()
	keyFile, chainFile := op.WritePEM(t, dir)
	id, err := pki.LoadOperatorSeal(pki.SealSource{KeyFile: keyFile, ChainFile: chainFile}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) != 3 || !id.Chain[2].Equal(op.Root.Cert) {
		t.Fatalf("chain of %d, want seal, intermediate, root", len(id.Chain))
	}
	anchor := filepath.Join(dir, "anchor.pem")
	pkitest.WriteFile(t, anchor, pkitest.CertsPEM(op.Intermediate.Cert))
	id, err = pki.LoadOperatorSeal(pki.SealSource{KeyFile: keyFile, ChainFile: chainFile, TrustAnchorFile: anchor}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) != 2 || !id.Chain[1].Equal(op.Intermediate.Cert) {
		t.Fatalf("chain of %d, want seal and the anchor", len(id.Chain))
	}
}

func mustKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// BenchmarkLoadOperatorSeal: the start-up check of a PKCS#12 seal (decrypt, chain, probe).
func BenchmarkLoadOperatorSeal(b *testing.B) {
	op := pkitest.NewOperator(b)
	p12 := op.WritePKCS12(b, b.TempDir(), "pw")
	for i := 0; i < b.N; i++ {
		if _, err := pki.LoadOperatorSeal(pki.SealSource{PKCS12File: p12, PKCS12Password: "pw"}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
