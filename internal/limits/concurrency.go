// Package limits holds the admission controls the edges share: a per-key concurrency limit with a
// short bounded wait, token buckets per key for failed authentication, and a streaming check of a
// JSON document's size in values; and the numbers that bound a GraphQL request (GraphQL), plain data
// that configuration parses and the GraphQL edge applies. It imports no GraphQL or HTTP library, so
// the REST edges can use the same controls and the same numbers.
package limits

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// BusyError is returned by Concurrency.Acquire when a key already runs its limit of operations and
// no slot freed up within the wait. Retrying after a moment is the right answer to it.
type BusyError struct {
	Limit int           // operations one key may run at once
	Wait  time.Duration // how long the caller waited for a slot
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("too many expensive operations at once: at most %d per application run concurrently and none finished within %s; retry in a moment",
		e.Limit, e.Wait)
}

// Concurrency admits at most PerKey operations per key at once. A caller over the limit waits at
// most Wait for a slot, then gets a *BusyError: a bounded wait absorbs short bursts without letting
// one key's queue grow into everyone's latency. The zero value is not usable; use NewConcurrency.
type Concurrency struct {
	perKey int
	wait   time.Duration

	mu    sync.Mutex
	slots map[string]*keySlots // only keys with an operation running or waiting: the map stays small
}

type keySlots struct {
	sem   chan struct{}
	users int // holders and waiters; the entry is dropped at zero
}

// NewConcurrency returns a limiter of perKey operations per key (at least 1) and the given wait.
func NewConcurrency(perKey int, wait time.Duration) *Concurrency {
	return &Concurrency{perKey: max(perKey, 1), wait: max(wait, 0), slots: map[string]*keySlots{}}
}

// Acquire takes a slot for key, waiting at most the limiter's wait (or until ctx ends). The returned
// release must be called exactly once when the operation ends. Errors: *BusyError, or ctx's error.
func (c *Concurrency) Acquire(ctx context.Context, key string) (release func(), err error) {
	c.mu.Lock()
	s := c.slots[key]
	if s == nil {
		s = &keySlots{sem: make(chan struct{}, c.perKey)}
		c.slots[key] = s
	}
	s.users++
	c.mu.Unlock()

	leave := func() {
		c.mu.Lock()
		if s.users--; s.users == 0 {
			delete(c.slots, key)
		}
		c.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}: // the common case: no timer needed
	default:
		timer := time.NewTimer(c.wait)
		defer timer.Stop()
		select {
		case s.sem <- struct{}{}:
		case <-timer.C:
			leave()
			return nil, &BusyError{Limit: c.perKey, Wait: c.wait}
		case <-ctx.Done():
			leave()
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.sem
			leave()
		})
	}, nil
}

// Active reports how many keys have an operation running or waiting (for tests and metrics).
func (c *Concurrency) Active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.slots)
}
