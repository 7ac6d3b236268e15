package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// rightsOrder creates an order of one signatory (noop evidence, its document preapproved, so
// signActingAs could sign) with the given key and returns the ids.
func rightsOrder(t *testing.T, s *testServer, auth string) (orderID, signatoryID, documentID string) {
	t.Helper()
	pdf := base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))
	r, _ := s.graphql(t, auth, `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id documents { id } signatories { id } } } }`,
		map[string]any{"input": map[string]any{
			"documents":         []any{map[string]any{"pdf": map[string]any{"title": "Contract", "reference": "c", "blob": pdf, "storageMode": "Temporary"}}},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories":       []any{map[string]any{"documents": []any{map[string]any{"id": "c", "preapproved": true}}}},
		}})
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Documents   []struct{ ID string }
				Signatories []struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || r.firstError() != "" {
		t.Fatalf("create order: %s %s", r.Data, r.firstError())
	}
	o := out.CreateSignatureOrder.SignatureOrder
	return o.ID, o.Signatories[0].ID, o.Documents[0].ID
}

// TestReadOnlyKeyCannotActAsSignatory: a READ_ONLY key reads orders but gets "" for every
// signatory's href and token (they are the power to sign; the contract's String! stays, which the
// official SDKs' models require), and every mutation it tries is refused and changes nothing.
func TestReadOnlyKeyCannotActAsSignatory(t *testing.T) {
	s := startServer(t, embedded, nil)
	orderID, signatoryID, _ := rightsOrder(t, s, s.writeKey.basic())
	const q = `query($o: ID!, $s: ID!) { signatureOrder(id: $o) { signatories { id href token } } signatory(id: $s) { href token } }`
	vars := map[string]any{"o": orderID, "s": signatoryID}

	ro, _ := s.graphql(t, s.readKey.basic(), q, vars)
	want := `{"signatureOrder":{"signatories":[{"id":"` + signatoryID + `","href":"","token":""}]},"signatory":{"href":"","token":""}}`
	if ro.firstError() != "" || string(ro.Data) != want {
		t.Errorf("READ_ONLY key sees %s %q\nwant %s", ro.Data, ro.firstError(), want)
	}
	rw, _ := s.graphql(t, s.writeKey.basic(), q, vars)
	if rw.firstError() != "" || strings.Contains(string(rw.Data), "null") || !strings.Contains(string(rw.Data), `"href":"`+s.URL+`/sign/`) {
		t.Errorf("READ_WRITE key sees %s %q", rw.Data, rw.firstError())
	}

	for name, m := range mutationsOn(orderID, signatoryID, "") {
		r, _ := s.graphql(t, s.readKey.basic(), m.query, m.vars)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Errorf("READ_ONLY %s: %s %v", name, r.Data, r.Errors)
		}
	}
	after, _ := s.graphql(t, s.writeKey.basic(), `query($o: ID!) { signatureOrder(id: $o) { status signatories { status } documents { id } } }`, map[string]any{"o": orderID})
	if got := string(after.Data); !strings.Contains(got, `"status":"OPEN","signatories":[{"status":"OPEN"}]`) {
		t.Errorf("after the READ_ONLY key's attempts: %s", got)
	}
}

type operation struct {
	query string
	vars  map[string]any
}

// mutationsOn lists every application mutation that names an order or a signatory, on the given
// ids; deleteSignatory names ownOrderID instead when it is given (the caller's own order with a
// signatory id that is not one of its signatories).
func mutationsOn(orderID, signatoryID, ownOrderID string) map[string]operation {
	deleteOrder := orderID
	if ownOrderID != "" {
		deleteOrder = ownOrderID
	}
	o := map[string]any{"o": orderID}
	return map[string]operation{
		"addSignatory":               {`mutation($o: ID!) { addSignatory(input: {signatureOrderId: $o}) { signatory { id } } }`, o},
		"addSignatories":             {`mutation($o: ID!) { addSignatories(input: {signatureOrderId: $o, signatories: [{}]}) { signatories { id } } }`, o},
		"changeSignatory":            {`mutation($s: ID!) { changeSignatory(input: {signatoryId: $s, reference: "x"}) { signatureOrder { id } } }`, map[string]any{"s": signatoryID}},
		"deleteSignatory":            {`mutation($o: ID!, $s: ID!) { deleteSignatory(input: {signatureOrderId: $o, signatoryId: $s}) { signatureOrder { id } } }`, map[string]any{"o": deleteOrder, "s": signatoryID}},
		"changeSignatureOrder":       {`mutation($o: ID!) { changeSignatureOrder(input: {signatureOrderId: $o, maxSignatories: 5}) { signatureOrder { id } } }`, o},
		"extendSignatureOrder":       {`mutation($o: ID!) { extendSignatureOrder(input: {signatureOrderId: $o, additionalExpirationInDays: 1}) { signatureOrder { id } } }`, o},
		"cancelSignatureOrder":       {`mutation($o: ID!) { cancelSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`, o},
		"closeSignatureOrder":        {`mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o, retainDocumentsForDays: 1}) { signatureOrder { id } } }`, o},
		"cleanupSignatureOrder":      {`mutation($o: ID!) { cleanupSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`, o},
		"signActingAs":               {`mutation($s: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: "x", noop: true}}) { signatory { id } } }`, map[string]any{"s": signatoryID}},
		"retrySignatureOrderWebhook": {`mutation($o: ID!) { retrySignatureOrderWebhook(input: {signatureOrderId: $o, retryPayload: "p"}) { invocation { url } } }`, o},
	}
}

// TestForeignAndUnknownIDsAnswerAlike runs every operation that takes an id with another
// application's id and with an id that names nothing: the answers must be the same (code and
// message, the id itself aside), so no answer tells that an id exists elsewhere.
func TestForeignAndUnknownIDsAnswerAlike(t *testing.T) {
	s := startServer(t, embedded, nil)
	other := createKey(t, s.env, "other-app", "READ_WRITE")
	theirOrder, theirSignatory, theirDocument := rightsOrder(t, s, other.basic())
	ownOrder, _, _ := rightsOrder(t, s, s.writeKey.basic())
	ownToken := func() string {
		r, _ := s.graphql(t, s.writeKey.basic(), `query($o: ID!) { signatureOrder(id: $o) { signatories { token } } }`, map[string]any{"o": ownOrder})
		var out struct {
			SignatureOrder struct{ Signatories []struct{ Token string } }
		}
		json.Unmarshal(r.Data, &out)
		return out.SignatureOrder.Signatories[0].Token
	}()
	const unknownOrder, unknownSignatory, unknownDocument = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"

	// normalized is the answer with the ids replaced, errors reduced to code and message.
	normalized := func(r gqlResponse, ids ...string) string {
		type e struct{ Code, Message string }
		var errs []e
		for _, x := range r.Errors {
			code, _ := x.Extensions["code"].(string)
			errs = append(errs, e{code, x.Message})
		}
		out := string(mustJSON(t, map[string]any{"data": r.Data, "errors": errs}))
		for _, id := range ids {
			out = strings.ReplaceAll(out, id, "<id>")
		}
		return out
	}
	compare := func(name string, run func(orderID, signatoryID, documentID string) gqlResponse) {
		t.Helper()
		foreign := normalized(run(theirOrder, theirSignatory, theirDocument), theirOrder, theirSignatory, theirDocument)
		unknown := normalized(run(unknownOrder, unknownSignatory, unknownDocument), unknownOrder, unknownSignatory, unknownDocument)
		if foreign != unknown {
			t.Errorf("%s answers a foreign id differently from an unknown one:\nforeign %s\nunknown %s", name, foreign, unknown)
		}
	}

	queries := map[string]string{
		"signatureOrder": `query($o: ID!) { signatureOrder(id: $o) { id } }`,
		"signatory":      `query($s: ID!) { signatory(id: $s) { id } }`,
		"document":       `query($d: ID!) { document(id: $d) { id } }`,
		"batchSignatory": `query($o: ID!) { batchSignatory(id: $o) { id } }`,
		"application":    `query($o: ID!) { application(id: $o) { id } }`,
	}
	for _, key := range []credentials{s.writeKey, s.readKey} {
		for name, q := range queries {
			compare(name, func(o, sig, d string) gqlResponse {
				r, _ := s.graphql(t, key.basic(), q, map[string]any{"o": o, "s": sig, "d": d})
				return r
			})
		}
		for _, own := range []string{"", ownOrder} {
			for name := range mutationsOn("", "", own) {
				compare(name, func(o, sig, _ string) gqlResponse {
					m := mutationsOn(o, sig, own)[name]
					r, _ := s.graphql(t, key.basic(), m.query, m.vars)
					return r
				})
			}
		}
	}
	// A signatory naming a document, or an evidence provider, of another order.
	asSignatory := func(query string) gqlResponse {
		var r gqlResponse
		json.Unmarshal([]byte(signatoryGraphQL(t, s, ownToken, "", query)), &r)
		return r
	}
	compare("updateSignatoryDocumentStatus", func(_, _, d string) gqlResponse {
		return asSignatory(`mutation { updateSignatoryDocumentStatus(input: {documentId: "` + d + `", status: APPROVED}) { viewer { id } } }`)
	})
	r, _ := s.graphql(t, other.basic(), `query($o: ID!) { signatureOrder(id: $o) { evidenceProviders { id } } }`, map[string]any{"o": theirOrder})
	var providers struct {
		SignatureOrder struct{ EvidenceProviders []struct{ ID string } }
	}
	if err := json.Unmarshal(r.Data, &providers); err != nil || len(providers.SignatureOrder.EvidenceProviders) == 0 {
		t.Fatalf("their providers: %s %q", r.Data, r.firstError())
	}
	theirProvider := providers.SignatureOrder.EvidenceProviders[0].ID
	sign := func(provider string) string {
		return normalized(asSignatory(`mutation { sign(input: {id: "`+provider+`", noop: true}) { viewer { id } } }`), provider)
	}
	if foreign, unknown := sign(theirProvider), sign(unknownOrder); foreign != unknown {
		t.Errorf("sign answers a foreign provider id differently from an unknown one:\nforeign %s\nunknown %s", foreign, unknown)
	}
}

// TestIdempotencyKeyRights: a kept answer belongs to the API key that sent the request (not to
// its application), a refusal is never kept, and an answer holding documents does not outlive them.
func TestIdempotencyKeyRights(t *testing.T) {
	s := startServer(t, embedded, nil)
	secondWriter := createKey(t, s.env, "e2e", "READ_WRITE")
	send := func(auth, key, query string, vars map[string]any) (gqlResponse, bool) {
		t.Helper()
		r, _, h := s.graphqlWith(t, http.Header{"Authorization": {auth}, "Idempotency-Key": {key}}, query, vars)
		return r, h.Get("Idempotent-Replayed") == "true"
	}
	const closeWith = `mutation($o: ID!, $days: Int) { closeSignatureOrder(input: {signatureOrderId: $o, retainDocumentsForDays: $days}) {
		signatureOrder { status documents { ... on PdfDocument { blob } } } } }`
	hasBlob := func(r gqlResponse) bool { return strings.Contains(string(r.Data), `"blob":"JVBER`) }

	t.Run("another key of the application does not get the answer", func(t *testing.T) {
		o, _, _ := rightsOrder(t, s, s.writeKey.basic())
		vars := map[string]any{"o": o, "days": 1}
		first, _ := send(s.writeKey.basic(), "close-1", closeWith, vars)
		if first.firstError() != "" || !hasBlob(first) {
			t.Fatalf("close: %.200s %q", first.Data, first.firstError())
		}
		if again, replayed := send(s.writeKey.basic(), "close-1", closeWith, vars); !replayed || !hasBlob(again) {
			t.Errorf("the same key again: replayed %v, %.200s", replayed, again.Data)
		}
		ro, replayed := send(s.readKey.basic(), "close-1", closeWith, vars)
		if replayed || hasBlob(ro) || len(ro.Errors) == 0 || ro.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Errorf("READ_ONLY key with the same Idempotency-Key: replayed %v, %.200s %v", replayed, ro.Data, ro.Errors)
		}
		rw, replayed := send(secondWriter.basic(), "close-1", closeWith, vars)
		if replayed || hasBlob(rw) || !strings.Contains(rw.firstError(), "only OPEN orders can be closed") {
			t.Errorf("another READ_WRITE key with the same Idempotency-Key: replayed %v, %.200s %q", replayed, rw.Data, rw.firstError())
		}
	})

	t.Run("a refusal is not kept", func(t *testing.T) {
		// The same client id, first with a wrong secret, then with the right one.
		o, _, _ := rightsOrder(t, s, s.writeKey.basic())
		vars := map[string]any{"o": o}
		const extend = `mutation($o: ID!) { extendSignatureOrder(input: {signatureOrderId: $o, additionalExpirationInDays: 1}) { signatureOrder { id } } }`
		wrong := credentials{ClientID: s.writeKey.ClientID, ClientSecret: "wrong"}
		if r, _ := send(wrong.basic(), "extend-1", extend, vars); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "UNAUTHORIZED" {
			t.Fatalf("wrong secret: %s %v", r.Data, r.Errors)
		}
		if r, replayed := send(s.writeKey.basic(), "extend-1", extend, vars); replayed || r.firstError() != "" {
			t.Errorf("right secret after a wrong one: replayed %v, %s %q", replayed, r.Data, r.firstError())
		}
		// FORBIDDEN for the READ_ONLY key, then the READ_WRITE key with the same key and request.
		if r, _ := send(s.readKey.basic(), "extend-2", extend, vars); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Fatalf("READ_ONLY key: %s %v", r.Data, r.Errors)
		}
		if r, replayed := send(s.writeKey.basic(), "extend-2", extend, vars); replayed || r.firstError() != "" {
			t.Errorf("READ_WRITE key after the READ_ONLY key's refusal: replayed %v, %s %q", replayed, r.Data, r.firstError())
		}
	})

	t.Run("an answer holding documents goes with them", func(t *testing.T) {
		// Retained, then cleaned up: the kept answer is deleted with the documents.
		o, _, _ := rightsOrder(t, s, s.writeKey.basic())
		vars := map[string]any{"o": o, "days": 1}
		if first, _ := send(s.writeKey.basic(), "close-2", closeWith, vars); !hasBlob(first) {
			t.Fatalf("close: %.200s %q", first.Data, first.firstError())
		}
		if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { cleanupSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`, map[string]any{"o": o}); r.firstError() != "" {
			t.Fatal(r.firstError())
		}
		if r, replayed := send(s.writeKey.basic(), "close-2", closeWith, vars); replayed || hasBlob(r) {
			t.Errorf("after cleanupSignatureOrder: replayed %v, %.200s %q", replayed, r.Data, r.firstError())
		}

		// Closed without retention: the documents are deleted in the request itself, so the kept
		// answer says so instead of holding them.
		o, _, _ = rightsOrder(t, s, s.writeKey.basic())
		vars = map[string]any{"o": o, "days": nil}
		if first, _ := send(s.writeKey.basic(), "close-3", closeWith, vars); !hasBlob(first) {
			t.Fatalf("close without retention: %.200s %q", first.Data, first.firstError())
		}
		r, replayed := send(s.writeKey.basic(), "close-3", closeWith, vars)
		if !replayed || hasBlob(r) || !strings.Contains(r.firstError(), "held documents that are deleted now") {
			t.Errorf("replay of a close without retention: replayed %v, %.200s %q", replayed, r.Data, r.firstError())
		}

		// Cancelled: an earlier answer that read the documents goes too.
		o, _, _ = rightsOrder(t, s, s.writeKey.basic())
		const add = `mutation($o: ID!) { addSignatory(input: {signatureOrderId: $o}) { signatureOrder { documents { ... on PdfDocument { blob } } } } }`
		if first, _ := send(s.writeKey.basic(), "add-1", add, map[string]any{"o": o}); !hasBlob(first) {
			t.Fatalf("addSignatory: %.200s %q", first.Data, first.firstError())
		}
		if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { cancelSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`, map[string]any{"o": o}); r.firstError() != "" {
			t.Fatal(r.firstError())
		}
		if r, replayed := send(s.writeKey.basic(), "add-1", add, map[string]any{"o": o}); replayed || hasBlob(r) {
			t.Errorf("after cancelSignatureOrder: replayed %v, %.200s %q", replayed, r.Data, r.firstError())
		}
	})
}
