package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// aliased repeats sel n times under aliases a0…an-1.
func aliased(n int, sel string) string {
	var b strings.Builder
	b.WriteString("query {")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, sel)
	}
	b.WriteString(" }")
	return b.String()
}

// TestAliasFloodOfBlobsRefusedBeforeItRuns: 150 aliases of an order's documents{blob} are refused by
// the response bytes limit before any document is read (on main: 150 copies of the document).
func TestAliasFloodOfBlobsRefusedBeforeItRuns(t *testing.T) {
	s := startServer(t, embedded, map[string]string{"MAX_DOCUMENT_BYTES": "2000000", "GRAPHQL_MAX_RESPONSE_BYTES": "16000000"})
	resp, _ := s.graphql(t, s.writeKey.basic(), createMutation, map[string]any{"input": map[string]any{
		"documents": []any{pdfDoc("Big", pdftest.Make(t, 1, 1_000_000))}}})
	id := orderID(t, resp)
	one, _ := s.graphql(t, s.writeKey.basic(), fmt.Sprintf(`{ signatureOrder(id: %q) { documents { ... on PdfDocument { blob } } } }`, id), nil)
	if len(one.Errors) > 0 {
		t.Fatalf("one copy of the document: %s", one.firstError())
	}
	flood, _ := s.graphql(t, s.writeKey.basic(), aliased(150, fmt.Sprintf(`signatureOrder(id: %q) { documents { ... on PdfDocument { blob } } }`, id)), nil)
	if msg := flood.firstError(); !strings.Contains(msg, "response bytes limit of 16000000") || !strings.Contains(msg, "150 times") {
		t.Fatalf("150 aliases of blob: error %q, data %.100s; want the response bytes limit", msg, flood.Data)
	}
	if d := strings.TrimSpace(string(flood.Data)); d != "" && d != "null" {
		t.Errorf("refused operation ran: data %.100s", d)
	}
}

// TestResponseByteBudgetAtRunTime: an order whose documents together exceed the response budget gets
// the blobs that fit and an error naming the limit for the rest, not an answer past the budget.
func TestResponseByteBudgetAtRunTime(t *testing.T) {
	s := startServer(t, embedded, map[string]string{"MAX_DOCUMENT_BYTES": "1000000", "GRAPHQL_MAX_RESPONSE_BYTES": "2000000",
		"MAX_REQUEST_BYTES": "8000000"})
	doc := pdftest.Make(t, 1, 700_000)
	resp, _ := s.graphql(t, s.writeKey.basic(), createMutation, map[string]any{"input": map[string]any{
		"documents": []any{pdfDoc("A", doc), pdfDoc("B", doc), pdfDoc("C", doc)}}})
	id := orderID(t, resp)
	out, _ := s.graphql(t, s.writeKey.basic(), fmt.Sprintf(`{ signatureOrder(id: %q) { documents { ... on PdfDocument { blob } } } }`, id), nil)
	if !strings.Contains(out.firstError(), "response bytes limit of 2000000") {
		t.Fatalf("three documents of ~0.95 MB base64 under a 2 MB budget: error %q", out.firstError())
	}
	if len(out.Data) > 2_100_000 {
		t.Errorf("answer holds %d bytes, past the 2 MB budget", len(out.Data))
	}
}

// TestFanOutThroughBackEdgeRefused: signatories → signatureOrder → signatories three levels deep on an
// order of 200 signatories is refused before it runs (on main it cost 7 and ran past 15 s); two levels
// run, answered from the order already loaded.
func TestFanOutThroughBackEdgeRefused(t *testing.T) {
	s := startServer(t, embedded, nil)
	id := orderWithSignatories(t, s, 200)
	deep := fmt.Sprintf(`{ signatureOrder(id: %q) { signatories { signatureOrder { signatories { signatureOrder { signatories { id } } } } } } }`, id)
	out, _ := s.graphql(t, s.writeKey.basic(), deep, nil)
	if msg := out.firstError(); !strings.Contains(msg, "complexity limit of") {
		t.Fatalf("three-level fan-out: error %q, want the complexity limit", msg)
	}
	two := fmt.Sprintf(`{ signatureOrder(id: %q) { signatories { signatureOrder { signatories { id } } } } }`, id)
	out, _ = s.graphql(t, s.writeKey.basic(), two, nil)
	if len(out.Errors) > 0 || strings.Count(string(out.Data), `"id"`) != 200*200 {
		t.Fatalf("two-level fan-out: %q, %d ids", out.firstError(), strings.Count(string(out.Data), `"id"`))
	}
}

func orderWithSignatories(t testing.TB, s *testServer, n int) string {
	t.Helper()
	sigs := make([]any, n)
	for i := range sigs {
		sigs[i] = map[string]any{"reference": fmt.Sprint(i)}
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), createMutation, map[string]any{"input": map[string]any{
		"maxSignatories": n, "signatories": sigs, "documents": []any{pdfDoc("A", pdftest.Make(t, 1, 0))}}})
	return orderID(t, resp)
}

func orderID(t testing.TB, resp gqlResponse) string {
	t.Helper()
	var out struct {
		CreateSignatureOrder struct{ SignatureOrder struct{ ID string } }
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil || out.CreateSignatureOrder.SignatureOrder.ID == "" {
		t.Fatalf("create order: %s (%v)", resp.firstError(), err)
	}
	return out.CreateSignatureOrder.SignatureOrder.ID
}

// TestAnonymousLargeBodyRefusedEarly: without credentials a 50 MB body is refused from its
// Content-Length, before it is read (on main: 1.6 GB and 18 s of CPU).
func TestAnonymousLargeBodyRefusedEarly(t *testing.T) {
	s := startServer(t, embedded, nil)
	const size = 50 << 20
	head, tail := `{"query":"{__typename}","variables":{"x":[0`, `]}}`
	body := io.MultiReader(strings.NewReader(head), &zeros{n: size - len(head) - len(tail)}, strings.NewReader(tail))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", body)
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// "is 52428800 bytes" is the Content-Length answer; a body read until the limit says "is more than".
	if resp.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(raw), fmt.Sprintf("request body is %d bytes, more than the limit of 65536 bytes for a request without valid credentials", size)) {
		t.Fatalf("anonymous 50 MB body: %d %s", resp.StatusCode, raw)
	}
	// A wrong key is no credential either.
	out, status, _ := s.graphqlWith(t, http.Header{"Authorization": {"Basic bm86bm8="}}, "{__typename}",
		map[string]any{"x": make([]int, 40_000)})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(out.firstError(), "65536") {
		t.Fatalf("wrong key, 80 KB body: %d %q", status, out.firstError())
	}
}

// zeros streams ",0" n/2 times.
type zeros struct{ n int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), z.n) &^ 1
	if n == 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		p[i] = ",0"[i%2]
	}
	z.n -= n
	return n, nil
}

// TestVariablesElementFloodRefused: an authenticated body of 300,000 small values is refused by the
// value count before any of it is decoded into maps.
func TestVariablesElementFloodRefused(t *testing.T) {
	s := startServer(t, embedded, nil)
	out, status := s.graphql(t, s.writeKey.basic(), "{__typename}", map[string]any{"x": make([]int, 300_000)})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(out.firstError(), "more than 200000 values") {
		t.Fatalf("300,000 values: %d %q", status, out.firstError())
	}
	out, _ = s.graphql(t, s.writeKey.basic(), "{__typename}", map[string]any{"x": make([]int, 1000)})
	if len(out.Errors) > 0 {
		t.Fatalf("1,000 values: %q", out.firstError())
	}
}

// TestTimezonesAliasFloodRefused: 1,999 aliases of timezones (no credentials needed) are refused by the
// field limit, with or without a key (on main: 31 KB in, 18 MB out).
func TestTimezonesAliasFloodRefused(t *testing.T) {
	s := startServer(t, embedded, nil)
	q := aliased(1999, "timezones")
	out, _ := s.graphql(t, s.writeKey.basic(), q, nil)
	if msg := out.firstError(); !strings.Contains(msg, "query selects 1999 fields") || !strings.Contains(msg, "field limit of 1000") {
		t.Fatalf("timezones x1999 with a key: %q, %d bytes of data", msg, len(out.Data))
	}
	// Without credentials the answer is the contract's "Unauthorized access", the limit beside it.
	out, _ = s.graphql(t, "", q, nil)
	if len(out.Errors) != 1 || out.Errors[0].Message != "Unauthorized access" ||
		!strings.Contains(fmt.Sprint(out.Errors[0].Extensions["limit"]), "field limit of 500 without credentials") {
		t.Fatalf("timezones x1999 without credentials: %+v, %d bytes of data", out.Errors, len(out.Data))
	}
	if out, _ := s.graphql(t, "", "{ timezones }", nil); len(out.Errors) > 0 {
		t.Fatalf("one timezones without credentials: %q", out.firstError())
	}
}

// TestFailedAuthenticationLimitedAndLogged: after the burst of failures an address is answered 429
// without its credentials being checked, even the right ones; a client id that failed too often gets
// 429 for wrong secrets while its owner (the right secret, from elsewhere) still gets in; every failure
// is logged with the client id and address, never the secret.
func TestFailedAuthenticationLimitedAndLogged(t *testing.T) {
	s := startServer(t, embedded, map[string]string{"AUTH_FAILURE_BURST": "5", "AUTH_FAILURE_INTERVAL": "1h",
		"LOG_LEVEL": "info", "TRUSTED_PROXIES": "127.0.0.1"})
	const secret = "wrong-secret-0123456789"
	wrong := "Basic " + b64(s.writeKey.ClientID+":"+secret)
	from := func(ip, auth string) (gqlResponse, int) {
		out, status, _ := s.graphqlWith(t, http.Header{"Authorization": {auth}, "X-Forwarded-For": {ip}}, "{ viewer { id } }", nil)
		return out, status
	}
	for i := range 5 {
		if out, status := from("203.0.113.1", wrong); status != http.StatusOK || out.firstError() != "Unauthorized access" {
			t.Fatalf("failure %d: %d %q", i+1, status, out.firstError())
		}
	}
	out, status := from("203.0.113.1", s.writeKey.basic())
	if status != http.StatusTooManyRequests || !strings.Contains(out.firstError(), "too many failed authentications from this address") ||
		!strings.Contains(out.firstError(), "at most 5") {
		t.Fatalf("right secret from the address after 5 failures: %d %q", status, out.firstError())
	}
	if out, status := from("203.0.113.2", wrong); status != http.StatusTooManyRequests ||
		!strings.Contains(out.firstError(), "too many failed authentications from this client id") {
		t.Fatalf("wrong secret for the client id from another address: %d %q", status, out.firstError())
	}
	if out, status := from("203.0.113.3", s.writeKey.basic()); status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("the owner with the right secret is locked out: %d %q", status, out.firstError())
	}
	// Another client id from the first address is refused too: the address has used its burst.
	if _, status := from("203.0.113.1", "Basic "+b64("someone-else:"+secret)); status != http.StatusTooManyRequests {
		t.Errorf("another client id from the same address: %d, want 429", status)
	}
	logs := s.logs.String()
	if n := strings.Count(logs, `"msg":"authentication failed"`); n != 6 {
		t.Errorf("%d failures logged, want 6:\n%s", n, logs)
	}
	if !strings.Contains(logs, `"client_id":"`+s.writeKey.ClientID+`"`) || !strings.Contains(logs, `"ip":"203.0.113.2"`) {
		t.Errorf("failure log lacks the client id or address:\n%s", logs)
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, s.writeKey.ClientSecret) {
		t.Errorf("a secret is in the logs")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
