package limits

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestConcurrencyPerKeyWithBoundedWait(t *testing.T) {
	c := NewConcurrency(2, 20*time.Millisecond)
	ctx := context.Background()
	r1, err1 := c.Acquire(ctx, "a")
	r2, err2 := c.Acquire(ctx, "a")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	_, err := c.Acquire(ctx, "a")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Limit != 2 || !strings.Contains(err.Error(), "at most 2") {
		t.Fatalf("third slot of a: %v, want a BusyError naming the limit 2", err)
	}
	rb, err := c.Acquire(ctx, "b") // another key is not behind a's queue
	if err != nil {
		t.Fatalf("key b while a is full: %v", err)
	}
	rb()
	r1()
	r2()
	r2() // release is idempotent
	if n := c.Active(); n != 0 {
		t.Errorf("%d keys kept after every release, want 0", n)
	}
}

// TestConcurrencyWaiterGetsFreedSlot: a caller that found key a full is admitted when a slot frees
// up within the wait. The slot is freed only once the caller is seen waiting (users counts it), so
// the test orders the two without a sleep and passes however slow the machine.
func TestConcurrencyWaiterGetsFreedSlot(t *testing.T) {
	c := NewConcurrency(1, time.Minute)
	r1, err := c.Acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		r2, err := c.Acquire(context.Background(), "a")
		if err == nil {
			r2()
		}
		got <- err
	}()
	for waiting := false; !waiting; {
		c.mu.Lock()
		waiting = c.slots["a"].users == 2
		c.mu.Unlock()
		runtime.Gosched()
	}
	r1()
	if err := <-got; err != nil {
		t.Fatalf("a slot freed within the wait: %v", err)
	}
	if n := c.Active(); n != 0 {
		t.Errorf("%d keys kept after every release, want 0", n)
	}
}

func TestBucketsRefuseAfterBurstAndRefill(t *testing.T) {
	now := time.Unix(0, 0)
	b := &Buckets{Rate: 0.5, Burst: 3, MaxKeys: 2, Now: func() time.Time { return now }}
	for i := range 3 {
		if ok, _ := b.Allow("ip"); !ok {
			t.Fatalf("failure %d refused within the burst", i)
		}
		b.Take("ip")
	}
	ok, wait := b.Allow("ip")
	if ok || wait != 2*time.Second {
		t.Fatalf("after the burst: ok %v wait %s, want refused for 2 s", ok, wait)
	}
	now = now.Add(2 * time.Second)
	if ok, _ := b.Allow("ip"); !ok {
		t.Fatal("one token came back after 2 s at 0.5/s")
	}
	b.Take("x")
	b.Take("y") // MaxKeys 2: the map never grows past it
	if n := b.Len(); n > 2 {
		t.Errorf("%d keys kept, want at most 2", n)
	}
}

func TestCheckJSON(t *testing.T) {
	flood := `{"query":"{__typename}","variables":{"x":[` + strings.Repeat("0,", 999) + `0]}}`
	var tooLarge *JSONTooLargeError
	if err := CheckJSON([]byte(flood), 100, 64); !errors.As(err, &tooLarge) || tooLarge.Limit != 100 {
		t.Errorf("1,000 zeros under a limit of 100: %v", err)
	}
	if err := CheckJSON([]byte(flood), 2000, 64); err != nil {
		t.Errorf("1,000 zeros under a limit of 2,000: %v", err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if err := CheckJSON([]byte(deep), 1000, 64); !errors.As(err, &tooLarge) || tooLarge.What != "nesting" {
		t.Errorf("100 levels under a depth of 64: %v", err)
	}
	big := `{"blob":"` + strings.Repeat("A", 1<<20) + `"}` // a long string is one value
	if err := CheckJSON([]byte(big), 3, 64); err != nil {
		t.Errorf("one long string: %v", err)
	}
	for _, bad := range []string{"", "{", `{"a":}`, "[1,]"} {
		if err := CheckJSON([]byte(bad), 100, 64); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("CheckJSON(%q) = %v, want ErrInvalidJSON", bad, err)
		}
	}
}

func BenchmarkCheckJSONFlood(b *testing.B) {
	flood := []byte(`{"variables":{"x":[` + strings.Repeat("0,", 1<<20) + `0]}}`)
	b.SetBytes(int64(len(flood)))
	b.ReportAllocs()
	for b.Loop() {
		_ = CheckJSON(flood, 200_000, 64)
	}
}
