package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Validity periods of the local PKI; leaves are re-issued (same key) when they have less than
// renewBefore left.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 2 * 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// Local is the PKI of the embedded default: a root CA, a sealing identity and a TSA identity, kept as
// PEM files in one folder (keys 0600). It is not publicly trusted.
type Local struct {
	CA   *Authority
	Seal *Identity
	TSA  *Identity
	// Created reports whether this call made the PKI (so the caller can say so once in its logs).
	Created bool

	ocspURL, crlURL string
}

// Responder answers for the local CA's certificates.
func (l *Local) Responder() *Responder {
	known := []*x509.Certificate{l.TSA.Cert}
	if l.Seal != nil {
		known = append(known, l.Seal.Cert)
	}
	return &Responder{CA: l.CA, Known: known, Now: time.Now}
}

// namesResponders reports whether cert names exactly the local responders.
func (l *Local) namesResponders(cert *x509.Certificate) bool {
	urls := func(u string) []string {
		if u == "" {
			return nil
		}
		return []string{u}
	}
	return slices.Equal(cert.OCSPServer, urls(l.ocspURL)) && slices.Equal(cert.CRLDistributionPoints, urls(l.crlURL))
}

// LoadOrCreateLocal loads the PKI in dir, creating what is missing when create is true. With
// sealKey (an HSM key), the sealing certificate is issued for that key and no seal key file is kept.
// publicURL, when given, is where the service answers OCSP and serves its CRL (Responder): the
// certificates name those URLs, and are re-issued (same keys) when they name others.
func LoadOrCreateLocal(dir string, create bool, now time.Time, sealKey crypto.Signer, publicURL string) (*Local, error) {
	return loadOrCreateLocal(dir, create, now, sealKey, publicURL, true)
}

// LoadOrCreateLocalTSA is LoadOrCreateLocal without the sealing identity (Seal is nil): for an
// operator who seals with a certificate of its own, the local PKI only issues the built-in TSA's
// certificate, and no unused seal key is made or needed.
func LoadOrCreateLocalTSA(dir string, create bool, now time.Time, publicURL string) (*Local, error) {
	return loadOrCreateLocal(dir, create, now, nil, publicURL, false)
}

func loadOrCreateLocal(dir string, create bool, now time.Time, sealKey crypto.Signer, publicURL string, withSeal bool) (*Local, error) {
	l := &Local{}
	if publicURL != "" {
		l.ocspURL, l.crlURL = publicURL+OCSPPath, publicURL+CRLPath
	}
	caKey, caCert, err := loadPair(dir, "ca")
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if caKey, err = GenerateKey(); err != nil {
			return nil, err
		}
		ca, err := NewRootCA("esign local root (not publicly trusted)", caKey, now, caValidity)
		if err != nil {
			return nil, err
		}
		if err := savePair(dir, "ca", caKey, ca.Cert); err != nil {
			return nil, err
		}
		caCert, l.Created = ca.Cert, true
	case err != nil:
		return nil, fmt.Errorf("local PKI in %s (create it with `esign keys init`): %w", dir, err)
	}
	l.CA = &Authority{Cert: caCert, Signer: caKey}
	if withSeal {
		if l.Seal, err = l.identity(dir, "seal", "esign document seal", UsageSeal, create, now, sealKey); err != nil {
			return nil, err
		}
	}
	if l.TSA, err = l.identity(dir, "tsa", "esign timestamping authority", UsageTSA, create, now, nil); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Local) identity(dir, name, cn string, usage Usage, create bool, now time.Time, external crypto.Signer) (*Identity, error) {
	var key crypto.Signer
	var cert *x509.Certificate
	var err error
	if external != nil {
		key = external
		cert, err = loadCert(dir, name)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	} else {
		key, cert, err = loadPair(dir, name)
		if errors.Is(err, fs.ErrNotExist) && create {
			key, err = GenerateKey()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("local PKI %s: %w", name, err)
	}
	if cert == nil || cert.NotAfter.Sub(now) < renewBefore || cert.CheckSignatureFrom(l.CA.Cert) != nil || !samePublicKey(cert, key) || !l.namesResponders(cert) {
		if cert, err = l.CA.Issue(IssueRequest{CommonName: cn, PublicKey: key.Public(), Usage: usage, NotBefore: now, Validity: leafValidity,
			OCSPURL: l.ocspURL, CRLURL: l.crlURL}); err != nil {
			return nil, err
		}
		if external != nil {
			err = writeFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		} else {
			err = savePair(dir, name, key, cert)
		}
		if err != nil {
			return nil, err
		}
	}
	return &Identity{Cert: cert, Chain: []*x509.Certificate{cert, l.CA.Cert}, Signer: key}, nil
}

func samePublicKey(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

func loadPair(dir, name string) (crypto.Signer, *x509.Certificate, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("%s.key is not PEM", name)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s.key: %w", name, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s.key cannot sign", name)
	}
	cert, err := loadCert(dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return key, nil, nil // a key without a certificate yet: one is issued
	}
	return key, cert, err
}

func loadCert(dir, name string) (*x509.Certificate, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, fmt.Errorf("%s.crt is not PEM", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s.crt: %w", name, err)
	}
	return cert, nil
}

func savePair(dir, name string, key crypto.Signer, cert *x509.Certificate) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode %s key: %w", name, err)
	}
	if err := writeFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

// writeFile writes through a temp file and a rename, mode 0600.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pki-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
