// Package auditlog seals the entries of an order's audit trail to the order's public key (HPKE,
// RFC 9180) and opens them with its private key. The store seals as it writes, knowing only the
// public key, so writing an entry needs no key manager and no entry is ever on disk in clear; the
// service opens them after decrypting the private key with the order's envelope.
//
// The suite is the hybrid post-quantum KEM ML-KEM-768 + X25519 with HKDF-SHA256 and AES-256-GCM.
// A sealed entry is format(1) | HPKE encapsulated key | AES-256-GCM ciphertext; the HPKE info binds
// the format, the order id and the entry's sequence number, so an entry moved to another order or
// another place in the trail does not open.
package auditlog

import (
	"crypto/hpke"
	"encoding/json"
	"errors"
	"fmt"

	"esign/internal/order"
)

// formatV1 is the first byte of every sealed entry: this suite and this info layout.
const formatV1 byte = 1

// ErrOpen is returned for an entry that does not open: tampered, moved, or under another key.
var ErrOpen = errors.New("audit entry does not open")

func kem() hpke.KEM   { return hpke.MLKEM768X25519() }
func kdf() hpke.KDF   { return hpke.HKDFSHA256() }
func aead() hpke.AEAD { return hpke.AES256GCM() }

// NewKey generates an order's key pair: the public key, and the private key as serialized (to be
// encrypted by the caller before it is stored).
func NewKey() (public, private []byte, err error) {
	k, err := kem().GenerateKey()
	if err != nil {
		return nil, nil, fmt.Errorf("generate audit key: %w", err)
	}
	private, err = k.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("serialize audit key: %w", err)
	}
	return k.PublicKey().Bytes(), private, nil
}

// info binds a sealed entry to its order and its place in the trail (length-prefixed, so distinct
// pairs never collide).
func info(orderID string, seq int64) []byte {
	return fmt.Appendf(nil, "esign/audit/v%d|%d:%s|%d", formatV1, len(orderID), orderID, seq)
}

// Seal encrypts entry for the order whose public key is public, at position seq.
func Seal(public []byte, orderID string, seq int64, entry order.AuditEntry) ([]byte, error) {
	pk, err := kem().NewPublicKey(public)
	if err != nil {
		return nil, fmt.Errorf("audit key of order %s: %w", orderID, err)
	}
	plaintext, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("encode audit entry: %w", err)
	}
	ct, err := hpke.Seal(pk, kdf(), aead(), info(orderID, seq), plaintext)
	if err != nil {
		return nil, fmt.Errorf("seal audit entry %d of order %s: %w", seq, orderID, err)
	}
	return append([]byte{formatV1}, ct...), nil
}

// Opener opens the entries of one order.
type Opener struct {
	key     hpke.PrivateKey
	orderID string
}

// NewOpener takes the order's private key as NewKey serialized it.
func NewOpener(private []byte, orderID string) (*Opener, error) {
	k, err := kem().NewPrivateKey(private)
	if err != nil {
		return nil, fmt.Errorf("audit key of order %s: %w", orderID, err)
	}
	return &Opener{key: k, orderID: orderID}, nil
}

// Open decrypts the entry sealed at seq; ErrOpen when it does not open.
func (o *Opener) Open(seq int64, sealed []byte) (order.AuditEntry, error) {
	if len(sealed) < 1 || sealed[0] != formatV1 {
		return order.AuditEntry{}, fmt.Errorf("%w: entry %d of order %s: unknown format", ErrOpen, seq, o.orderID)
	}
	plaintext, err := hpke.Open(o.key, kdf(), aead(), info(o.orderID, seq), sealed[1:])
	if err != nil {
		return order.AuditEntry{}, fmt.Errorf("%w: entry %d of order %s", ErrOpen, seq, o.orderID)
	}
	var e order.AuditEntry
	if err := json.Unmarshal(plaintext, &e); err != nil {
		return order.AuditEntry{}, fmt.Errorf("decode audit entry %d of order %s: %w", seq, o.orderID, err)
	}
	return e, nil
}
