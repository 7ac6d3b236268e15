package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"testing"
	"time"
)

// slowAEAD is an HSM that stopped answering: every operation takes longer than anyone waits.
type slowAEAD struct {
	cipher.AEAD
	delay time.Duration
}

func (s slowAEAD) Seal(dst, nonce, plaintext, aad []byte) []byte {
	time.Sleep(s.delay)
	return s.AEAD.Seal(dst, nonce, plaintext, aad)
}

func (s slowAEAD) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	time.Sleep(s.delay)
	return s.AEAD.Open(dst, nonce, ciphertext, aad)
}

// A hung HSM fails wrap and unwrap after the deadline with ErrUnavailable.
func TestHungHSMFailsAtTheDeadline(t *testing.T) {
	block, _ := aes.NewCipher(make([]byte, 32))
	gcm, _ := cipher.NewGCM(block)
	w := &PKCS11KeyWrapper{keyLabel: "k", byKey: map[string]cipher.AEAD{"k": gcm}, deadline: 100 * time.Millisecond}
	ctx := context.Background()
	_, wrapped, err := w.Wrap(ctx, make([]byte, 32), []byte("aad"))
	if err != nil {
		t.Fatalf("a prompt HSM: %v", err)
	}
	w.byKey["k"] = slowAEAD{gcm, time.Second}
	start := time.Now()
	if _, _, err := w.Wrap(ctx, make([]byte, 32), []byte("aad")); !errors.Is(err, ErrUnavailable) || time.Since(start) > 500*time.Millisecond {
		t.Errorf("wrap on a hung HSM: %v after %v", err, time.Since(start))
	}
	start = time.Now()
	if _, err := w.Unwrap(ctx, "k", wrapped, []byte("aad")); !errors.Is(err, ErrUnavailable) || time.Since(start) > 500*time.Millisecond {
		t.Errorf("unwrap on a hung HSM: %v after %v", err, time.Since(start))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Unwrap(cancelled, "k", wrapped, []byte("aad")); !errors.Is(err, context.Canceled) {
		t.Errorf("unwrap with a cancelled context: %v", err)
	}
}
