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

// hungSigner is an HSM that stopped answering: a signature takes longer than anyone waits.
type hungSigner struct {
	crypto.Signer
	delay time.Duration
}

func (h hungSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	time.Sleep(h.delay)
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
	prompt := boundSigner(key, 100*time.Millisecond)
	sig, err := prompt.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
		t.Fatalf("a prompt HSM: %v", err)
	}
	if !key.PublicKey.Equal(prompt.Public()) {
		t.Error("the bounded signer shows another public key")
	}
	hung := boundSigner(hungSigner{key, 2 * time.Second}, 100*time.Millisecond)
	start := time.Now()
	if _, err := hung.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, envelope.ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("sign on a hung HSM: %v after %v, want ErrUnavailable at the deadline", err, time.Since(start))
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
	if !ok || d.deadline != HSMDeadline {
		t.Fatalf("PKCS11Signer returned %T, want a signer bounded by %v", key, HSMDeadline)
	}
	if HSMDeadline != 5*time.Second {
		t.Errorf("HSMDeadline = %v; envelope bounds wrap and unwrap by 5 s", HSMDeadline)
	}
}
