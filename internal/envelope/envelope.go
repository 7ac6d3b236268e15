// Package envelope encrypts document versions in two independent layers before they reach a blob
// store. Each layer has its own fresh data key per version, wrapped by its own key manager (the inner
// one by an HSM through PKCS#11 or a local key file, the outer one by a separately configured key).
// The wrapped keys are kept apart from the blob (in the database), so deleting them shreds every copy
// of the blob. Associated data binds each ciphertext to its application, order, document and version.
package envelope

import (
	"context"
	"fmt"
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
