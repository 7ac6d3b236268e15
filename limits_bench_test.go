package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/pdf/pdftest"
)

// peakRSSMB is the process's peak resident memory so far (VmHWM); run one benchmark per process
// for it to mean that benchmark.
func peakRSSMB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

func postQuery(b *testing.B, url, auth, query string) (int, int64) {
	status, n, err := post(url, auth, query)
	if err != nil {
		b.Fatal(err)
	}
	return status, n
}

// post sends one query and returns the status and the answer's size; unlike postQuery it may run
// outside the benchmark's goroutine (b.Fatal may not).
func post(url, auth, query string) (status int, size int64, err error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	size, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, size, err
}

// BenchmarkAliasFloodMemory sends 150 aliases of documents{blob} on a 5 MiB document (the finding)
// and reports the answer's size and the process's peak RSS. Run alone:
//
//	go test -run '^$' -bench BenchmarkAliasFloodMemory -benchtime 3x .
func BenchmarkAliasFloodMemory(b *testing.B) {
	s := startServer(b, embedded, nil)
	resp, _ := s.graphql(b, s.writeKey.basic(), createMutation, map[string]any{"input": map[string]any{
		"documents": []any{pdfDoc("Big", pdftest.Make(b, 1, 5<<20))}}})
	id := orderID(b, resp)
	q := aliased(150, fmt.Sprintf(`signatureOrder(id: %q) { documents { ... on PdfDocument { blob } } }`, id))
	before := peakRSSMB(b)
	var answer int64
	for b.Loop() {
		_, answer = postQuery(b, s.URL, s.writeKey.basic(), q)
	}
	b.ReportMetric(float64(answer)/(1<<20), "answer-MB")
	b.ReportMetric(peakRSSMB(b)-before, "peak-rss-growth-MB")
}

// BenchmarkOtherTenantLatencyUnderFanOut measures another application's {viewer{id}} while the first
// runs a signatories fan-out on an order of 200 signatories from several connections. Each iteration
// is one viewer request; idle-p50/p99 are measured first, without the attack. BENCH_APP_CONCURRENCY
// sets GRAPHQL_APP_CONCURRENCY (default: half the cores).
//
//	go test -run '^$' -bench BenchmarkOtherTenantLatencyUnderFanOut -benchtime 40x .
func BenchmarkOtherTenantLatencyUnderFanOut(b *testing.B) {
	for _, c := range []struct {
		name, query string
		conns       int
	}{
		// The finding: refused before it runs now.
		{"three-levels-4-conns", `{ signatureOrder(id: %q) { signatories { signatureOrder { signatories { signatureOrder { signatories { id } } } } } } }`, 4},
		// Allowed (40,000 ids, one order load) but heavy: at most PerAppConcurrency run at once.
		{"two-levels-8-conns", `{ signatureOrder(id: %q) { signatories { signatureOrder { signatories { id } } } } }`, 8},
	} {
		b.Run(c.name, func(b *testing.B) { otherTenantLatency(b, c.query, c.conns) })
	}
}

func otherTenantLatency(b *testing.B, query string, conns int) {
	s := startServer(b, embedded, map[string]string{"GRAPHQL_APP_CONCURRENCY": os.Getenv("BENCH_APP_CONCURRENCY")})
	other := createKey(b, s.env, "other", "READ_WRITE")
	id := orderWithSignatories(b, s, 200)
	fanOut := fmt.Sprintf(query, id)
	viewer := func() time.Duration {
		start := time.Now()
		if status, _ := postQuery(b, s.URL, other.basic(), "{ viewer { id } }"); status != http.StatusOK {
			b.Fatalf("viewer: HTTP %d", status)
		}
		return time.Since(start)
	}
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	var idle []time.Duration
	for range 50 {
		idle = append(idle, viewer())
	}
	stop := make(chan struct{})
	answered := make(chan struct{}, conns) // each connection's first answer: the attack is under way
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; ; first = false {
				select {
				case <-stop:
					return
				default:
				}
				_, _, err := post(s.URL, s.writeKey.basic(), fanOut)
				if first {
					answered <- struct{}{}
				}
				if err != nil {
					b.Error(err) // Error, unlike Fatal, may be called from this goroutine
					return
				}
			}
		}()
	}
	for range conns {
		<-answered
	}
	var busy []time.Duration
	for b.Loop() {
		busy = append(busy, viewer())
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(pct(idle, 0.5), "idle-p50-ms")
	b.ReportMetric(pct(idle, 0.99), "idle-p99-ms")
	b.ReportMetric(pct(busy, 0.5), "p50-ms")
	b.ReportMetric(pct(busy, 0.99), "p99-ms")
}
