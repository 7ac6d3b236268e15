package limits

import (
	"sync"
	"time"
)

// Buckets is a token bucket per key (an IP address, a client id) kept in a map of at most MaxKeys
// entries. It is meant for events that should be rare, such as failed authentication: each event
// takes a token, tokens come back at Rate per second up to Burst, and a key with no token left is
// refused until one comes back.
type Buckets struct {
	Rate    float64          // tokens per second given back to each key
	Burst   int              // tokens a key starts with and can save up
	MaxKeys int              // entries kept; beyond it idle (full) buckets go first, then any
	Now     func() time.Time // injected for tests; time.Now when nil

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

func (b *Buckets) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// level brings k's tokens up to date: what came back since k.at, at most Burst. b.mu is held.
func (b *Buckets) level(k *bucket, now time.Time) {
	if elapsed := now.Sub(k.at).Seconds(); elapsed > 0 {
		k.tokens = min(float64(b.Burst), k.tokens+elapsed*b.Rate)
		k.at = now
	}
}

// Allow reports whether key has a token left, without taking it, and if not, how long until it
// has one again. A key that was never charged is always allowed.
func (b *Buckets) Allow(key string) (ok bool, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.m[key]
	if k == nil {
		return true, 0
	}
	b.level(k, b.now())
	if k.tokens >= 1 {
		return true, 0
	}
	if b.Rate <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - k.tokens) / b.Rate * float64(time.Second))
}

// Take charges key one token (one more failure).
func (b *Buckets) Take(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.m[key]
	if k == nil {
		if b.m == nil {
			b.m = map[string]*bucket{}
		}
		b.makeRoom(now)
		k = &bucket{tokens: float64(b.Burst), at: now}
		b.m[key] = k
	}
	b.level(k, now)
	k.tokens = max(k.tokens-1, 0)
}

// makeRoom keeps the map under MaxKeys. Full buckets carry no information (a new entry would be the
// same), so they go first; if every entry is still charged, an arbitrary one is dropped: memory stays
// bounded even when an attacker spreads failures over more keys than the map holds. b.mu is held.
func (b *Buckets) makeRoom(now time.Time) {
	if b.MaxKeys <= 0 || len(b.m) < b.MaxKeys {
		return
	}
	for key, k := range b.m {
		b.level(k, now)
		if k.tokens >= float64(b.Burst) {
			delete(b.m, key)
		}
	}
	for key := range b.m {
		if len(b.m) < b.MaxKeys {
			break
		}
		delete(b.m, key)
	}
}

// Len is the number of keys kept (for tests).
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
