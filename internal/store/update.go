package store

import (
	"encoding/json"
	"fmt"
	"slices"

	"esign/internal/order"
)

// CheckKeysUnchanged reports an error when an Updater changed what identifies an order and places
// it in listings (its id, application and creation time). Backends call it before saving, so a buggy
// updater cannot move an order to another row, another application or another page.
func CheckKeysUnchanged(before, after *order.SignatureOrder) error {
	switch {
	case after.ID != before.ID:
		return fmt.Errorf("updater changed the order id from %q to %q", before.ID, after.ID)
	case after.ApplicationID != before.ApplicationID:
		return fmt.Errorf("updater changed the application of order %s", before.ID)
	case !after.CreatedAt.Equal(before.CreatedAt):
		return fmt.Errorf("updater changed the creation time of order %s", before.ID)
	}
	return nil
}

// EncodeOrder is how every backend serializes the aggregate.
func EncodeOrder(o *order.SignatureOrder) ([]byte, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode order %s: %w", o.ID, err)
	}
	return data, nil
}

// DecodeOrder reverses EncodeOrder.
func DecodeOrder(data []byte) (*order.SignatureOrder, error) {
	o := new(order.SignatureOrder)
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	return o, nil
}

// UpdaterError carries an Updater's own error out of a backend's transaction, so that the backend
// can return it unwrapped, as Store.UpdateOrder promises.
type UpdaterError struct{ Err error }

func (e *UpdaterError) Error() string { return e.Err.Error() }
func (e *UpdaterError) Unwrap() error { return e.Err }

// Applied is an order an Updater changed, ready for a backend to write.
type Applied struct {
	Order   *order.SignatureOrder
	Data    []byte // the encoded aggregate
	Reindex bool   // the indexed keys changed: the backend rewrites the order's index
	// DocumentsDropped: the order held document versions and holds none now; the backend deletes
	// the kept Idempotency-Key answers that hold them (KeptAnswer.OrderIDs), in the same transaction.
	DocumentsDropped bool
}

// CheckDocumentsHeld is FinishIdempotent's check of one order as stored: ErrDocumentsDeleted when
// it holds no document version any more.
func CheckDocumentsHeld(data []byte) error {
	o, err := DecodeOrder(data)
	if err != nil {
		return err
	}
	if !o.HasStoredDocuments() {
		return ErrDocumentsDeleted
	}
	return nil
}

// Apply is the backend-independent half of an update: decode the stored order, run fn, check that
// fn kept what identifies the order, and encode the result. fn's error comes back as *UpdaterError.
func Apply(data []byte, fn Updater) (Applied, error) {
	o, err := DecodeOrder(data)
	if err != nil {
		return Applied{}, err
	}
	before := *o
	indexed := IndexEntries(o)
	held := o.HasStoredDocuments() // before fn: before shares the documents slice with o
	if err := fn(o); err != nil {
		return Applied{}, &UpdaterError{err}
	}
	if err := CheckKeysUnchanged(&before, o); err != nil {
		return Applied{}, err
	}
	if data, err = EncodeOrder(o); err != nil {
		return Applied{}, fmt.Errorf("encode: %w", err)
	}
	return Applied{Order: o, Data: data, Reindex: !slices.Equal(indexed, IndexEntries(o)),
		DocumentsDropped: held && !o.HasStoredDocuments()}, nil
}
