package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// SealSource is where an operator's own sealing identity is: a certificate bought from a CA (an
// AATL member, an EU qualified seal) with its key, in place of the local PKI's seal. The key is a
// PKCS#12 file (with the certificates), a PEM key file beside ChainFile, or an HSM key (Signer,
// opened by the caller) beside ChainFile.
type SealSource struct {
	PKCS12File     string
	PKCS12Password string
	KeyFile        string // PEM: PKCS#8, PKCS#1 (RSA) or SEC 1 (EC)
	// ChainFile holds PEM certificates: the seal certificate and its issuers (any order). Required
	// with KeyFile and Signer; with PKCS12File it adds issuers the PKCS#12 file lacks.
	ChainFile string
	// TrustAnchorFile holds PEM certificates the chain must end at, for a chain that stops at an
	// intermediate or to pin the root; without it the chain must end at a self-signed root.
	TrustAnchorFile string
	// Signer is an HSM key (PKCS#11) the chain's seal certificate is for.
	Signer crypto.Signer
	// Names label the inputs in errors (the configuration's variable names); Label fills the
	// blanks.
	Names SealNames
}

// SealNames are what errors call each input of a SealSource.
type SealNames struct {
	PKCS12File, PKCS12Password, KeyFile, ChainFile, TrustAnchorFile, Signer string
}

// Configured reports whether an operator seal is configured at all (else the local PKI seals).
func (s SealSource) Configured() bool {
	return s.PKCS12File != "" || s.KeyFile != "" || s.ChainFile != ""
}

// UsesHSM reports whether the key is to be an HSM key: a chain without a key file.
func (s SealSource) UsesHSM() bool {
	return s.ChainFile != "" && s.PKCS12File == "" && s.KeyFile == ""
}

func (n SealNames) or(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

// SealError is a start-up check that failed: Input names the setting (a SealNames entry) and Err
// the rule it breaks.
type SealError struct {
	Input string
	Err   error
}

func (e *SealError) Error() string { return e.Input + ": " + e.Err.Error() }
func (e *SealError) Unwrap() error { return e.Err }

// ErrSealKeyUsage, ErrSealChainIncomplete, ErrSealCertificateExpired and ErrSealKeyMismatch
// classify the start-up check's refusals (inside a *SealError).
var (
	ErrSealChainIncomplete    = errors.New("the certificate chain is incomplete")
	ErrSealCertificateExpired = errors.New("a certificate is not valid now")
	ErrSealKeyUsage           = errors.New("the seal certificate's key usage does not allow PAdES signatures")
	ErrSealKeyMismatch        = errors.New("the key does not match the seal certificate")
	ErrSealPassword           = errors.New("wrong PKCS#12 password")
)

// LoadOperatorSeal opens the operator's sealing identity and checks it as a validator will: the
// chain is complete up to a self-signed root or a trust anchor, every certificate in it is valid
// at now, the seal certificate allows digitalSignature or nonRepudiation, and the key signs what
// the certificate verifies (a probe signature). The Identity's Chain runs from the seal
// certificate to the root or anchor, and is what every signature carries.
func LoadOperatorSeal(src SealSource, now time.Time) (*Identity, error) {
	n := src.Names
	names := SealNames{
		PKCS12File: n.or(n.PKCS12File, "seal PKCS#12 file"), PKCS12Password: n.or(n.PKCS12Password, "seal PKCS#12 password"),
		KeyFile: n.or(n.KeyFile, "seal key file"), ChainFile: n.or(n.ChainFile, "seal certificate chain file"),
		TrustAnchorFile: n.or(n.TrustAnchorFile, "seal trust anchor file"), Signer: n.or(n.Signer, "HSM seal key"),
	}
	fail := func(input string, err error) (*Identity, error) { return nil, &SealError{Input: input, Err: err} }

	var key crypto.Signer
	var certs []*x509.Certificate
	keyInput, chainInput := names.Signer, names.ChainFile
	switch {
	case src.PKCS12File != "":
		keyInput, chainInput = names.PKCS12File, names.PKCS12File
		data, err := os.ReadFile(src.PKCS12File)
		if err != nil {
			return fail(names.PKCS12File, err)
		}
		parsed, leaf, cas, err := pkcs12.DecodeChain(data, src.PKCS12Password)
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return fail(names.PKCS12Password, fmt.Errorf("%w for %s", ErrSealPassword, src.PKCS12File))
		}
		if err != nil {
			return fail(names.PKCS12File, fmt.Errorf("not a PKCS#12 file with one key and its certificate: %w", err))
		}
		if key, err = asSigner(parsed); err != nil {
			return fail(names.PKCS12File, err)
		}
		certs = append([]*x509.Certificate{leaf}, cas...)
	case src.KeyFile != "":
		keyInput = names.KeyFile
		var err error
		if key, err = readPEMKey(src.KeyFile); err != nil {
			return fail(names.KeyFile, err)
		}
	case src.Signer != nil:
		key = src.Signer
	default:
		return fail(names.ChainFile, errors.New("a seal certificate chain needs a key: a key file, a PKCS#12 file or an HSM key"))
	}
	if src.ChainFile != "" {
		more, err := readPEMCerts(src.ChainFile)
		if err != nil {
			return fail(names.ChainFile, err)
		}
		certs = append(certs, more...)
		if src.PKCS12File == "" {
			chainInput = names.ChainFile
		}
	}
	var anchors []*x509.Certificate
	if src.TrustAnchorFile != "" {
		var err error
		if anchors, err = readPEMCerts(src.TrustAnchorFile); err != nil {
			return fail(names.TrustAnchorFile, err)
		}
	}

	leaf := certFor(key, certs)
	if leaf == nil {
		first := "none"
		if len(certs) > 0 {
			first = fmt.Sprintf("%q", certs[0].Subject.String())
		}
		return fail(keyInput, fmt.Errorf("%w: no certificate in %s has its public key (the first is %s)", ErrSealKeyMismatch, chainInput, first))
	}
	chain, err := buildChain(leaf, certs, anchors)
	if err != nil {
		input := chainInput
		if len(anchors) > 0 {
			input = chainInput + " (with " + names.TrustAnchorFile + ")"
		}
		return fail(input, err)
	}
	for _, c := range chain {
		if now.Before(c.NotBefore) {
			return fail(chainInput, fmt.Errorf("%w: %q is valid only from %s", ErrSealCertificateExpired, c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339)))
		}
		if now.After(c.NotAfter) {
			return fail(chainInput, fmt.Errorf("%w: %q expired on %s", ErrSealCertificateExpired, c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	// The standard library's path validation on top: CA flags, path lengths, name constraints.
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[1 : len(chain)-1] {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fail(chainInput, fmt.Errorf("the chain does not verify: %w", err))
	}
	// ETSI EN 319 412-3 and PAdES: a seal's certificate is for digitalSignature and/or
	// nonRepudiation. A certificate without the extension would pass some validators and fail
	// others, so it is refused too.
	if leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fail(chainInput, fmt.Errorf("%w: %q must have digitalSignature or nonRepudiation", ErrSealKeyUsage, leaf.Subject.String()))
	}
	if err := probe(key, leaf); err != nil {
		return fail(keyInput, fmt.Errorf("%w %q: %w", ErrSealKeyMismatch, leaf.Subject.String(), err))
	}
	return &Identity{Cert: leaf, Chain: chain, Signer: key}, nil
}

// certFor is the certificate among certs whose public key is key's.
func certFor(key crypto.Signer, certs []*x509.Certificate) *x509.Certificate {
	for _, c := range certs {
		if samePublicKey(c, key) {
			return c
		}
	}
	return nil
}

// buildChain walks from leaf to its issuers among pool and anchors: it ends at an anchor, or, with
// no anchors, at a self-signed root.
func buildChain(leaf *x509.Certificate, pool, anchors []*x509.Certificate) ([]*x509.Certificate, error) {
	isAnchor := func(c *x509.Certificate) bool {
		for _, a := range anchors {
			if bytes.Equal(a.Raw, c.Raw) {
				return true
			}
		}
		return false
	}
	candidates := append(append([]*x509.Certificate{}, pool...), anchors...)
	chain := []*x509.Certificate{leaf}
	for c := leaf; ; {
		if isAnchor(c) {
			return chain, nil
		}
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			if len(anchors) > 0 {
				return nil, fmt.Errorf("%w: it ends at the self-signed %q, which is not a trust anchor", ErrSealChainIncomplete, c.Subject.String())
			}
			return chain, nil
		}
		issuer := issuerOf(c, candidates)
		if issuer == nil {
			for _, named := range candidates {
				if bytes.Equal(named.RawSubject, c.RawIssuer) {
					// Present by name, but not a CA or not the key that signed: say so, not "missing".
					return nil, fmt.Errorf("%w: %q cannot be the issuer of %q: %w", ErrSealChainIncomplete, named.Subject.String(), c.Subject.String(), c.CheckSignatureFrom(named))
				}
			}
			return nil, fmt.Errorf("%w: the issuer %q of %q is missing", ErrSealChainIncomplete, c.Issuer.String(), c.Subject.String())
		}
		if len(chain) > len(candidates) {
			return nil, fmt.Errorf("%w: the certificates issue each other in a loop", ErrSealChainIncomplete)
		}
		chain, c = append(chain, issuer), issuer
	}
}

// probe signs a fresh digest with key and verifies it with the certificate's public key: an HSM
// label or a file that names another key is found at start, not at the first seal.
func probe(key crypto.Signer, cert *x509.Certificate) error {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	digest := sha256.Sum256(append([]byte("esign seal key probe "), nonce...))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("the key cannot sign: %w", err)
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			err = errors.New("ECDSA verification error")
		}
	default:
		return fmt.Errorf("the certificate's %T key is not supported (RSA or ECDSA)", cert.PublicKey)
	}
	if err != nil {
		return fmt.Errorf("a probe signature does not verify: %w", err)
	}
	return nil
}

func asSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return k.(crypto.Signer), nil
	default:
		return nil, fmt.Errorf("a %T key is not supported (RSA or ECDSA)", key)
	}
}

func readPEMKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errors.New("no PEM private key in the file (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
		}
		var parsed any
		switch block.Type {
		case "PRIVATE KEY":
			parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			parsed, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key is encrypted: use a PKCS#12 file with a password, or an HSM")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", block.Type, err)
		}
		return asSigner(parsed)
	}
}

func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate in the file")
	}
	return out, nil
}
