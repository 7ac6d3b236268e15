package auditlog

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"esign/internal/order"
)

func TestSealOpen(t *testing.T) {
	public, private, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	_, otherPrivate, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	entry := order.AuditEntry{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Kind: order.AuditDocumentApproved,
		SignatoryID: "sig", DocumentID: "doc", Actor: &order.Actor{IP: "192.0.2.1", UserAgent: "Distinctive/1.0"},
		Details: map[string]string{"k": "v"}}
	sealed, err := Seal(public, "order-1", 7, entry)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Distinctive")) || bytes.Contains(sealed, []byte("192.0.2.1")) {
		t.Fatal("sealed entry holds plaintext")
	}
	again, err := Seal(public, "order-1", 7, entry)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one entry are equal: the encapsulation is not fresh")
	}

	opener, err := NewOpener(private, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := opener.Open(7, sealed)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if !got.At.Equal(entry.At) || got.Kind != entry.Kind || got.SignatoryID != "sig" || got.DocumentID != "doc" ||
		got.Actor == nil || *got.Actor != *entry.Actor || got.Details["k"] != "v" {
		t.Fatalf("opened %+v, want %+v", got, entry)
	}

	tampered := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	wrongOrder, err := NewOpener(private, "order-2")
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := NewOpener(otherPrivate, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		opener *Opener
		seq    int64
		sealed []byte
	}{
		{"tampered ciphertext", opener, 7, tampered(len(sealed) - 1)},
		{"tampered encapsulated key", opener, 7, tampered(10)},
		{"other format", opener, 7, tampered(0)},
		{"truncated", opener, 7, sealed[:len(sealed)-1]},
		{"empty", opener, 7, nil},
		{"wrong order id", wrongOrder, 7, sealed},
		{"wrong seq", opener, 8, sealed},
		{"wrong key", wrongKey, 7, sealed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.opener.Open(c.seq, c.sealed); !errors.Is(err, ErrOpen) {
				t.Fatalf("open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestSealRefusesABadPublicKey(t *testing.T) {
	if _, err := Seal([]byte("not a key"), "order-1", 1, order.AuditEntry{}); err == nil {
		t.Fatal("sealed to a malformed public key")
	}
	if _, err := NewOpener([]byte("short"), "order-1"); err == nil {
		t.Fatal("opener from a malformed private key")
	}
}

// The info separates (order, seq) pairs whose concatenation would collide.
func TestInfoIsUnambiguous(t *testing.T) {
	if bytes.Equal(info("a1", 2), info("a", 12)) {
		t.Fatal("info collides")
	}
}
