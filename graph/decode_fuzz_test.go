package graph

import (
	"errors"
	"strings"
	"testing"

	"esign/internal/limits"
)

// FuzzDecodeRequest feeds the request decoder arbitrary bodies under the anonymous limits: it must
// never panic, never accept more values than the limit, and never quote the body in its errors
// (bodies carry documents).
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ viewer { __typename } }"}`,
		`{"query":"query signatureOrder($id: ID!) { signatureOrder(id: $id) { id status } }","variables":{"id":"abc"},"operationName":"signatureOrder"}`,
		`{"query":"mutation($input: CreateSignatureOrderInput!) { createSignatureOrder(input: $input) { signatureOrder { id } } }","variables":{"input":{"title":"T","documents":[{"pdf":{"title":"d","storageMode":"Temporary","blob":"JVBERi0xLjcK"}}],"signatories":[{"reference":"r"}],"maxSignatories":2.5e1}}}`,
		`{"query":"{__typename}","variables":{"x":[0,0,0,0,0,0,0,0]}}`,
		`{"query":"{timezones}","variables":null,"extensions":{"persistedQuery":{"version":1}}}`,
		`[[[[[[[[[[]]]]]]]]]]`, `{"query":1}`, `{"variables":{"a":{"b":{"c":[1e400]}}}}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	lim := decodeLimits{MaxBodyBytes: 64 << 10, MaxJSONValues: 200, MaxJSONDepth: 16}
	f.Fuzz(func(t *testing.T, body []byte) {
		params, err := decodeRequest(body, lim)
		if err != nil {
			var tooLarge *limits.JSONTooLargeError
			if !errors.As(err, &tooLarge) && err != errNotRequestObject && !strings.HasPrefix(err.Error(), "request body is") {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if len(body) > 16 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error quotes the body: %v", err)
			}
			return
		}
		if params == nil {
			t.Fatal("no error and no parameters")
		}
		if limits.CheckJSON(body, lim.MaxJSONValues, lim.MaxJSONDepth) != nil {
			t.Fatal("accepted a body over the limits")
		}
	})
}
