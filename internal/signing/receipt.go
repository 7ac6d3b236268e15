package signing

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"esign/internal/fault"
	"esign/internal/order"
)

// ReceiptKey signs deletion receipts: the service's seal key and its certificate chain (leaf
// first), so a receipt is checked like a sealed document, against the seal's root.
type ReceiptKey struct {
	Signer crypto.Signer
	Chain  []*x509.Certificate
}

// SignedReceipt is an order's deletion receipt as the application gets it.
type SignedReceipt struct {
	Receipt order.DeletionReceipt
	// JWS is the receipt signed now, compact serialization, with the chain in x5c.
	JWS string
	// HashKey is the order's key of the keyed hashes (order/receipt.go).
	HashKey []byte
}

// receiptHashKey is the order's key of its documents' keyed hashes, derived from the token key so
// that nothing more is stored: each order has its own, and telling one to an integrator tells
// nothing about another order's documents.
func (s *Service) receiptHashKey(orderID string) []byte {
	mac := hmac.New(sha256.New, s.cfg.TokenKey)
	mac.Write([]byte("esign deletion receipt key v1\x00"))
	mac.Write([]byte(orderID))
	return mac.Sum(nil)
}

// receiptHash is a version's keyed hash: HMAC-SHA256(the order's key, SHA-256(data)), hex.
func (s *Service) receiptHash(orderID string, data []byte) string {
	sum := sha256.Sum256(data)
	mac := hmac.New(sha256.New, s.receiptHashKey(orderID))
	mac.Write(sum[:])
	return hex.EncodeToString(mac.Sum(nil))
}

// receiptClaims is the JWS payload of a deletion receipt.
type receiptClaims struct {
	Issuer      string                  `json:"iss"`
	Subject     string                  `json:"sub"` // the order
	ID          string                  `json:"jti"`
	IssuedAt    int64                   `json:"iat"`
	Application string                  `json:"application"`
	Reason      string                  `json:"reason"`
	DeletedAt   string                  `json:"deletedAt"`
	HashAlg     string                  `json:"keyedHash"`
	Documents   []order.ReceiptDocument `json:"documents"`
}

// receiptType is the JWS typ of a deletion receipt.
const receiptType = "esign-deletion-receipt+jws"

// DeletionReceipt is the deletion receipt of one of the caller's orders, signed now; nil while its
// documents are not deleted (NotFound for an order that is not the caller's). READ_ONLY keys may
// read it.
func (s *Service) DeletionReceipt(ctx context.Context, p Principal, orderID string) (*SignedReceipt, error) {
	o, err := s.Order(ctx, p, orderID)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
	}
	if o.DeletionReceipt == nil {
		return nil, nil
	}
	jws, err := s.signReceipt(o)
	if err != nil {
		return nil, err
	}
	return &SignedReceipt{Receipt: *o.DeletionReceipt, JWS: jws, HashKey: s.receiptHashKey(o.ID)}, nil
}

func (s *Service) signReceipt(o *order.SignatureOrder) (string, error) {
	k := s.cfg.Receipts
	if k == nil || k.Signer == nil || len(k.Chain) == 0 {
		return "", fault.NotImplemented("signed deletion receipts (no seal key is configured)")
	}
	r := o.DeletionReceipt
	payload, err := json.Marshal(receiptClaims{Issuer: s.cfg.PublicURL, Subject: o.ID, ID: r.ID, IssuedAt: s.Now().Unix(),
		Application: o.ApplicationID, Reason: r.Reason, DeletedAt: r.DeletedAt.UTC().Format(time.RFC3339Nano),
		HashAlg: "HMAC-SHA256(hashKey, SHA-256(version))", Documents: r.Documents})
	if err != nil {
		return "", err
	}
	opaque := cryptosigner.Opaque(k.Signer)
	algs := opaque.Algs()
	if len(algs) == 0 {
		return "", errors.New("deletion receipt: the seal key's type has no JWS algorithm")
	}
	chain := make([]string, len(k.Chain))
	for i, c := range k.Chain {
		chain[i] = base64.StdEncoding.EncodeToString(c.Raw) // x5c is standard base64 (RFC 7515 4.1.6)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: algs[0], Key: opaque}, (&jose.SignerOptions{}).
		WithType(receiptType).WithHeader("x5c", chain))
	if err != nil {
		return "", fmt.Errorf("deletion receipt signer: %w", err)
	}
	signed, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign deletion receipt of order %s: %w", o.ID, err)
	}
	return signed.CompactSerialize()
}
