package keyring

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/envelope"
	"esign/internal/pki"
	"esign/internal/pki/pkitest"
	"esign/internal/testenv"
)

// TestOperatorSealFiles: with an operator's PKCS#12 or PEM files the keys seal with that identity;
// the local PKI then holds only the built-in TSA (no seal key file is made); a broken setting fails
// Open with the variable's name.
func TestOperatorSealFiles(t *testing.T) {
	op := pkitest.NewOperator(t)
	files := t.TempDir()
	keyFile, chainFile := op.WritePEM(t, files)
	p12 := op.WritePKCS12(t, files, "pw")
	names := pki.SealNames{PKCS12Password: "SEAL_PKCS12_PASSWORD"}
	for _, tc := range []struct {
		name    string
		seal    pki.SealSource
		wantErr string
	}{
		{name: "PKCS#12", seal: pki.SealSource{PKCS12File: p12, PKCS12Password: "pw"}},
		{name: "PEM", seal: pki.SealSource{KeyFile: keyFile, ChainFile: chainFile}},
		{name: "wrong password", seal: pki.SealSource{PKCS12File: p12, PKCS12Password: "wrong", Names: names},
			wantErr: "operator seal certificate: SEAL_PKCS12_PASSWORD: wrong PKCS#12 password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fileConfig(dir)
			cfg.Seal = tc.seal
			keys, err := Open(cfg, CreateAll, time.Now())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer keys.Close()
			if !keys.Operator || !keys.Seal.Cert.Equal(op.Seal.Cert) || len(keys.Seal.Chain) != 3 || keys.PKI.Seal != nil || keys.PKI.TSA == nil {
				t.Fatalf("operator %v, seal %q, local seal %v", keys.Operator, keys.Seal.Cert.Subject, keys.PKI.Seal)
			}
			if _, err := os.Stat(filepath.Join(cfg.PKIDir, "seal.key")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a local seal key was made beside the operator's: %v", err)
			}
			// Reopening without leave to create finds everything (the local PKI's TSA included).
			again, err := Open(cfg, OpenOnly, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			again.Close()
		})
	}
}

// TestOperatorSealInHSM: the operator's key in the HSM (SoftHSM2) with its certificate chain in a
// PEM file; the key is opened, never generated: a label the HSM lacks fails even with leave to
// create, and a certificate for another key fails the probe.
func TestOperatorSealInHSM(t *testing.T) {
	tok := testenv.SoftHSM(t)
	op := pkitest.NewOperator(t)
	cfg := fileConfig(t.TempDir())
	cfg.PKCS11 = envelope.PKCS11Config{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel, PIN: tok.PIN, KeyLabel: tok.KeyLabel}
	cfg.SealKeyLabel = tok.KeyLabel + "-operator-seal"

	// The operator made the key in its HSM and bought a certificate for it.
	key, closeKey, err := OpenSealKey(cfg, CreateInHSM)
	if err != nil {
		t.Fatal(err)
	}
	cert := pkitest.IssueCert(t, op.Intermediate, &x509.Certificate{Subject: pkix.Name{CommonName: "Operator HSM Seal"},
		KeyUsage: x509.KeyUsageContentCommitment}, key.Public())
	closeKey()
	chain := filepath.Join(t.TempDir(), "chain.pem")
	pkitest.WriteFile(t, chain, pkitest.CertsPEM(cert, op.Intermediate.Cert, op.Root.Cert))
	cfg.Seal = pki.SealSource{ChainFile: chain, Names: pki.SealNames{Signer: "PKCS11_SEAL_KEY_LABEL"}}
	keys, err := Open(cfg, CreateAll, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !keys.Seal.Cert.Equal(cert) {
		t.Errorf("seal %q, want the HSM key's certificate", keys.Seal.Cert.Subject)
	}
	keys.Close()

	missing := cfg
	missing.SealKeyLabel = tok.KeyLabel + "-never-made"
	if _, err := Open(missing, CreateAll, time.Now()); err == nil || !strings.Contains(err.Error(), "no key pair labelled") {
		t.Errorf("a missing HSM seal key: %v, want a refusal (never generated for a bought certificate)", err)
	}
	other := cfg
	other.SealKeyLabel = tok.KeyLabel + "-other-pair"
	if _, closeOther, err := OpenSealKey(other, CreateInHSM); err != nil {
		t.Fatal(err)
	} else {
		closeOther()
	}
	if _, err := Open(other, CreateAll, time.Now()); err == nil || !strings.Contains(err.Error(), "PKCS11_SEAL_KEY_LABEL: the key does not match the seal certificate") {
		t.Errorf("an HSM key the certificate is not for: %v", err)
	}
}
