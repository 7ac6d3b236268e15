package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"esign/internal/pdf/pdftest"
)

// TestIdempotencyKey runs on PostgreSQL, Azurite and SoftHSM2: a retried createSignatureOrder
// creates one order; a reused key with another request, an invalid key and a key of another
// application are told apart; ten concurrent cleanups with one key run once.
func TestIdempotencyKey(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: not in -short")
	}
	s := startServer(t, production, nil)
	other := createKey(t, s.env, "another-app", "READ_WRITE")
	headers := func(auth, key string) http.Header {
		h := http.Header{"Authorization": {auth}}
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		return h
	}
	pdf := base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))
	const create = `mutation($input: CreateSignatureOrderInput!) { createSignatureOrder(input: $input) { signatureOrder { id title } } }`
	input := func(title string) map[string]any {
		return map[string]any{"input": map[string]any{"title": title,
			"documents": []any{map[string]any{"pdf": map[string]any{"title": "Contract", "blob": pdf, "storageMode": "Temporary"}}}}}
	}
	orderID := func(r gqlResponse) string {
		var out struct {
			CreateSignatureOrder struct{ SignatureOrder struct{ ID string } }
		}
		json.Unmarshal(r.Data, &out)
		return out.CreateSignatureOrder.SignatureOrder.ID
	}
	count := func(auth string) string {
		r, _ := s.graphql(t, auth, `{ viewer { ... on Application { signatureOrders(first: 50) { totalCount } } } }`, nil)
		return string(r.Data)
	}

	first, status, h1 := s.graphqlWith(t, headers(s.writeKey.basic(), "order-2026-0001"), create, input("Lease"))
	again, _, h2 := s.graphqlWith(t, headers(s.writeKey.basic(), "order-2026-0001"), create, input("Lease"))
	if status != 200 || first.firstError() != "" || orderID(first) == "" || orderID(again) != orderID(first) {
		t.Fatalf("first %s %s, again %s %s", first.Data, first.firstError(), again.Data, again.firstError())
	}
	if h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, again %q", h1.Get("Idempotent-Replayed"), h2.Get("Idempotent-Replayed"))
	}
	if c := count(s.readKey.basic()); !strings.Contains(c, `"totalCount":1`) {
		t.Errorf("after a retried create: %s", c)
	}

	// The same key with another request: refused, nothing created.
	mismatch, _, _ := s.graphqlWith(t, headers(s.writeKey.basic(), "order-2026-0001"), create, input("Another lease"))
	if msg := mismatch.firstError(); !strings.Contains(msg, "Idempotency-Key") || !strings.Contains(msg, "different request") || mismatch.Data != nil && string(mismatch.Data) != "null" {
		t.Errorf("reused key: %q %s", msg, mismatch.Data)
	}
	// Another application's key space is its own.
	theirs, _, _ := s.graphqlWith(t, headers(other.basic(), "order-2026-0001"), create, input("Lease"))
	if theirs.firstError() != "" || orderID(theirs) == orderID(first) || orderID(theirs) == "" {
		t.Errorf("another application with the same key: %s %s", theirs.Data, theirs.firstError())
	}
	if c := count(s.readKey.basic()); !strings.Contains(c, `"totalCount":1`) {
		t.Errorf("after the refused and the other application's requests: %s", c)
	}
	// A malformed key is refused before anything runs.
	bad, status, _ := s.graphqlWith(t, headers(s.writeKey.basic(), strings.Repeat("k", 256)), create, input("Lease"))
	if status != http.StatusBadRequest || !strings.Contains(bad.firstError(), "Idempotency-Key: must be") {
		t.Errorf("a 256-character key: HTTP %d %q", status, bad.firstError())
	}
	// Queries ignore the key: they always run.
	q, _, hq := s.graphqlWith(t, headers(s.readKey.basic(), "order-2026-0001"), `{ viewer { __typename } }`, nil)
	if q.firstError() != "" || hq.Get("Idempotent-Replayed") != "" {
		t.Errorf("query with a key: %s %q", q.firstError(), hq.Get("Idempotent-Replayed"))
	}

	// Close, then ten cleanups at once with one key: one runs; the others get its answer or are
	// told it is still running; and ten without a key all succeed alike (cleanup is idempotent).
	id := orderID(first)
	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id, retainDocumentsForDays: 1}) { signatureOrder { status } } }`,
		map[string]any{"id": id}); r.firstError() != "" {
		t.Fatal(r.firstError())
	}
	const cleanup = `mutation($id: ID!) { cleanupSignatureOrder(input: {signatureOrderId: $id}) { signatureOrder { id status documents { id blob } } } }`
	for _, key := range []string{"cleanup-1", ""} {
		var wg sync.WaitGroup
		answers := make([]gqlResponse, 10)
		replays := make([]string, 10)
		for i := range answers {
			wg.Go(func() {
				var h http.Header
				answers[i], _, h = s.graphqlWith(t, headers(s.writeKey.basic(), key), cleanup, map[string]any{"id": id})
				replays[i] = h.Get("Idempotent-Replayed")
			})
		}
		wg.Wait()
		ran, replayed, running := 0, 0, 0
		want := `{"cleanupSignatureOrder":{"signatureOrder":{"id":"` + id + `","status":"CLOSED","documents":[{"id":`
		for i, a := range answers {
			switch msg := a.firstError(); {
			case msg == "" && strings.HasPrefix(string(a.Data), want) && strings.Contains(string(a.Data), `"blob":null`):
				if replays[i] == "true" {
					replayed++
				} else {
					ran++
				}
			case key != "" && strings.Contains(msg, "still running"):
				running++
			default:
				t.Errorf("cleanup (key %q): %s %q", key, a.Data, msg)
			}
		}
		if key != "" && ran != 1 {
			t.Errorf("with one key: %d ran, %d replayed, %d told it is running; want exactly one run", ran, replayed, running)
		}
		if key == "" && ran != 10 {
			t.Errorf("without a key: %d of 10 succeeded", ran)
		}
	}
}
