package store

import (
	"encoding/json"
	"fmt"

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
