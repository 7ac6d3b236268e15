package envelope

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11Config names the HSM token and the AES key that wraps the inner layer's data keys.
type PKCS11Config struct {
	ModulePath string // e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string
	PIN        string
	KeyLabel   string
	// CreateKey generates an AES-256 key with KeyLabel inside the HSM when none exists.
	CreateKey bool
}

// PKCS11KeyWrapper wraps data keys with an AES-256 key that lives in an HSM and never leaves it: the
// HSM runs AES-GCM on the data key. The key id stored beside each wrapped key is the HSM key's label,
// so after a rotation (a new KeyLabel) older wraps still find their key.
type PKCS11KeyWrapper struct {
	ctx      *crypto11.Context
	keyLabel string

	mu    sync.Mutex
	byKey map[string]cipher.AEAD // label → HSM-backed AES-GCM

	deadline time.Duration // bounds one HSM operation (hsmDeadline; a field for tests)
}

// hsmDeadline bounds one wrap or unwrap: a network HSM that stops answering must fail the call
// with ErrUnavailable, not hang it.
const hsmDeadline = 5 * time.Second

var _ KeyWrapper = (*PKCS11KeyWrapper)(nil)

// NewPKCS11KeyWrapper logs into the token and finds (or, with CreateKey, generates) the wrapping key.
func NewPKCS11KeyWrapper(cfg PKCS11Config) (*PKCS11KeyWrapper, error) {
	if cfg.ModulePath == "" || cfg.TokenLabel == "" || cfg.KeyLabel == "" {
		return nil, errors.New("pkcs11: module path, token label and key label are required")
	}
	c, err := crypto11.Configure(&crypto11.Config{Path: cfg.ModulePath, TokenLabel: cfg.TokenLabel, Pin: cfg.PIN})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: open token %q with %s: %w", cfg.TokenLabel, cfg.ModulePath, err)
	}
	w := &PKCS11KeyWrapper{ctx: c, keyLabel: cfg.KeyLabel, byKey: map[string]cipher.AEAD{}, deadline: hsmDeadline}
	if _, err := w.aead(cfg.KeyLabel); err != nil {
		if !cfg.CreateKey || !errors.Is(err, errNoSuchKey) {
			c.Close()
			return nil, err
		}
		if err := w.generate(cfg.KeyLabel); err != nil {
			c.Close()
			return nil, err
		}
	}
	return w, nil
}

var errNoSuchKey = errors.New("no such key in the HSM")

// aead returns the HSM-backed AES-GCM for the key with label, cached.
func (w *PKCS11KeyWrapper) aead(label string) (cipher.AEAD, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a, ok := w.byKey[label]; ok {
		return a, nil
	}
	keys, err := w.ctx.FindKeys(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find key %q: %w: %w", label, ErrUnavailable, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("pkcs11: key %q: %w: %w", label, ErrUnavailable, errNoSuchKey)
	}
	a, err := keys[0].NewGCM()
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: AES-GCM: %w", label, err)
	}
	w.byKey[label] = a
	return a, nil
}

func (w *PKCS11KeyWrapper) forget(label string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.byKey, label)
}

func (w *PKCS11KeyWrapper) generate(label string) error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("pkcs11: key id: %w", err)
	}
	if _, err := w.ctx.GenerateSecretKeyWithLabel(id, []byte(label), 256, crypto11.CipherAES); err != nil {
		return fmt.Errorf("pkcs11: generate key %q: %w", label, err)
	}
	_, err := w.aead(label)
	return err
}

// Wrap encrypts dek inside the HSM with the current key; the result is nonce | ciphertext | tag.
func (w *PKCS11KeyWrapper) Wrap(ctx context.Context, dek, aad []byte) (string, []byte, error) {
	wrapped, err := w.bounded(ctx, func() ([]byte, error) {
		a, err := w.aead(w.keyLabel)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(dek)+a.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("pkcs11: nonce: %w", err)
		}
		wrapped, err := sealHSM(a, nonce, dek, aad)
		if err != nil {
			w.forget(w.keyLabel) // the handle may be stale (token reinserted, HSM restarted): look it up again next time
			return nil, fmt.Errorf("pkcs11: wrap with %q: %w: %w", w.keyLabel, ErrUnavailable, err)
		}
		return wrapped, nil
	})
	if err != nil {
		return "", nil, err
	}
	return w.keyLabel, wrapped, nil
}

// bounded runs one HSM operation and answers ErrUnavailable if it takes longer than the deadline
// (a late answer is dropped), or ctx's error if the caller gives up first.
func (w *PKCS11KeyWrapper) bounded(ctx context.Context, op func() ([]byte, error)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1) // buffered: a late operation finishes without a reader
	go func() {
		out, err := op()
		done <- result{out, err}
	}()
	timer := time.NewTimer(w.deadline)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-timer.C:
		return nil, fmt.Errorf("pkcs11: no answer from the HSM within %v: %w", w.deadline, ErrUnavailable)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sealHSM turns crypto11's panics (it panics on HSM errors in Seal) into errors.
func sealHSM(a cipher.AEAD, nonce, plaintext, aad []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("HSM encrypt failed: %v", r)
		}
	}()
	return a.Seal(nonce, nonce, plaintext, aad), nil
}

// Unwrap decrypts inside the HSM with the key named by keyID.
func (w *PKCS11KeyWrapper) Unwrap(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	return w.bounded(ctx, func() ([]byte, error) {
		a, err := w.aead(keyID)
		if err != nil {
			return nil, err
		}
		if len(wrapped) < a.NonceSize()+a.Overhead() {
			return nil, errors.New("pkcs11: wrapped key too short")
		}
		n := a.NonceSize()
		dek, err := a.Open(nil, wrapped[:n], wrapped[n:], aad)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: unwrap with %q: %w", keyID, err)
		}
		return dek, nil
	})
}

// Close logs out and releases the module.
func (w *PKCS11KeyWrapper) Close() error {
	return w.ctx.Close()
}
