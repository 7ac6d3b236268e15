package signing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"esign/internal/order"
	"esign/internal/store"
)

// SweepReport is what one sweep did.
type SweepReport struct {
	Orders          int // orders the sweep changed
	Expired         int // OPEN orders past their expiry that are now EXPIRED
	VersionsDeleted int // document versions whose keys were shredded; their blobs are deleted after the commit
	BlobErrors      int // blobs that could not be deleted (already unreadable: the orphan pass removes them later)
	OrphansDeleted  int // blobs no order references, deleted by SweepOrphanBlobs
	OrdersPurged    int // orders whose metadata PurgeOrders deleted
	// IdempotencyKeysPurged counts expired Idempotency-Keys deleted.
	IdempotencyKeysPurged int
	// LoginFormsPurged counts form values kept for logins that never came back (PurgeLoginForms).
	LoginFormsPurged int
}

// Add sums two reports.
func (r SweepReport) Add(o SweepReport) SweepReport {
	return SweepReport{Orders: r.Orders + o.Orders, Expired: r.Expired + o.Expired, VersionsDeleted: r.VersionsDeleted + o.VersionsDeleted,
		BlobErrors: r.BlobErrors + o.BlobErrors, OrphansDeleted: r.OrphansDeleted + o.OrphansDeleted, OrdersPurged: r.OrdersPurged + o.OrdersPurged,
		IdempotencyKeysPurged: r.IdempotencyKeysPurged + o.IdempotencyKeysPurged, LoginFormsPurged: r.LoginFormsPurged + o.LoginFormsPurged}
}

// Sweep does what is due at now, batchSize orders per transaction, until nothing due is left: OPEN
// orders past their expiry become EXPIRED, and orders that are no longer OPEN lose the documents
// they do not retain past now. The database decides first (keys shredded, order saved); the blobs
// are deleted after the commit, so a crash in between leaves only unreadable blobs for the orphan
// pass. Several replicas may sweep at once: each order is claimed by one.
func (s *Service) Sweep(ctx context.Context, now time.Time, batchSize int) (SweepReport, error) {
	var total SweepReport
	for ctx.Err() == nil {
		results := map[string]order.SweepResult{}
		saved, err := s.store.SweepDue(ctx, now, batchSize, func(o *order.SignatureOrder) error {
			results[o.ID] = o.Sweep(now)
			return nil
		})
		if err != nil && saved == nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		var dropped []orderVersion
		for _, o := range saved {
			r := results[o.ID]
			total.Orders++
			if r.Expired {
				total.Expired++
			}
			total.VersionsDeleted += len(r.Dropped)
			for _, v := range r.Dropped {
				dropped = append(dropped, orderVersion{o.ID, v})
			}
		}
		total.BlobErrors += s.deleteBlobsAfterSweep(ctx, dropped)
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		if len(saved) < batchSize {
			break
		}
	}
	if ctx.Err() == nil {
		// Here rather than in a schedule of its own: every sweep pass runs it, whatever the
		// metadata retention.
		forms, err := s.PurgeLoginForms(ctx, now)
		if total = total.Add(forms); err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
	}
	return total, ctx.Err()
}

type orderVersion struct {
	orderID string
	version order.DocumentVersion
}

// manyDeleter is a blob store that deletes many blobs in few round trips (azure: Blob Batch).
type manyDeleter interface {
	DeleteMany(ctx context.Context, keys []string) (failed []string, err error)
}

// sweepDeleteConcurrency bounds the blob deletes in flight where each is its own round trip.
const sweepDeleteConcurrency = 16

// deleteBlobsAfterSweep deletes the blobs of versions whose keys are gone and says how many
// deletes failed (those blobs are unreadable; the orphan pass removes them later).
func (s *Service) deleteBlobsAfterSweep(ctx context.Context, versions []orderVersion) (failed int) {
	if md, ok := s.blobs.(manyDeleter); ok && len(versions) > 0 {
		keys := make([]string, len(versions))
		for i, v := range versions {
			keys[i] = v.version.BlobKey
		}
		notDeleted, err := md.DeleteMany(ctx, keys)
		if err != nil {
			s.log.ErrorContext(ctx, "delete blobs failed; the sweeper's orphan pass will delete them", "blobs", len(notDeleted), "err", err)
		}
		return len(notDeleted)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := make(chan orderVersion)
	for range min(sweepDeleteConcurrency, len(versions)) {
		wg.Go(func() {
			for v := range next {
				if n := s.deleteBlobs(ctx, v.orderID, []order.DocumentVersion{v.version}); n > 0 {
					mu.Lock()
					failed += n
					mu.Unlock()
				}
			}
		})
	}
	for _, v := range versions {
		next <- v
	}
	close(next)
	wg.Wait()
	return failed
}

// SweepOrphanBlobs deletes document blobs that no order references and that were written before
// now - grace: blobs of a write whose order update never committed (a crash, a lost race), and
// blobs whose delete failed after their keys were shredded. The grace period keeps blobs of writes
// still in flight; a blob an order references is never deleted.
func (s *Service) SweepOrphanBlobs(ctx context.Context, now time.Time, grace time.Duration) (SweepReport, error) {
	byOrder := map[string][]string{}
	err := s.blobs.List(ctx, "orders/", func(key string) bool {
		if written, ok := blobWrittenAt(key); ok && written.After(now.Add(-grace)) {
			return true // possibly a write in flight
		}
		if id := blobOrderID(key); id != "" {
			byOrder[id] = append(byOrder[id], key)
		}
		return true
	})
	if err != nil {
		return SweepReport{}, fmt.Errorf("list blobs: %w", err)
	}
	var r SweepReport
	for id, keys := range byOrder {
		referenced := map[string]bool{}
		o, err := s.store.GetOrder(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return r, fmt.Errorf("orphan blobs of order %s: %w", id, err)
		default:
			for i := range o.Documents {
				// Versions and the seals page template: a live template is as referenced as a
				// version, and its first seal still needs it.
				for _, v := range o.Documents[i].StoredBlobs() {
					referenced[v.BlobKey] = true
				}
			}
			if c := o.Certificate; c != nil {
				referenced[c.BlobKey] = true // the completion certificate, kept with the documents
			}
		}
		for _, key := range keys {
			if referenced[key] {
				continue
			}
			if err := s.blobs.Delete(ctx, key); err != nil {
				return r, fmt.Errorf("delete orphan blob %s: %w", key, err)
			}
			s.log.InfoContext(ctx, "deleted orphan blob", "order", id, "blob", key)
			r.OrphansDeleted++
		}
	}
	temps, err := s.removeStaleTemps(ctx, now.Add(-grace))
	r.OrphansDeleted += temps
	return r, err
}

// PurgeOrders deletes, batchSize at a time, the metadata of orders that ended and lost their
// documents before retiredBefore.
func (s *Service) PurgeOrders(ctx context.Context, retiredBefore time.Time, batchSize int) (SweepReport, error) {
	var r SweepReport
	for ctx.Err() == nil {
		n, err := s.store.PurgeOrders(ctx, retiredBefore, batchSize)
		r.OrdersPurged += n
		if err != nil {
			return r, err
		}
		if n < batchSize {
			break
		}
	}
	return r, ctx.Err()
}
