package pki

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11KeyConfig names an RSA key pair in an HSM token.
type PKCS11KeyConfig struct {
	ModulePath, TokenLabel, PIN, KeyLabel string
	// Create generates an RSA-2048 key pair with KeyLabel inside the HSM when none exists.
	Create bool
}

// PKCS11Signer returns a crypto.Signer whose private key stays in the HSM, and the closer that
// releases the token session.
func PKCS11Signer(cfg PKCS11KeyConfig) (crypto.Signer, io.Closer, error) {
	if cfg.ModulePath == "" || cfg.TokenLabel == "" || cfg.KeyLabel == "" {
		return nil, nil, errors.New("pkcs11 signer: module path, token label and key label are required")
	}
	c, err := crypto11.Configure(&crypto11.Config{Path: cfg.ModulePath, TokenLabel: cfg.TokenLabel, Pin: cfg.PIN})
	if err != nil {
		return nil, nil, fmt.Errorf("pkcs11 signer: open token %q: %w", cfg.TokenLabel, err)
	}
	found, err := c.FindKeyPairs(nil, []byte(cfg.KeyLabel))
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("pkcs11 signer: find key %q: %w", cfg.KeyLabel, err)
	}
	if len(found) > 0 {
		return found[0], c, nil
	}
	if !cfg.Create {
		c.Close()
		return nil, nil, fmt.Errorf("pkcs11 signer: no key pair labelled %q", cfg.KeyLabel)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		c.Close()
		return nil, nil, err
	}
	key, err := c.GenerateRSAKeyPairWithLabel(id, []byte(cfg.KeyLabel), 2048)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("pkcs11 signer: generate key %q: %w", cfg.KeyLabel, err)
	}
	return key, c, nil
}
