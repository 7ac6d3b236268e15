// Package pki issues the service's certificates: a certificate authority, the sealing certificate
// that signs PDFs and the timestamping certificate of the built-in RFC 3161 TSA. The embedded default
// keeps a local PKI in its data folder; it is not publicly trusted, which callers must say in logs.
package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Usage is what an issued certificate is for.
type Usage int

const (
	// UsageSeal signs documents (PAdES): digitalSignature + nonRepudiation.
	UsageSeal Usage = iota + 1
	// UsageTSA signs RFC 3161 timestamps: digitalSignature, extKeyUsage timeStamping (critical).
	UsageTSA
)

// Authority is a CA that can issue certificates.
type Authority struct {
	Cert   *x509.Certificate
	Signer crypto.Signer
}

// Identity is a certificate with its key and the chain up to (and including) the root.
type Identity struct {
	Cert   *x509.Certificate
	Chain  []*x509.Certificate // leaf first, root last
	Signer crypto.Signer
}

// GenerateKey makes an RSA-2048 key: every validator here (poppler/NSS, pdfcpu, openssl) accepts it.
func GenerateKey() (crypto.Signer, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.PublicKey.Bytes) // RFC 5280 method 1; an identifier, not a security function
	return sum[:], nil
}

// NewRootCA makes a self-signed root valid from now for validity.
func NewRootCA(name string, signer crypto.Signer, now time.Time, validity time.Duration) (*Authority, error) {
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	ski, err := keyID(signer.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: name, Organization: []string{"esign"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create root certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Signer: signer}, nil
}

// IssueRequest describes a certificate to issue.
type IssueRequest struct {
	CommonName string
	PublicKey  crypto.PublicKey
	Usage      Usage
	NotBefore  time.Time
	Validity   time.Duration
	OCSPURL    string // optional: AIA OCSP responder
	CRLURL     string // optional: CRL distribution point
}

// Issue signs a certificate for req.
func (a *Authority) Issue(req IssueRequest) (*x509.Certificate, error) {
	if req.PublicKey == nil || req.CommonName == "" {
		return nil, errors.New("issue certificate: common name and public key are required")
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	ski, err := keyID(req.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: req.CommonName, Organization: []string{"esign"}},
		NotBefore: req.NotBefore.Add(-time.Hour), NotAfter: req.NotBefore.Add(req.Validity),
		SubjectKeyId: ski, AuthorityKeyId: a.Cert.SubjectKeyId, BasicConstraintsValid: true,
	}
	switch req.Usage {
	case UsageSeal:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	case UsageTSA:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		// RFC 3161 §2.3: exactly one extended key usage, timeStamping, marked critical. Go marks the
		// EKU extension non-critical, so it is written by hand.
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku})
	default:
		return nil, fmt.Errorf("issue certificate: unknown usage %d", req.Usage)
	}
	if req.OCSPURL != "" {
		tmpl.OCSPServer = []string{req.OCSPURL}
	}
	if req.CRLURL != "" {
		tmpl.CRLDistributionPoints = []string{req.CRLURL}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, req.PublicKey, a.Signer)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %q: %w", req.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// NewIdentity makes a key and issues it a certificate for usage.
func (a *Authority) NewIdentity(name string, usage Usage, now time.Time, validity time.Duration) (*Identity, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := a.Issue(IssueRequest{CommonName: name, PublicKey: key.Public(), Usage: usage, NotBefore: now, Validity: validity})
	if err != nil {
		return nil, err
	}
	return &Identity{Cert: cert, Chain: []*x509.Certificate{cert, a.Cert}, Signer: key}, nil
}
