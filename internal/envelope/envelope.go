// Package envelope encrypts document versions in two independent layers before they reach a blob
// store. Each layer has its own fresh data key per version, wrapped by its own key manager (the inner
// one by an HSM through PKCS#11 or a local key file, the outer one by a separately configured key).
// The wrapped keys are kept apart from the blob (in the database), so deleting them shreds every copy
// of the blob. Associated data binds each ciphertext to its application, order, document and version.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"esign/internal/fault"
	"esign/internal/order"
)

// KeyWrapper wraps and unwraps data keys with a key the caller never sees.
type KeyWrapper interface {
	// Wrap encrypts dek bound to aad. It returns the id of the wrapping key (kept beside the wrapped key
	// so that a rotated wrapper can still find the old key) and the wrapped key.
	Wrap(ctx context.Context, dek, aad []byte) (keyID string, wrapped []byte, err error)
	// Unwrap reverses Wrap; it fails when keyID, wrapped or aad differ from what Wrap saw.
	Unwrap(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// Binding names where a ciphertext belongs. It is the associated data of both layers, so a blob copied
// to another document's (or version's) place fails to decrypt.
type Binding struct {
	ApplicationID string
	OrderID       string
	DocumentID    string
	Version       int
}

// AAD is the associated data for one layer. Length-prefixed fields keep distinct bindings distinct.
func (b Binding) AAD(layer string) []byte {
	return fmt.Appendf(nil, "esign/v1|%d:%s|%d:%s|%d:%s|%d:%s|%d", len(layer), layer,
		len(b.ApplicationID), b.ApplicationID, len(b.OrderID), b.OrderID,
		len(b.DocumentID), b.DocumentID, b.Version)
}

// formatV1 is the first byte of every ciphertext this package writes; it is also bound into the
// associated data (through the layer names), so a ciphertext cannot be opened under another format.
const formatV1 byte = 1

const (
	dataKeySize = 32 // AES-256
	nonceSize   = 12 // GCM standard nonce; random, and each data key encrypts exactly once
	tagSize     = 16
	// Overhead is how many bytes a sealed document is longer than its plaintext.
	Overhead = 1 + 2*(nonceSize+tagSize)
)

// Envelope encrypts in two layers, each with a fresh data key wrapped by its own KeyWrapper.
//
// Layout of a ciphertext: format(1) | outer nonce(12) | outer AES-256-GCM of
// [ inner nonce(12) | inner AES-256-GCM of the plaintext ]. The data layers use the standard
// library's AES-GCM (which Tink's own AES-GCM wraps) rather than Tink's, because it can encrypt and
// decrypt in place: both layers share one buffer, so a 20 MB document costs one 20 MB allocation to
// encrypt and none to decrypt. Tink manages the key-encryption keys (see FileKeyWrapper).
type Envelope struct {
	inner, outer KeyWrapper
	rand         io.Reader
}

// New returns an Envelope; inner and outer must be independent key managers.
func New(inner, outer KeyWrapper) *Envelope {
	return &Envelope{inner: inner, outer: outer, rand: rand.Reader}
}

// Encrypt encrypts plaintext for the place b names and returns the ciphertext and the wrapped data keys
// (to be stored apart from the ciphertext). plaintext is not modified.
func (e *Envelope) Encrypt(ctx context.Context, plaintext []byte, b Binding) ([]byte, order.Keys, error) {
	var keys order.Keys
	buf := make([]byte, 1+nonceSize+nonceSize, len(plaintext)+Overhead)
	buf[0] = formatV1
	if _, err := io.ReadFull(e.rand, buf[1:]); err != nil { // both nonces
		return nil, keys, fmt.Errorf("generate nonces: %w", err)
	}
	innerAAD, outerAAD := b.AAD("inner"), b.AAD("outer")
	inner, innerKey, err := e.newLayer()
	if err != nil {
		return nil, keys, fmt.Errorf("inner layer: %w", err)
	}
	defer clear(innerKey)
	innerNonce := buf[1+nonceSize : 1+2*nonceSize]
	buf = inner.Seal(buf, innerNonce, plaintext, innerAAD)

	outer, outerKey, err := e.newLayer()
	if err != nil {
		return nil, keys, fmt.Errorf("outer layer: %w", err)
	}
	defer clear(outerKey)
	outerPlain := buf[1+nonceSize:] // inner nonce and inner ciphertext, encrypted in place
	sealed := outer.Seal(outerPlain[:0], buf[1:1+nonceSize], outerPlain, outerAAD)
	buf = buf[:1+nonceSize+len(sealed)]

	if keys.InnerKeyID, keys.Inner, err = e.inner.Wrap(ctx, innerKey, innerAAD); err != nil {
		return nil, keys, fmt.Errorf("inner layer: wrap data key: %w", err)
	}
	if keys.OuterKeyID, keys.Outer, err = e.outer.Wrap(ctx, outerKey, outerAAD); err != nil {
		return nil, keys, fmt.Errorf("outer layer: wrap data key: %w", err)
	}
	return buf, keys, nil
}

// newLayer makes a fresh data key and its cipher.
func (e *Envelope) newLayer() (cipher.AEAD, []byte, error) {
	dek := make([]byte, dataKeySize)
	if _, err := io.ReadFull(e.rand, dek); err != nil {
		return nil, nil, fmt.Errorf("generate data key: %w", err)
	}
	aead, err := gcm(dek)
	if err != nil {
		clear(dek)
		return nil, nil, err
	}
	return aead, dek, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// ErrUnavailable wraps failures of a key manager to do its work (an HSM that errs or is gone):
// retrying may succeed; nothing was encrypted.
var ErrUnavailable error = &fault.Unavailable{Dependency: "the key manager (HSM)"}

// ErrDecrypt is returned (wrapped) when a ciphertext or its keys do not open for the given binding.
var ErrDecrypt = errors.New("ciphertext does not decrypt for this place")

// Decrypt reverses Encrypt; it fails with ErrDecrypt when the ciphertext, the keys or the binding
// differ from Encrypt's. It decrypts in place: ciphertext's memory is reused for the result and must not be
// used afterwards.
func (e *Envelope) Decrypt(ctx context.Context, ciphertext []byte, keys order.Keys, b Binding) ([]byte, error) {
	if len(ciphertext) < Overhead || ciphertext[0] != formatV1 {
		return nil, fmt.Errorf("%w: not an encrypted document (format or length)", ErrDecrypt)
	}
	outerAAD, innerAAD := b.AAD("outer"), b.AAD("inner")
	body := ciphertext[1+nonceSize:]
	innerSealed, err := openLayer(ctx, e.outer, keys.OuterKeyID, keys.Outer, ciphertext[1:1+nonceSize], body, outerAAD)
	if err != nil {
		return nil, fmt.Errorf("outer layer: %w", err)
	}
	if len(innerSealed) < nonceSize+tagSize {
		return nil, fmt.Errorf("%w: inner layer too short", ErrDecrypt)
	}
	plaintext, err := openLayer(ctx, e.inner, keys.InnerKeyID, keys.Inner, innerSealed[:nonceSize], innerSealed[nonceSize:], innerAAD)
	if err != nil {
		return nil, fmt.Errorf("inner layer: %w", err)
	}
	return plaintext, nil
}

func openLayer(ctx context.Context, w KeyWrapper, keyID string, wrapped, nonce, sealed, aad []byte) ([]byte, error) {
	if len(wrapped) == 0 {
		return nil, fmt.Errorf("%w: no wrapped data key", ErrDecrypt)
	}
	dek, err := w.Unwrap(ctx, keyID, wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrap data key: %v", ErrDecrypt, err)
	}
	defer clear(dek)
	aead, err := gcm(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	plaintext, err := aead.Open(sealed[:0], nonce, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrDecrypt)
	}
	return plaintext, nil
}
