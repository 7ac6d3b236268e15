// Package keyring opens the service's keys and certificates at start-up: the envelope's two key
// managers (the HSM through PKCS#11 or an inner key file, and the outer key file), the sealing key,
// the key signatory tokens are derived from, and the local PKI (root CA, seal and TSA certificates).
//
// Whether a missing key is made is the caller's explicit choice (Create): only `serve` and
// `keys init` make keys, and key files and certificates only in embedded mode or by `keys init`,
// because replicas sharing a database must share their keys. Every other command opens what exists.
package keyring

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"esign/internal/envelope"
	"esign/internal/pki"
)

// Create says which missing keys an opener makes.
type Create int

const (
	// OpenOnly makes nothing: a missing key or certificate is an error (every command but serve and
	// keys init).
	OpenOnly Create = iota
	// CreateInHSM makes missing keys inside the HSM alone (serve with an external database: its
	// replicas share the HSM, so a key made there is everyone's; they do not share files).
	CreateInHSM
	// CreateAll makes missing key files and the local PKI too (serve in embedded mode, keys init).
	CreateAll
)

func (c Create) files() bool { return c == CreateAll }
func (c Create) hsm() bool   { return c != OpenOnly }

// Config is where the keys are.
type Config struct {
	// PKCS11 is the HSM when ModulePath is set: it holds the inner key (KeyLabel) and the sealing
	// key pair (SealKeyLabel); without it the inner key is InnerKeyFile and the sealing key a file
	// of the local PKI.
	PKCS11       envelope.PKCS11Config
	SealKeyLabel string
	InnerKeyFile string
	OuterKeyFile string // the outer layer's key, always a separate file
	TokenKeyFile string // at least 32 bytes
	PKIDir       string
	PublicURL    string // where the local PKI answers OCSP and serves its CRL: its certificates name it
	// Seal is the operator's own seal certificate when configured: then the local PKI issues only
	// the built-in TSA's certificate, and with an HSM (Seal.UsesHSM) the key SealKeyLabel is the
	// bought certificate's, so it is opened, never generated.
	Seal pki.SealSource
}

// Keys is everything Open opened, and what Close releases (the HSM sessions).
type Keys struct {
	Envelope *envelope.Envelope
	TokenKey []byte
	PKI      *pki.Local // the root CA, the seal and TSA identities; PKI.Created when Open made it
	// Seal is the identity documents are sealed with: the operator's (checked, Operator true) or
	// the local PKI's.
	Seal     *pki.Identity
	Operator bool

	closers []func()
}

// Close releases the HSM sessions. The keys are not usable after it.
func (k *Keys) Close() {
	for i := len(k.closers) - 1; i >= 0; i-- {
		k.closers[i]()
	}
	k.closers = nil
}

// Open opens every key and the local PKI, making what is missing as create allows. now dates the
// certificates it issues.
func Open(cfg Config, create Create, now time.Time) (*Keys, error) {
	k := &Keys{}
	fail := func(err error) (*Keys, error) { k.Close(); return nil, err }
	env, closeEnvelope, err := OpenEnvelope(cfg, create)
	if err != nil {
		return fail(err)
	}
	k.Envelope, k.closers = env, append(k.closers, closeEnvelope)
	if k.TokenKey, err = OpenTokenKey(cfg.TokenKeyFile, create); err != nil {
		return fail(err)
	}
	if cfg.Seal.Configured() {
		if k.Seal, err = k.openOperatorSeal(cfg, now); err != nil {
			return fail(err)
		}
		if k.PKI, err = pki.LoadOrCreateLocalTSA(cfg.PKIDir, create.files(), now, cfg.PublicURL); err != nil {
			return fail(err)
		}
		k.Operator = true
		return k, nil
	}
	sealKey, closeSealKey, err := OpenSealKey(cfg, create)
	if err != nil {
		return fail(err)
	}
	k.closers = append(k.closers, closeSealKey)
	if k.PKI, err = OpenPKI(cfg, create, now, sealKey); err != nil {
		return fail(err)
	}
	k.Seal = k.PKI.Seal
	return k, nil
}

// openOperatorSeal opens and checks the operator's seal (pki.LoadOperatorSeal): its HSM key, when
// it is one, is opened only (OpenOnly): a key made now could not match a certificate bought for
// another.
func (k *Keys) openOperatorSeal(cfg Config, now time.Time) (*pki.Identity, error) {
	src := cfg.Seal
	if src.UsesHSM() {
		key, closeKey, err := OpenSealKey(cfg, OpenOnly)
		if err != nil {
			return nil, err
		}
		k.closers = append(k.closers, closeKey)
		src.Signer = key
	}
	id, err := pki.LoadOperatorSeal(src, now)
	if err != nil {
		return nil, fmt.Errorf("operator seal certificate: %w", err)
	}
	return id, nil
}

// OpenEnvelope builds the two envelope layers: the inner key in the HSM (PKCS#11) when configured,
// else a key file; the outer key in a second, separate key file. The function it returns releases
// the HSM session.
func OpenEnvelope(cfg Config, create Create) (*envelope.Envelope, func(), error) {
	var inner envelope.KeyWrapper
	closeInner := func() {}
	if cfg.PKCS11.ModulePath != "" {
		p11cfg := cfg.PKCS11
		p11cfg.CreateKey = create.hsm() // the key is generated inside the HSM and never leaves it
		hsm, err := envelope.NewPKCS11KeyWrapper(p11cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("open HSM inner key: %w", err)
		}
		inner, closeInner = hsm, func() { _ = hsm.Close() }
	} else {
		fileKey, err := envelope.NewFileKeyWrapper(cfg.InnerKeyFile, create.files())
		if err != nil {
			return nil, nil, fmt.Errorf("open inner key file: %w", err)
		}
		inner = fileKey
	}
	outer, err := envelope.NewFileKeyWrapper(cfg.OuterKeyFile, create.files())
	if err != nil {
		closeInner()
		return nil, nil, fmt.Errorf("open outer key file: %w", err)
	}
	return envelope.New(inner, outer), closeInner, nil
}

// OpenSealKey returns the HSM sealing key when PKCS#11 is configured (generated inside the HSM when
// missing and create allows it), or nil: the local PKI then keeps the sealing key in a file. The
// function it returns releases the HSM session.
func OpenSealKey(cfg Config, create Create) (crypto.Signer, func(), error) {
	if cfg.PKCS11.ModulePath == "" {
		return nil, func() {}, nil
	}
	key, closer, err := pki.PKCS11Signer(pki.PKCS11KeyConfig{ModulePath: cfg.PKCS11.ModulePath,
		TokenLabel: cfg.PKCS11.TokenLabel, PIN: cfg.PKCS11.PIN, KeyLabel: cfg.SealKeyLabel, Create: create.hsm()})
	if err != nil {
		return nil, nil, fmt.Errorf("open HSM sealing key: %w", err)
	}
	return key, func() { _ = closer.Close() }, nil
}

// OpenTokenKey reads the key signatory tokens are derived from, creating it (0600) when create
// allows files.
func OpenTokenKey(path string, create Create) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create.files() {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate token key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key folder: %w", err)
		}
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write token key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read token key %s (create keys with `esign keys init`): %w", path, err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("token key %s is %d bytes; it must be at least 32", path, len(key))
	}
	return key, nil
}

// OpenPKI loads the local PKI in cfg.PKIDir, creating what is missing when create allows files.
// With sealKey (an HSM key, from OpenSealKey) the seal certificate is issued for it.
func OpenPKI(cfg Config, create Create, now time.Time, sealKey crypto.Signer) (*pki.Local, error) {
	return pki.LoadOrCreateLocal(cfg.PKIDir, create.files(), now, sealKey, cfg.PublicURL)
}
