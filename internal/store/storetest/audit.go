package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"esign/internal/auditlog"
	"esign/internal/order"
	"esign/internal/store"
)

// keyed gives o an audit key (the private half in clear: the store never sees it either way) and
// returns the opener of its trail.
func keyed(t *testing.T, o *order.SignatureOrder) *auditlog.Opener {
	t.Helper()
	public, private, err := auditlog.NewKey()
	mustNil(t, "audit key", err)
	o.AuditKey = &order.AuditKey{Public: public, Private: []byte("encrypted elsewhere")}
	opener, err := auditlog.NewOpener(private, o.ID)
	mustNil(t, "opener", err)
	return opener
}

// trail lists and opens an order's whole trail, checking that Seq counts 1, 2, ... and that At is the
// entry's time.
func trail(t *testing.T, s store.Store, opener *auditlog.Opener, orderID string) []order.AuditEntry {
	t.Helper()
	sealed, err := s.ListAuditEntries(context.Background(), orderID, 0, 1000)
	mustNil(t, "list audit entries", err)
	out := make([]order.AuditEntry, len(sealed))
	for i, e := range sealed {
		mustEqual(t, "order id", e.OrderID, orderID)
		mustEqual(t, "seq", e.Seq, int64(i+1))
		if opener == nil {
			continue
		}
		entry, err := opener.Open(e.Seq, e.Sealed)
		mustNil(t, fmt.Sprintf("open entry %d", e.Seq), err)
		if !e.At.Equal(entry.At) || e.At.Location() != time.UTC {
			t.Errorf("entry %d: At %v, entry's time %v", e.Seq, e.At, entry.At)
		}
		out[i] = entry
	}
	return out
}

func kinds(entries []order.AuditEntry) []order.AuditKind {
	out := make([]order.AuditKind, len(entries))
	for i, e := range entries {
		out[i] = e.Kind
	}
	return out
}

// CreateOrder and UpdateOrder seal what the order recorded into its trail, numbered on from the
// last entry; ListAuditEntries pages by Seq, per order.
func testAuditTrail(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := NewOrder("app-1", "order-1", base)
	opener := keyed(t, o)
	sig := o.Signatories[0].ID
	o.ActingAs(&order.Actor{IP: "192.0.2.7", UserAgent: "Conformance/1"})
	mustNil(t, "track", o.Track(sig, false, base))
	mustNil(t, "track download", o.Track(sig, true, base.Add(time.Second)))
	createOrder(t, s, o)

	other := NewOrder("app-1", "order-2", base)
	otherOpener := keyed(t, other)
	mustNil(t, "track other", other.Track(other.Signatories[0].ID, false, base))
	createOrder(t, s, other)

	unkeyed := NewOrder("app-1", "order-3", base) // stored before the trail: nothing to seal to
	unkeyed.AuditKey = nil
	mustNil(t, "track unkeyed", unkeyed.Track(unkeyed.Signatories[0].ID, false, base))
	createOrder(t, s, unkeyed)

	later := base.Add(time.Hour)
	_, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
		o.RecordingAt(later)
		return o.Extend(2)
	})
	mustNil(t, "update", err)
	_, err = s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error { return nil })
	mustNil(t, "update recording nothing", err)

	got := trail(t, s, opener, "order-1")
	mustEqual(t, "kinds", kinds(got), []order.AuditKind{order.AuditLinkOpened, order.AuditDownloadLinkOpened, order.AuditOrderExtended})
	mustEqual(t, "actor", *got[0].Actor, order.Actor{IP: "192.0.2.7", UserAgent: "Conformance/1"})
	mustEqual(t, "signatory", got[1].SignatoryID, sig)
	mustEqual(t, "time", got[1].At, base.Add(time.Second))
	mustEqual(t, "time of an update", got[2].At, later)
	if got[2].Actor != nil {
		t.Errorf("the actor of a load is not stored with the order: %+v", got[2].Actor)
	}
	mustEqual(t, "details", got[2].Details["days"], "2")
	mustEqual(t, "other order's trail", kinds(trail(t, s, otherOpener, "order-2")), []order.AuditKind{order.AuditLinkOpened})
	mustEqual(t, "unkeyed order's trail", len(trail(t, s, nil, "order-3")), 0)
	mustEqual(t, "unknown order's trail", len(trail(t, s, nil, "no-such-order")), 0)

	// Paging: after a seq, at most limit.
	page, err := s.ListAuditEntries(ctx, "order-1", 1, 1)
	mustNil(t, "page", err)
	if len(page) != 1 || page[0].Seq != 2 {
		t.Errorf("page after 1, limit 1: %+v", page)
	}
	page, err = s.ListAuditEntries(ctx, "order-1", 3, 10)
	mustNil(t, "page after the last", err)
	mustEqual(t, "entries after the last", len(page), 0)
	for _, limit := range []int{0, -1} {
		if _, err := s.ListAuditEntries(ctx, "order-1", 0, limit); err == nil {
			t.Errorf("ListAuditEntries with limit %d: no error", limit)
		}
	}
	// A sealed entry moved to another order's place does not open there.
	sealed, err := s.ListAuditEntries(ctx, "order-1", 0, 1)
	mustNil(t, "first", err)
	if _, err := otherOpener.Open(1, sealed[0].Sealed); !errors.Is(err, auditlog.ErrOpen) {
		t.Errorf("an entry opened as another order's: %v", err)
	}
}

// Entries are written in the transaction of the change: an updater that fails writes none, in
// UpdateOrder and in SweepDue; SweepDue seals what the sweep recorded.
func testAuditTrailInSameTransaction(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sweepOrder("a", order.StatusOpen, base.Add(time.Hour), nil, true)
	opener := keyed(t, o)
	createOrder(t, s, o)
	b := sweepOrder("b", order.StatusOpen, base.Add(time.Hour), nil, true)
	openerB := keyed(t, b)
	createOrder(t, s, b)

	boom := &codedError{code: "boom"}
	_, err := s.UpdateOrder(ctx, "a", func(o *order.SignatureOrder) error {
		mustNil(t, "track", o.Track(o.Signatories[0].ID, false, base))
		return boom
	})
	mustIs(t, "updater error", err, boom)
	mustEqual(t, "entries of a failed update", len(trail(t, s, opener, "a")), 0)

	now := base.Add(2 * time.Hour)
	_, err = s.SweepDue(ctx, now, 10, func(o *order.SignatureOrder) error {
		o.Sweep(now)
		if o.ID == "b" {
			return boom
		}
		return nil
	})
	mustIs(t, "sweep updater error", err, boom)
	got := trail(t, s, opener, "a")
	mustEqual(t, "swept order's trail", kinds(got), []order.AuditKind{order.AuditOrderExpired, order.AuditDocumentsDeleted})
	mustEqual(t, "why", got[1].Details["reason"], order.DeletedAtExpiry)
	mustEqual(t, "entries of a failed sweep", len(trail(t, s, openerB, "b")), 0)
}

// PurgeOrders deletes an order's trail with it.
func testAuditTrailGoesWithOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sweepOrder("old", order.StatusClosed, base, nil, false)
	o.ClosedAt = &base
	opener := keyed(t, o)
	mustNil(t, "track", o.Track(o.Signatories[0].ID, false, base))
	createOrder(t, s, o)
	kept := sweepOrder("open", order.StatusOpen, base.Add(time.Hour), nil, false)
	keptOpener := keyed(t, kept)
	mustNil(t, "track", kept.Track(kept.Signatories[0].ID, false, base))
	createOrder(t, s, kept)
	mustEqual(t, "trail before the purge", len(trail(t, s, opener, "old")), 1)

	n, err := s.PurgeOrders(ctx, base.Add(24*time.Hour), 10)
	mustNil(t, "purge", err)
	mustEqual(t, "purged", n, 1)
	mustEqual(t, "trail of a purged order", len(trail(t, s, nil, "old")), 0)
	mustEqual(t, "trail of a kept order", len(trail(t, s, keptOpener, "open")), 1)
}

// Concurrent updates of one order number their entries 1..n without gaps or duplicates.
func testConcurrentAuditEntries(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := NewOrder("app-1", "order-1", base)
	opener := keyed(t, o)
	createOrder(t, s, o)
	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
				o.RecordingAt(base.Add(time.Duration(i) * time.Second))
				return o.Extend(1)
			})
			if err == nil && i%2 == 0 {
				// Webhook attempts number their entries in the same sequence.
				err = s.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: fmt.Sprintf("inv-%d", i),
					DeliveryID: fmt.Sprintf("del-%d", i), ApplicationID: "app-1", OrderID: "order-1", Event: "SIGNATORY_SIGNED",
					URL: "https://example.com/h", RequestBody: "{}", Outcome: order.InvocationSuccess, StatusCode: ptr(200), At: base})
			}
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		})
	}
	wg.Wait()
	mustNil(t, "concurrent updates", errors.Join(errs...))
	got := trail(t, s, opener, "order-1") // checks Seq is 1..len
	mustEqual(t, "entries", len(got), n+n/2)
}

// RecordWebhookInvocation appends the attempt to the trail of its order, when there is one.
func testWebhookAuditEntries(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := NewOrder("app-1", "order-1", base)
	opener := keyed(t, o)
	mustNil(t, "track", o.Track(o.Signatories[0].ID, false, base))
	createOrder(t, s, o)
	inv := func(id, orderID string, outcome order.InvocationOutcome, status *int, at time.Time) order.WebhookInvocation {
		return order.WebhookInvocation{ID: id, DeliveryID: "del-" + id, ApplicationID: "app-1", OrderID: orderID,
			Event: "SIGNATORY_SIGNED", URL: "https://example.com/h", RequestBody: "{}", Outcome: outcome, StatusCode: status, At: at}
	}
	mustNil(t, "failed attempt", s.RecordWebhookInvocation(ctx, inv("i1", "order-1", order.InvocationHTTPError, ptr(503), base.Add(time.Minute))))
	mustNil(t, "delivered", s.RecordWebhookInvocation(ctx, inv("i2", "order-1", order.InvocationSuccess, ptr(200), base.Add(2*time.Minute))))
	mustNil(t, "an order that is gone", s.RecordWebhookInvocation(ctx, inv("i3", "gone", order.InvocationSuccess, ptr(200), base)))

	got := trail(t, s, opener, "order-1")
	mustEqual(t, "kinds", kinds(got), []order.AuditKind{order.AuditLinkOpened, order.AuditWebhookFailed, order.AuditWebhookDelivered})
	mustEqual(t, "status code", got[1].Details["statusCode"], "503")
	mustEqual(t, "event", got[2].Details["event"], "SIGNATORY_SIGNED")
	mustEqual(t, "time", got[2].At, base.Add(2*time.Minute))
	mustEqual(t, "gone order's trail", len(trail(t, s, nil, "gone")), 0)
}
