package auditlog

import (
	"testing"
	"time"

	"esign/internal/order"
)

// BenchmarkSeal is what writing one audit entry adds to an order's update (the store seals each
// entry to the order's public key in the transaction); BenchmarkOpen what reading one back costs.
func BenchmarkSeal(b *testing.B) {
	public, _, err := NewKey()
	if err != nil {
		b.Fatal(err)
	}
	e := order.AuditEntry{At: time.Now(), Kind: order.AuditSignatorySigned, SignatoryID: "sig-1",
		Actor:   &order.Actor{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"},
		Details: map[string]string{"provider": "criiptoVerify", "claims": "name sub", "name": "Åse Ødegård"}}
	b.ReportAllocs()
	var seq int64
	for b.Loop() {
		seq++
		if _, err := Seal(public, "order-1", seq, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	public, private, err := NewKey()
	if err != nil {
		b.Fatal(err)
	}
	sealed, err := Seal(public, "order-1", 1, order.AuditEntry{At: time.Now(), Kind: order.AuditOrderCreated})
	if err != nil {
		b.Fatal(err)
	}
	o, err := NewOpener(private, "order-1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Open(1, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
