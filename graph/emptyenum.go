package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// emptyEnumIsNull reads "" given for a variable of a nullable enum type as null, before variables
// are validated. The official Python SDK sends `status: ""` for querySignatureOrders without a status
// filter (`status if status is not None else ""`); no enum value is empty, so "" can mean nothing but
// "not given", and refusing it would make the SDK's list call fail. Only nullable enum variables are
// touched: a non-null enum, a string or a list keeps what was sent and is validated as usual.
type emptyEnumIsNull struct {
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*emptyEnumIsNull)(nil)

func (emptyEnumIsNull) ExtensionName() string { return "EmptyEnumIsNull" }

func (x *emptyEnumIsNull) Validate(s graphql.ExecutableSchema) error {
	x.schema = s.Schema()
	return nil
}

func (x *emptyEnumIsNull) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if x.schema == nil || !hasEmptyString(p.Variables) {
		return nil
	}
	// Parsed once more only when a variable is "": the executor's own parse follows (and caches).
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // the executor reports the syntax error
	}
	for _, op := range doc.Operations {
		if p.OperationName != "" && op.Name != p.OperationName {
			continue
		}
		for _, v := range op.VariableDefinitions {
			def := x.schema.Types[v.Type.Name()]
			if v.Type.NonNull || v.Type.Elem != nil || def == nil || def.Kind != ast.Enum {
				continue
			}
			if s, ok := p.Variables[v.Variable].(string); ok && s == "" {
				p.Variables[v.Variable] = nil
			}
		}
	}
	return nil
}

func hasEmptyString(vars map[string]any) bool {
	for _, v := range vars {
		if s, ok := v.(string); ok && s == "" {
			return true
		}
	}
	return false
}
