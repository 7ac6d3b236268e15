package idempotency_test

import (
	"testing"

	"esign/internal/idempotency"
)

func TestStateOf(t *testing.T) {
	req, other, answer := []byte("request"), []byte("other"), []byte(`{"data":{}}`)
	cases := []struct {
		name             string
		stored, response []byte
		want             idempotency.State
		wantAnswer       bool
	}{
		{"another request under the key", other, answer, idempotency.Mismatch, false},
		{"another request still running", other, nil, idempotency.Mismatch, false},
		{"the same request still running", req, nil, idempotency.InFlight, false},
		{"the same request answered", req, answer, idempotency.Replay, true},
		{"an empty answer is an answer", req, []byte{}, idempotency.Replay, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, a := idempotency.StateOf(tc.stored, tc.response, req)
			if got != tc.want || (a != nil) != tc.wantAnswer {
				t.Errorf("StateOf = %v with answer %q, want %v (answer %v)", got, a, tc.want, tc.wantAnswer)
			}
		})
	}
}
