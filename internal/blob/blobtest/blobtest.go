// Package blobtest is the conformance suite every blob.Store backend runs, so that the folder store used
// in development and Azure in production behave the same way.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"esign/internal/blob"
)

// Run runs the suite. newStore returns an empty store that no other test uses; it is called once per
// subtest.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ValidKeys", testValidKeys},
		{"Overwrite", testOverwrite},
		{"GetMissing", testGetMissing},
		{"Delete", testDelete},
		{"KeyAndPrefixDirCoexist", testKeyAndDirCoexist},
		{"List", testList},
		{"ListStops", testListStops},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ReadersNeverSeePartialBlobs", testNoPartialReads},
		{"CanceledContext", testCanceledContext},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// Benchmark measures one Put and one Get of a blob of each size (bytes/s counts the blob once).
func Benchmark(b *testing.B, s blob.Store) {
	for _, size := range []int{1 << 20, 20 << 20} {
		b.Run(fmt.Sprintf("PutGet%dMB", size>>20), func(b *testing.B) {
			ctx := context.Background()
			data := randomBytes(b, size)
			key := fmt.Sprintf("bench/%d", size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				if err := s.Put(ctx, key, data); err != nil {
					b.Fatal(err)
				}
				got, err := s.Get(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != size {
					b.Fatalf("got %d bytes, want %d", len(got), size)
				}
			}
			b.StopTimer()
			if err := s.Delete(ctx, key); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"nil", nil},
		{"small", []byte("hello, blob")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe, '\n', '\r', 0}},
		{"5MB", randomBytes(t, 5<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "roundtrip/" + tt.name
			data := bytes.Clone(tt.data)
			if err := s.Put(ctx, key, data); err != nil {
				t.Fatalf("Put: %v", err)
			}
			// The store must not keep the caller's slice.
			for i := range data {
				data[i] ^= 0xff
			}
			got := mustGet(t, s, key)
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("Get returned %d bytes %s, want %d bytes %s", len(got), head(got), len(tt.data), head(tt.data))
			}
			// Nor hand out one it reuses.
			for i := range got {
				got[i] ^= 0xff
			}
			if again := mustGet(t, s, key); !bytes.Equal(again, tt.data) {
				t.Fatalf("second Get differs after the first result was modified")
			}
		})
	}
}

func testValidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keys := []string{"a", "A", "a.b", "...", "x..y", ".hidden", "-_.-", "a/b/c/d/e/f/g", "deep/.dot/trailing."}
	for _, key := range keys {
		if err := s.Put(ctx, key, []byte(key)); err != nil {
			t.Errorf("Put(%q): %v", key, err)
			continue
		}
		if got := mustGet(t, s, key); string(got) != key {
			t.Errorf("Get(%q) = %q", key, got)
		}
	}
	if got := listAll(t, s, ""); !sameSet(got, keys) {
		t.Errorf("List = %q, want %q", got, keys)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "over/write"
	long := bytes.Repeat([]byte("0123456789"), 1000)
	short := []byte("short")
	for i, data := range [][]byte{long, short, {}, long} {
		if err := s.Put(ctx, key, data); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		// A longer old blob must not leak its tail into a shorter new one.
		if got := mustGet(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("after Put %d: Get returned %d bytes, want %d", i, len(got), len(data))
		}
	}
	if got := listAll(t, s, ""); !sameSet(got, []string{key}) {
		t.Fatalf("List after overwrites = %q, want only %q", got, key)
	}
}

func testGetMissing(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, "present/key", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"missing", "no/such/folder/key", "present/other", "present/key/below", "present"} {
		got, err := s.Get(ctx, key)
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, key := range []string{"del/a", "del/b", "del/sub/c"} {
		if err := s.Put(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "del/a"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if got := mustGet(t, s, "del/b"); string(got) != "del/b" {
		t.Fatalf("Delete removed a neighbour: Get(del/b) = %q", got)
	}
	for _, key := range []string{"del/a", "never/existed", "del/sub/c/below"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete of missing %q: %v, want nil", key, err)
		}
	}
	// Deleting the only blob under a prefix must leave the store usable there.
	if err := s.Delete(ctx, "del/sub/c"); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, s, ""); !sameSet(got, []string{"del/b"}) {
		t.Fatalf("List after deletes = %q, want [del/b]", got)
	}
	if err := s.Put(ctx, "del/sub/c", []byte("again")); err != nil {
		t.Fatalf("Put after Delete: %v", err)
	}
	if got := mustGet(t, s, "del/sub/c"); string(got) != "again" {
		t.Fatalf("Get after re-Put = %q", got)
	}
}

// Object stores have no folders, so "a" and "a/b" are independent keys; every backend must agree.
func testKeyAndDirCoexist(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keys := []string{"a/b", "a", "a/b/c", "a.d", "a.d/x", "a.blob", "a.blob/y"}
	for _, key := range keys {
		if err := s.Put(ctx, key, []byte(key)); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
	}
	for _, key := range keys {
		if got := mustGet(t, s, key); string(got) != key {
			t.Errorf("Get(%q) = %q", key, got)
		}
	}
	if got := listAll(t, s, "a"); !sameSet(got, keys) {
		t.Errorf("List(a) = %q, want %q", got, keys)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "a/b/c"); string(got) != "a/b/c" {
		t.Errorf("Get(a/b/c) after Delete(a/b) = %q", got)
	}
}

func testList(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keys := []string{
		"orders/1/doc", "orders/1/evidence", "orders/10/doc", "orders/2/doc",
		"orders1", "ordersx/y", "other/x", "o",
	}
	for _, key := range keys {
		if err := s.Put(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", keys},
		{"o", keys},
		{"orders/1/", []string{"orders/1/doc", "orders/1/evidence"}},
		{"orders/1", []string{"orders/1/doc", "orders/1/evidence", "orders/10/doc"}},
		{"orders/", []string{"orders/1/doc", "orders/1/evidence", "orders/10/doc", "orders/2/doc"}},
		{"orders", []string{"orders/1/doc", "orders/1/evidence", "orders/10/doc", "orders/2/doc", "orders1", "ordersx/y"}},
		{"orders/1/doc", []string{"orders/1/doc"}},
		{"orders/1/doc/", nil},
		{"orders/3", nil},
		{"nothing", nil},
		{"../", nil},
		{"/orders", nil},
	}
	for _, tt := range tests {
		if got := listAll(t, s, tt.prefix); !sameSet(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func testListStops(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for i := range 5 {
		if err := s.Put(ctx, fmt.Sprintf("stop/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for _, stopAfter := range []int{1, 3} {
		calls := 0
		err := s.List(ctx, "stop/", func(string) bool {
			calls++
			return calls < stopAfter
		})
		if err != nil {
			t.Fatalf("List stopped by fn: %v, want nil", err)
		}
		if calls != stopAfter {
			t.Errorf("fn called %d times after returning false on call %d", calls, stopAfter)
		}
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keys := []string{"", "../x", "/abs", "a//b", "a/../b", "a/./b", "..", ".", "a/", "a b", " a", "a ", "a\\b", "a\x00b", "ä", "a?b", "a#b", "a%2Fb"}
	for _, key := range keys {
		if err := s.Put(ctx, key, []byte("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if got := listAll(t, s, ""); len(got) != 0 {
		t.Errorf("rejected Puts stored %q", got)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const n = 10
	want := make(map[string][]byte, n)
	for i := range n {
		want[fmt.Sprintf("concurrent/%d/blob", i)] = randomBytes(t, 64<<10+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for key, data := range want {
		wg.Go(func() {
			if err := s.Put(ctx, key, data); err != nil {
				errs <- fmt.Errorf("Put(%q): %w", key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for key, data := range want {
		if got := mustGet(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) returned %d bytes that differ from the %d put", key, len(got), len(data))
		}
	}
	if got := listAll(t, s, "concurrent/"); len(got) != n {
		t.Errorf("List found %d keys, want %d: %q", len(got), n, got)
	}
}

// Put replaces a blob while others read it: every read must return one whole version.
func testNoPartialReads(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "atomic/blob"
	versions := [][]byte{bytes.Repeat([]byte{'a'}, 1<<20), bytes.Repeat([]byte{'b'}, 1<<20+4096), {}}
	if err := s.Put(ctx, key, versions[0]); err != nil {
		t.Fatal(err)
	}
	const rounds = 12
	var wg sync.WaitGroup
	errs := make(chan error, rounds*2)
	wg.Go(func() {
		for i := range rounds {
			if err := s.Put(ctx, key, versions[i%len(versions)]); err != nil {
				errs <- err
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for range rounds {
				got, err := s.Get(ctx, key)
				if err != nil {
					errs <- fmt.Errorf("get during put: %w", err)
					continue
				}
				if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, got) }) {
					errs <- fmt.Errorf("get during put returned %d bytes %s, not a version that was put", len(got), head(got))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCanceledContext(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "canceled", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Get(t.Context(), "canceled"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Put with canceled context stored the blob: Get = %v", err)
	}
	if _, err := s.Get(ctx, "canceled"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with canceled context = %v, want context.Canceled", err)
	}
	if err := s.List(ctx, "", func(string) bool { return true }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with canceled context = %v, want context.Canceled", err)
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func mustGet(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

// listAll returns every key List reports under prefix, failing on duplicates.
func listAll(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(t.Context(), prefix, func(key string) bool {
		keys = append(keys, key)
		return true
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	sorted := slices.Sorted(slices.Values(keys))
	if len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
		t.Fatalf("List(%q) reported a key twice: %q", prefix, sorted)
	}
	return sorted
}

func sameSet(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// head shows the start of a blob in failure messages without printing megabytes.
func head(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%q…", b[:16])
	}
	return fmt.Sprintf("%q", b)
}
