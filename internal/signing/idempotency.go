package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"esign/internal/envelope"
	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/store"
)

// encryptedBytes is what the database holds of bytes the envelope encrypted, as JSON with their wrapped
// data keys: kept answers, and webhook secrets (webhooks.go). Answers are encrypted like a document
// because they can carry document bytes (closeSignatureOrder's blobs), which must never rest in
// clear text; deleting the key's row shreds its answer.
type encryptedBytes struct {
	Keys       order.Keys `json:"keys"`
	Ciphertext []byte     `json:"ciphertext"`
}

// encryptBytes encrypts plaintext for b and encodes it as an encryptedBytes.
func (s *Service) encryptBytes(ctx context.Context, plaintext []byte, b envelope.Binding) ([]byte, error) {
	ciphertext, keys, err := s.crypt.Encrypt(ctx, plaintext, b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(encryptedBytes{Keys: keys, Ciphertext: ciphertext})
}

// decryptBytes is the inverse of encryptBytes; what does not decode is envelope.ErrDecrypt too.
func (s *Service) decryptBytes(ctx context.Context, stored []byte, b envelope.Binding) ([]byte, error) {
	var encrypted encryptedBytes
	if err := json.Unmarshal(stored, &encrypted); err != nil {
		return nil, fmt.Errorf("%w: %v", envelope.ErrDecrypt, err)
	}
	return s.crypt.Decrypt(ctx, encrypted.Ciphertext, encrypted.Keys, b)
}

func answerBinding(scope, key string) envelope.Binding {
	return envelope.Binding{ApplicationID: scope, OrderID: "idempotency-key", DocumentID: key}
}

// BeginIdempotent records a request under its key in scope (an API key or a signatory), or
// says why it must not run; for idempotency.Replay it returns the kept answer.
func (s *Service) BeginIdempotent(ctx context.Context, scope, key string, requestHash []byte) (idempotency.State, []byte, error) {
	now := s.Now()
	state, stored, err := s.store.BeginIdempotent(ctx, store.IdempotencyClaim{Scope: scope, Key: key, RequestHash: requestHash, Now: now,
		ExpiresAt: now.Add(idempotency.TTL), StaleBefore: now.Add(-idempotency.Lease)})
	if err != nil || state != idempotency.Replay {
		return state, nil, err
	}
	answer, err := s.decryptBytes(ctx, stored, answerBinding(scope, key))
	if err != nil {
		return 0, nil, fmt.Errorf("decrypt kept answer of idempotency key: %w", err)
	}
	return state, answer, nil
}

// FinishIdempotent keeps the answer of a request that ran, encrypted. orderIDs are the orders whose
// documents the answer holds (bytes, or signatures read from them): it is kept only while they hold
// them and is deleted with them. When one of them lost its documents already (closed without
// retention, cleaned up, cancelled, swept meanwhile), deleted is kept instead: the request must not
// run again, and its answer must not outlive the documents.
func (s *Service) FinishIdempotent(ctx context.Context, scope, key string, answer []byte, orderIDs []string, deleted []byte) error {
	err := s.keepAnswer(ctx, scope, key, answer, orderIDs)
	if errors.Is(err, store.ErrDocumentsDeleted) {
		err = s.keepAnswer(ctx, scope, key, deleted, nil)
	}
	return err
}

func (s *Service) keepAnswer(ctx context.Context, scope, key string, answer []byte, orderIDs []string) error {
	stored, err := s.encryptBytes(ctx, answer, answerBinding(scope, key))
	if err != nil {
		return fmt.Errorf("encrypt answer of idempotency key: %w", err)
	}
	return s.store.FinishIdempotent(ctx, store.KeptAnswer{Scope: scope, Key: key, Response: stored, OrderIDs: orderIDs})
}

// AbandonIdempotent forgets a request that failed in a way worth retrying.
func (s *Service) AbandonIdempotent(ctx context.Context, scope, key string) error {
	return s.store.AbandonIdempotent(ctx, scope, key)
}

// PurgeIdempotencyKeys deletes the keys that expired before now (the sweeper).
func (s *Service) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (SweepReport, error) {
	n, err := s.store.PurgeIdempotencyKeys(ctx, now)
	return SweepReport{IdempotencyKeysPurged: n}, err
}
