package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/pdf/pdftest"
)

// hookReceiver is an integrator's webhook endpoint that checks every signature with the shared
// secret and answers with the statuses it is told (200 when none are queued).
type hookReceiver struct {
	*httptest.Server
	secret   []byte
	mu       sync.Mutex
	events   []string // event names in arrival order
	bodies   []string
	statuses []int
	badSigs  int
}

func newHookReceiver(t *testing.T, secret []byte) *hookReceiver {
	h := &hookReceiver{secret: secret}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, h.secret)
		m.Write(body)
		var ev struct{ Event string }
		json.Unmarshal(body, &ev)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("X-Criipto-Signature") != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
			h.badSigs++
		}
		h.events, h.bodies = append(h.events, ev.Event), append(h.bodies, string(body))
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

// waitFor polls until the receiver has seen every event of want (in any order) and returns what
// it has seen.
func (h *hookReceiver) waitFor(t *testing.T, want ...string) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.mu.Lock()
		got := slices.Clone(h.events)
		h.mu.Unlock()
		missing := false
		for _, w := range want {
			missing = missing || !slices.Contains(got, w)
		}
		if !missing {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebhooksEndToEnd runs on PostgreSQL, Azurite and SoftHSM2: connectivity validation at
// creation, events from the signatory API delivered with valid signatures, the logs, an expiry
// from the sweeper that the receiver first refuses, and a manual retry.
func TestWebhooksEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: not in -short")
	}
	s := startServer(t, production, map[string]string{
		"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_POLL_INTERVAL": "100ms", "SWEEP_SCHEDULE": "@every 1s",
	})
	secret := []byte("0123456789abcdef0123456789abcdef")
	hook := newHookReceiver(t, secret)
	pdf := base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))
	create := func(webhookURL string, extra map[string]any) gqlResponse {
		input := map[string]any{
			"title":             "Webhooks",
			"documents":         []any{map[string]any{"pdf": map[string]any{"title": "Contract", "blob": pdf, "storageMode": "Temporary"}}},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories":       []any{map[string]any{"reference": "one"}},
			"webhook": map[string]any{"url": webhookURL, "secret": base64.StdEncoding.EncodeToString(secret),
				"validateConnectivity": true},
		}
		for k, v := range extra {
			input[k] = v
		}
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
			createSignatureOrder(input: $input) { signatureOrder { id documents { id } evidenceProviders { id }
				signatories { id token } } } }`, map[string]any{"input": input})
		return resp
	}

	// A receiver that does not answer 200 fails the creation, and nothing is created.
	refusing := newHookReceiver(t, secret)
	refusing.statuses = []int{http.StatusServiceUnavailable}
	resp := create(refusing.URL, nil)
	if msg := resp.firstError(); !strings.Contains(msg, "webhook.url") || !strings.Contains(msg, "HTTP 503") {
		t.Errorf("validation against a 503: %q", msg)
	}
	list, _ := s.graphql(t, s.readKey.basic(), `{ viewer { ... on Application { signatureOrders(first: 10) { totalCount } } } }`, nil)
	if !strings.Contains(string(list.Data), `"totalCount":0`) {
		t.Errorf("an order was created despite the failed validation: %s", list.Data)
	}

	resp = create(hook.URL+"/hook", nil)
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				Documents         []struct{ ID string }
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID, Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	o := created.CreateSignatureOrder.SignatureOrder
	if got := hook.waitFor(t, "WEBHOOK_VALIDATION"); len(got) != 1 {
		t.Fatalf("after creation the receiver got %v", got)
	}

	// The signatory's actions, each an event.
	token := o.Signatories[0].Token
	for _, q := range []string{
		`mutation { trackSignatory(input: {event: SIGN_LINK_OPENED}) { viewer { __typename } } }`,
		fmt.Sprintf(`mutation { updateSignatoryDocumentStatus(input: {documentId: %q, status: APPROVED}) { viewer { __typename } } }`, o.Documents[0].ID),
		fmt.Sprintf(`mutation { sign(input: {id: %q, noop: true}) { viewer { __typename } } }`, o.EvidenceProviders[0].ID),
	} {
		if out := signatoryGraphQL(t, s, token, "", q); strings.Contains(out, `"errors"`) {
			t.Fatalf("%s: %s", q, out)
		}
	}
	hook.waitFor(t, "SIGNATORY_SIGN_LINK_OPENED", "SIGNATORY_DOCUMENT_STATUS_CHANGED", "SIGNATORY_SIGNED", "ALL_CURRENT_SIGNATORIES_SIGNED")
	hook.mu.Lock()
	bodies, bad := slices.Clone(hook.bodies), hook.badSigs
	hook.mu.Unlock()
	if bad != 0 {
		t.Errorf("%d requests with a wrong X-Criipto-Signature", bad)
	}
	wantSigned := fmt.Sprintf(`{"event":"SIGNATORY_SIGNED","signatureOrderId":%q,"signatoryId":%q}`, o.ID, o.Signatories[0].ID)
	if !slices.Contains(bodies, wantSigned) {
		t.Errorf("bodies %v lack %s", bodies, wantSigned)
	}

	// The logs, per order and per application. The receiver sees a request before the dispatcher
	// records its outcome, so the last entries may land a moment after the last event arrived.
	from, to := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var logged struct {
		SignatureOrder struct {
			Webhook struct {
				Logs []struct {
					Typename           string `json:"__typename"`
					Event              string
					ResponseStatusCode int
				}
			}
		}
		Viewer struct{ WebhookLogs []struct{} }
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		logs, _ := s.graphql(t, s.readKey.basic(), `query($id: ID!, $from: String!, $to: String!) {
		signatureOrder(id: $id) { webhook { url logs(from: $from, to: $to) { __typename event correlationId url
			... on WebhookSuccessfulInvocation { responseStatusCode } } } }
		viewer { ... on Application { webhookLogs(from: $from, to: $to, succeeded: false) { __typename } } } }`,
			map[string]any{"id": o.ID, "from": from, "to": to})
		logged.SignatureOrder.Webhook.Logs = nil
		if err := json.Unmarshal(logs.Data, &logged); err != nil || logs.firstError() != "" {
			t.Fatalf("logs: %s %s", logs.Data, logs.firstError())
		}
		if len(logged.SignatureOrder.Webhook.Logs) >= 4 || time.Now().After(deadline) {
			break
		}
	}
	if len(logged.SignatureOrder.Webhook.Logs) != 4 || len(logged.Viewer.WebhookLogs) != 0 {
		t.Errorf("order logs %+v; failed invocations of the application %d", logged.SignatureOrder.Webhook.Logs, len(logged.Viewer.WebhookLogs))
	}
	for _, l := range logged.SignatureOrder.Webhook.Logs {
		if l.Typename != "WebhookSuccessfulInvocation" || l.ResponseStatusCode != 200 {
			t.Errorf("log entry %+v", l)
		}
	}
	bad400, _ := s.graphql(t, s.readKey.basic(), `{ viewer { ... on Application { webhookLogs(from: "yesterday", to: "now") { __typename } } } }`, nil)
	if msg := bad400.firstError(); !strings.Contains(msg, "from") {
		t.Errorf("webhookLogs with a bad from: %q", msg)
	}

	// An order that expires: the sweeper expires it, the receiver refuses the event once, and a
	// manual retry delivers it.
	resp = create(hook.URL+"/hook", map[string]any{"expiresAt": time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	hook.mu.Lock()
	hook.statuses = []int{http.StatusInternalServerError}
	hook.mu.Unlock()
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	expiring := created.CreateSignatureOrder.SignatureOrder.ID
	var failed struct {
		SignatureOrder struct {
			Status  string
			Webhook struct {
				Logs []struct {
					Typename     string `json:"__typename"`
					Event        string
					RetryPayload string
					RetryingAt   string
				}
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(failed.SignatureOrder.Webhook.Logs) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		r, _ := s.graphql(t, s.readKey.basic(), `query($id: ID!, $from: String!, $to: String!) { signatureOrder(id: $id) { status
			webhook { logs(from: $from, to: $to, succeeded: false) { __typename event
				... on WebhookHttpErrorInvocation { retryPayload retryingAt } } } } }`,
			map[string]any{"id": expiring, "from": from, "to": to})
		json.Unmarshal(r.Data, &failed)
	}
	logsOf := failed.SignatureOrder.Webhook.Logs
	if failed.SignatureOrder.Status != "EXPIRED" || len(logsOf) != 1 || logsOf[0].Typename != "WebhookHttpErrorInvocation" ||
		logsOf[0].Event != "SIGNATURE_ORDER_EXPIRED" || logsOf[0].RetryPayload == "" || logsOf[0].RetryingAt == "" {
		t.Fatalf("after expiry: %+v", failed)
	}
	retried, _ := s.graphql(t, s.writeKey.basic(), `mutation($id: ID!, $payload: String!) {
		retrySignatureOrderWebhook(input: {signatureOrderId: $id, retryPayload: $payload}) {
			invocation { __typename event ... on WebhookSuccessfulInvocation { responseStatusCode } } } }`,
		map[string]any{"id": expiring, "payload": logsOf[0].RetryPayload})
	if !strings.Contains(string(retried.Data), `"__typename":"WebhookSuccessfulInvocation","event":"SIGNATURE_ORDER_EXPIRED","responseStatusCode":200`) {
		t.Errorf("retry: %s %s", retried.Data, retried.firstError())
	}
	wrong, _ := s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { retrySignatureOrderWebhook(input: {signatureOrderId: $id, retryPayload: "nope"}) {
		invocation { __typename } } }`, map[string]any{"id": expiring})
	if msg := wrong.firstError(); !strings.Contains(msg, "retryPayload") {
		t.Errorf("retry with a foreign payload: %q", msg)
	}
}
