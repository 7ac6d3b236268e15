package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

type schemaOnly struct {
	graphql.ExecutableSchema
	s *ast.Schema
}

func (s schemaOnly) Schema() *ast.Schema { return s.s }

// TestEmptyEnumIsNull: "" for a nullable enum variable is null (the Python SDK's querySignatureOrders
// without a status); anything else is left for validation to judge.
func TestEmptyEnumIsNull(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		enum Status { OPEN CLOSED }
		type Query { orders(status: Status, must: Status!, name: String, list: [Status!]): Int }`})
	x := &emptyEnumIsNull{}
	if err := x.Validate(schemaOnly{s: schema}); err != nil {
		t.Fatal(err)
	}
	const q = `query Q($status: Status, $must: Status!, $name: String, $list: [Status!]) {
		orders(status: $status, must: $must, name: $name, list: $list) }`
	cases := []struct {
		name  string
		vars  map[string]any
		field string
		want  any
	}{
		{"empty nullable enum", map[string]any{"status": ""}, "status", nil},
		{"a real value", map[string]any{"status": "OPEN"}, "status", "OPEN"},
		{"non-null enum", map[string]any{"must": ""}, "must", ""},
		{"a string", map[string]any{"name": ""}, "name", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &graphql.RawParams{Query: q, OperationName: "Q", Variables: c.vars}
			if err := x.MutateOperationParameters(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if got := p.Variables[c.field]; got != c.want {
				t.Errorf("%s = %#v, want %#v", c.field, got, c.want)
			}
		})
	}
}
