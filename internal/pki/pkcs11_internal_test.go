package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"time"

	"esign/internal/envelope"
	"esign/internal/testenv"
)

// hungSigner is an HSM that stopped answering: a signature waits until answer is closed.
type hungSigner struct {
	crypto.Signer
	answer chan struct{}
}

func (h hungSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	<-h.answer
	return h.Signer.Sign(r, digest, opts)
}

// A hung HSM fails the seal signature at the deadline with envelope.ErrUnavailable (what a hung
// wrap or unwrap answers), and a prompt one signs as before.
func TestHungHSMSignatureFailsAtTheDeadline(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("document"))
	prompt := boundSigner(key, time.Minute)
	sig, err := prompt.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
		t.Fatalf("a prompt HSM: %v", err)
	}
	if !key.PublicKey.Equal(prompt.Public()) {
		t.Error("the bounded signer shows another public key")
	}
	// The HSM answers only after the test, so Sign can return only at a deadline; well before
	// hsmDeadline, it is the one this signer was given.
	answer := make(chan struct{})
	defer close(answer)
	hung := boundSigner(hungSigner{key, answer}, 100*time.Millisecond)
	start := time.Now()
	if _, err := hung.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, envelope.ErrUnavailable) || time.Since(start) >= hsmDeadline {
		t.Errorf("sign on a hung HSM: %v after %v, want ErrUnavailable at the 100 ms deadline", err, time.Since(start))
	}
}

// The signer PKCS11Signer hands out is the bounded one, with the wrap and unwrap deadline.
func TestPKCS11SignerIsBounded(t *testing.T) {
	tok := testenv.SoftHSM(t)
	key, closer, err := PKCS11Signer(PKCS11KeyConfig{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel, PIN: tok.PIN,
		KeyLabel: tok.KeyLabel + "-bounded", Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	d, ok := key.(*deadlineSigner)
	if !ok || d.deadline != hsmDeadline {
		t.Fatalf("PKCS11Signer returned %T, want a signer bounded by %v", key, hsmDeadline)
	}
	if hsmDeadline != 5*time.Second {
		t.Errorf("hsmDeadline = %v; envelope bounds wrap and unwrap by 5 s", hsmDeadline)
	}
}
