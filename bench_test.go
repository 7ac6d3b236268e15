package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/config"
	"esign/internal/pdf/pdftest"
	"esign/internal/telemetry"
)

// BenchmarkCreateSignatureOrder measures createSignatureOrder through the whole HTTP handler (auth,
// JSON, base64, PDF intake, two encryption layers, blob write, store write) in both modes. Besides
// ns/op, MB/s and allocs it reports peak-heap-MB: the largest live heap seen during the operations
// above the heap before them.
func BenchmarkCreateSignatureOrder(b *testing.B) {
	for _, m := range []mode{embedded, production} {
		for _, size := range []int{100_000, 1_000_000, 20_000_000} {
			b.Run(fmt.Sprintf("%s/%s", m, sizeName(size)), func(b *testing.B) {
				env := serverEnv(b, m, nil)
				if m == production {
					runCommand(b, env, "keys", "init")
				}
				key := createKey(b, env, "bench", "READ_WRITE")
				cfg, err := config.Parse(func(k string) string { return env[k] })
				if err != nil {
					b.Fatal(err)
				}
				log := slog.New(slog.NewJSONHandler(io.Discard, nil))
				metricsReg := telemetry.NewMetrics()
				a, err := open(context.Background(), cfg, log, metricsReg)
				if err != nil {
					b.Fatal(err)
				}
				defer a.close()
				h, err := newHTTPHandler(cfg, a, log, metricsReg)
				if err != nil {
					b.Fatal(err)
				}
				doc := pdftest.Make(b, 10, size)
				body := mustJSON(b, map[string]any{"query": createMutation, "variables": map[string]any{"input": map[string]any{
					"documents": []any{map[string]any{"pdf": map[string]any{"title": "Bench", "storageMode": "Temporary",
						"blob": base64.StdEncoding.EncodeToString(doc)}}},
					"signatories": []any{map[string]any{"reference": "a"}, map[string]any{"reference": "b"}},
				}}})
				auth := key.basic()
				do := func() {
					req := httptest.NewRequest(http.MethodPost, "/v1/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", auth)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`"status":"OPEN"`)) {
						b.Fatalf("create failed: %d %.300s", rec.Code, rec.Body.String())
					}
				}
				do() // warm up: migrations, key caches, query cache
				b.SetBytes(int64(len(doc)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					do()
				}
				b.StopTimer()
				peak := peakHeap(do)
				b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
				b.ReportMetric(float64(peak)/float64(len(doc)), "peak-heap/doc")
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dMB", n/1_000_000)
	}
	return fmt.Sprintf("%dKB", n/1000)
}

// peakHeap runs op three times with the collector at its most eager (so the heap it samples is close
// to the live heap, not garbage waiting for a cycle) and returns the largest heap seen above the heap
// before each run.
func peakHeap(op func()) uint64 {
	old := debug.SetGCPercent(1)
	defer debug.SetGCPercent(old)
	var peak uint64
	for i := 0; i < 3; i++ {
		runtime.GC()
		base := liveHeap()
		var high atomic.Uint64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				if h := liveHeap(); h > high.Load() {
					high.Store(h)
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Microsecond):
				}
			}
		}()
		op()
		close(stop)
		<-done
		if h := high.Load(); h > base && h-base > peak {
			peak = h - base
		}
	}
	return peak
}

// liveHeap is the bytes of live and not-yet-swept heap objects.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
