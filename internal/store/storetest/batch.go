package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/tenant"
)

func batchApplication(t *testing.T, s store.Store, id string) {
	t.Helper()
	mustNil(t, "create application "+id, s.CreateApplication(context.Background(),
		tenant.Application{ID: id, Name: "batch " + id, Environment: tenant.EnvironmentTest, CreatedAt: base}))
}

func newBatch(id, app string, items ...order.BatchItem) order.BatchSignatory {
	return order.BatchSignatory{ID: id, ApplicationID: app, Items: items, TokenHash: TokenHash("batch token " + id),
		TraceID: "trace-" + id, CreatedAt: base.Add(time.Minute)}
}

// CreateBatchSignatory keeps every field and the items in their order; GetBatchSignatory and
// FindBatchSignatoryByTokenHash answer the one batch asked for.
func testBatchSignatories(t *testing.T, s store.Store) {
	ctx := context.Background()
	batchApplication(t, s, "app-b")
	lang, redirect := "DA_DK", "https://example.com/done"
	withUI := newBatch("batch-1", "app-b",
		order.BatchItem{OrderID: "order-2", SignatoryID: "sig-2"},
		order.BatchItem{OrderID: "order-1", SignatoryID: "sig-1"},
		order.BatchItem{OrderID: "order-3", SignatoryID: "sig-3"})
	withUI.UI = &order.UI{Language: lang, SignatoryRedirectURI: &redirect, DisableRejection: true}
	// Items in another order, and no UI: nothing leaks between batches.
	plain := newBatch("batch-2", "app-b",
		order.BatchItem{OrderID: "order-1", SignatoryID: "sig-1"},
		order.BatchItem{OrderID: "order-2", SignatoryID: "sig-2"})
	plain.CreatedAt = base.Add(2 * time.Minute)
	mustNil(t, "create", s.CreateBatchSignatory(ctx, withUI))
	mustNil(t, "create plain", s.CreateBatchSignatory(ctx, plain))

	for _, want := range []order.BatchSignatory{withUI, plain} {
		got, err := s.GetBatchSignatory(ctx, want.ID)
		mustNil(t, "get "+want.ID, err)
		mustEqual(t, "get "+want.ID, got, want)
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: created at %v, not UTC", want.ID, got.CreatedAt)
		}
		got, err = s.FindBatchSignatoryByTokenHash(ctx, want.TokenHash)
		mustNil(t, "find "+want.ID, err)
		mustEqual(t, "find "+want.ID, got, want)
	}
	_, err := s.GetBatchSignatory(ctx, "batch-3")
	mustIs(t, "get missing", err, store.ErrNotFound)
	_, err = s.FindBatchSignatoryByTokenHash(ctx, TokenHash("batch token batch-3"))
	mustIs(t, "find missing", err, store.ErrNotFound)
	_, err = s.FindBatchSignatoryByTokenHash(ctx, withUI.ID)
	mustIs(t, "find by id instead of hash", err, store.ErrNotFound)
}

// A taken id or token hash, an unknown application and an item twice are refused, and nothing of
// the refused batch is kept.
func testBatchSignatoryConflicts(t *testing.T, s store.Store) {
	ctx := context.Background()
	batchApplication(t, s, "app-b")
	item := order.BatchItem{OrderID: "order-1", SignatoryID: "sig-1"}
	first := newBatch("batch-1", "app-b", item)
	mustNil(t, "create", s.CreateBatchSignatory(ctx, first))

	sameID := newBatch("batch-1", "app-b", order.BatchItem{OrderID: "order-9", SignatoryID: "sig-9"})
	mustIs(t, "same id", s.CreateBatchSignatory(ctx, sameID), store.ErrConflict)
	sameToken := newBatch("batch-2", "app-b", item)
	sameToken.TokenHash = first.TokenHash
	mustIs(t, "same token hash", s.CreateBatchSignatory(ctx, sameToken), store.ErrConflict)
	mustIs(t, "unknown application", s.CreateBatchSignatory(ctx, newBatch("batch-3", "app-none", item)), store.ErrNotFound)
	mustIs(t, "an item twice", s.CreateBatchSignatory(ctx, newBatch("batch-4", "app-b", item, item)), store.ErrConflict)

	got, err := s.GetBatchSignatory(ctx, "batch-1")
	mustNil(t, "get after conflicts", err)
	mustEqual(t, "get after conflicts", got, first)
	for _, id := range []string{"batch-2", "batch-3", "batch-4"} {
		_, err := s.GetBatchSignatory(ctx, id)
		mustIs(t, "refused batch "+id+" kept", err, store.ErrNotFound)
	}
	_, err = s.FindBatchSignatoryByTokenHash(ctx, TokenHash("batch token batch-4"))
	mustIs(t, "refused batch's token kept", err, store.ErrNotFound)
}

// Batches created at once, of up to order.MaxBatchItems items, each read back whole.
func testConcurrentBatchSignatories(t *testing.T, s store.Store) {
	ctx := context.Background()
	batchApplication(t, s, "app-b")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	batches := make([]order.BatchSignatory, len(errs))
	for n := range batches {
		var items []order.BatchItem
		for i := 0; i < order.MaxBatchItems-n; i++ {
			items = append(items, order.BatchItem{OrderID: fmt.Sprintf("order-%d-%d", n, i), SignatoryID: fmt.Sprintf("sig-%d", i)})
		}
		batches[n] = newBatch(fmt.Sprintf("batch-%d", n), "app-b", items...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = s.CreateBatchSignatory(ctx, batches[n])
		}()
	}
	wg.Wait()
	for n, b := range batches {
		mustNil(t, "create "+b.ID, errs[n])
		got, err := s.FindBatchSignatoryByTokenHash(ctx, b.TokenHash)
		mustNil(t, "find "+b.ID, err)
		mustEqual(t, "find "+b.ID, got, b)
	}
}
