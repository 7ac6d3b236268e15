package pki

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ThalesGroup/crypto11"

	"esign/internal/envelope"
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
		return boundSigner(found[0], hsmDeadline), c, nil
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
	return boundSigner(key, hsmDeadline), c, nil
}

// hsmDeadline bounds one signature by the HSM. It is the deadline envelope's PKCS#11 key wrapper
// gives a wrap or unwrap, so a hung HSM fails sealing as soon as it fails encryption.
const hsmDeadline = 5 * time.Second

// deadlineSigner is an HSM key whose signatures fail with envelope.ErrUnavailable when the HSM does
// not answer in time. crypto.Signer takes no context, so the deadline is the only bound; the edges
// already answer ErrUnavailable as UNAVAILABLE (retryable), and a signature that arrives late is
// dropped.
type deadlineSigner struct {
	crypto.Signer
	deadline time.Duration
}

func boundSigner(s crypto.Signer, deadline time.Duration) crypto.Signer {
	return &deadlineSigner{Signer: s, deadline: deadline}
}

// Sign signs in a goroutine of its own and waits at most the deadline for it.
func (s *deadlineSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	type result struct {
		sig []byte
		err error
	}
	done := make(chan result, 1) // buffered: a late signature is written without a reader
	go func() {
		sig, err := s.Signer.Sign(r, digest, opts)
		done <- result{sig, err}
	}()
	timer := time.NewTimer(s.deadline)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			// An HSM error (a session lost, the token gone) is the key manager's, like a failed wrap.
			return nil, fmt.Errorf("pkcs11 signer: %w: %w", envelope.ErrUnavailable, res.err)
		}
		return res.sig, nil
	case <-timer.C:
		return nil, fmt.Errorf("pkcs11 signer: no answer from the HSM within %v: %w", s.deadline, envelope.ErrUnavailable)
	}
}
