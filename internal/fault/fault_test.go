package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"esign/internal/fault"
)

func TestDependencyOf(t *testing.T) {
	db := &fault.Unavailable{Dependency: "the database"}
	wrapped := fmt.Errorf("create order: %w", fmt.Errorf("insert: %w", db))
	if got := fault.DependencyOf(wrapped); got != "the database" {
		t.Errorf("DependencyOf(wrapped) = %q", got)
	}
	if !errors.Is(wrapped, db) {
		t.Error("errors.Is no longer finds the adapter's sentinel")
	}
	if got := fault.DependencyOf(errors.New("boom")); got != "" {
		t.Errorf("DependencyOf(other) = %q, want none", got)
	}
}

func TestErrorNamesFieldOnce(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
		code fault.Code
		fld  string
	}{
		{"field and rule", fault.Invalid("signatories[1].reference", "must be at most %d characters", 512),
			"signatories[1].reference: must be at most 512 characters", fault.CodeInvalid, "signatories[1].reference"},
		{"no field", fault.Invalid("", "too many"), "too many", fault.CodeInvalid, ""},
		{"nested under a prefix", fault.Within("evidence.oidc", fault.Invalid("jwt", "is expired")),
			"evidence.oidc.jwt: is expired", fault.CodeInvalid, "evidence.oidc.jwt"},
		{"prefix for a fieldless rule", fault.Within("evidence.oidc", fault.Invalid("", "bad signature")),
			"evidence.oidc: bad signature", fault.CodeInvalid, "evidence.oidc"},
		{"wrapped, nested", fault.Within("evidence", fmt.Errorf("verify: %w", fault.Invalid("jwt", "x"))),
			"evidence.jwt: x", fault.CodeInvalid, "evidence.jwt"},
		{"not an input error: unchanged", fault.Within("evidence", fault.Forbiddenf("no %s", "claim")),
			"no claim", fault.CodeForbidden, ""},
		{"retryable", fault.Retryablef("busy; try again"), "busy; try again", fault.CodeUnavailable, ""},
		{"unauthorized", fault.Unauthorized(), "Unauthorized access", fault.CodeUnauthorized, ""},
		{"internal", fault.Internal("ab12"), "internal error (reference ab12)", fault.CodeInternal, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := fault.As(tc.err)
			if !ok {
				t.Fatalf("%v is not a *fault.Error", tc.err)
			}
			if e.Error() != tc.want || e.Code != tc.code || e.Field != tc.fld {
				t.Errorf("got %q (code %s, field %q), want %q (code %s, field %q)", e.Error(), e.Code, e.Field, tc.want, tc.code, tc.fld)
			}
		})
	}
	if plain := errors.New("plain"); fault.Within("x", plain) != plain {
		t.Error("Within changed an error that is not an input error")
	}
	inner := fault.Invalid("jwt", "x")
	_ = fault.Within("evidence", inner)
	if inner.Field != "jwt" {
		t.Errorf("Within changed the error it nests: field %q", inner.Field)
	}
	a, b := fault.Unauthorized(), fault.Unauthorized()
	a.Message = "changed"
	if b.Message != "Unauthorized access" {
		t.Error("Unauthorized shares one value between callers")
	}
}
