package graph

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/internal/fault"
	"esign/internal/signing"
	"esign/internal/tenant"
)

func TestKeepable(t *testing.T) {
	withCode := func(codes ...string) *graphql.Response {
		r := &graphql.Response{Data: []byte(`{"x":null}`)}
		for _, c := range codes {
			e := &gqlerror.Error{Message: c}
			if c != "" {
				e.Extensions = map[string]any{"code": c}
			}
			r.Errors = append(r.Errors, e)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		resp *graphql.Response
		want bool
	}{
		{"an answer", withCode(), true},
		{"a rule broken", withCode(string(fault.CodeInvalid)), true},
		{"a conflict", withCode(string(fault.CodeConflict)), true},
		{"not found", withCode(string(fault.CodeNotFound)), true},
		{"unauthorized", withCode(string(fault.CodeUnauthorized)), false},
		{"forbidden", withCode(string(fault.CodeForbidden)), false},
		{"forbidden beside an answer", withCode(string(fault.CodeConflict), string(fault.CodeForbidden)), false},
		{"unavailable", withCode(string(fault.CodeUnavailable)), false},
		{"internal", withCode("INTERNAL"), false},
		{"cancelled (no code)", withCode(""), false},
		{"no answer", nil, false},
	} {
		if got := keepable(tc.resp); got != tc.want {
			t.Errorf("%s: keepable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIdempotencyScope(t *testing.T) {
	app := tenant.Application{ID: "app-1"}
	readWrite := &signing.Principal{Application: app, Mode: tenant.KeyReadWrite, ClientID: "client-rw"}
	readOnly := &signing.Principal{Application: app, Mode: tenant.KeyReadOnly, ClientID: "client-ro"}
	sig := &signing.SignatoryPrincipal{OrderID: "o", SignatoryID: "s-1"}
	scopes := map[string]string{}
	for name, c := range map[string]Caller{
		"READ_WRITE key":           {App: readWrite},
		"READ_ONLY key of the app": {App: readOnly},
		"signatory":                {Signatory: sig},
		"key and signatory":        {App: readWrite, Signatory: sig},
	} {
		scope := idempotencyScope(c)
		if scope == "" {
			t.Errorf("%s: no scope", name)
		}
		if other, taken := scopes[scope]; taken {
			t.Errorf("%s shares the scope %q with %s", name, scope, other)
		}
		scopes[scope] = name
	}
	if s := idempotencyScope(Caller{}); s != "" {
		t.Errorf("unauthenticated: scope %q", s)
	}
	if s := idempotencyScope(Caller{Signatory: sig, AuthErr: fault.Unauthorized()}); s != "" {
		t.Errorf("credentials that failed: scope %q", s)
	}
}
