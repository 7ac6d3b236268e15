package sweeper_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"esign/internal/order"
	"esign/internal/store/storetest"
	"esign/internal/sweeper"
)

// BenchmarkSweepExpired expires 10,000 orders with one stored document version each and deletes
// their blobs, on each backend, and reports deletions per second (target: 1,000/s on PostgreSQL and
// Azurite). The orders and blobs are written straight to the store and the blob store: the sweep
// never decrypts, so what the blobs hold does not matter.
func BenchmarkSweepExpired(b *testing.B) {
	const n = 10_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			r := newRig(b, be.open(b), b.TempDir(), nil)
			ctx := context.Background()
			created := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Microsecond)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ids := make(chan int)
				var wg sync.WaitGroup
				errs := make(chan error, 16)
				for range 16 {
					wg.Go(func() {
						for j := range ids {
							id := fmt.Sprintf("bench-%d-%05d", i, j)
							o := storetest.NewOrder("bench-app", id, created)
							o.Status, o.ExpiresAt = order.StatusOpen, created.Add(time.Hour)
							o.RetainDocumentsUntil, o.DocumentsDeletedAt, o.ClosedAt, o.CancelledAt = nil, nil, nil, nil
							o.Documents = o.Documents[:1]
							v := &o.Documents[0].Versions[0]
							o.Documents[0].Versions = o.Documents[0].Versions[:1]
							v.BlobKey = fmt.Sprintf("orders/%s/%s/v0-%s", id, o.Documents[0].ID, uuid.Must(uuid.NewV7()))
							if err := r.blobs.Put(ctx, v.BlobKey, []byte("ciphertext")); err != nil {
								errs <- err
								return
							}
							if err := r.store.CreateOrder(ctx, o); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				for j := range n {
					ids <- j
				}
				close(ids)
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				s := newSweeper(b, r, sweeper.Config{BatchSize: 200}, nil, time.Now().UTC())
				b.StartTimer()
				start := time.Now()
				rep, err := s.SweepOnce(ctx)
				total += time.Since(start)
				if err != nil || rep.VersionsDeleted != n || rep.BlobErrors != 0 {
					b.Fatalf("sweep: %+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "deletions/s")
		})
	}
}
