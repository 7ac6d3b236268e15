package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/internal/fault"
	"esign/internal/order"
)

// inputLimits applies order.Limits, the domain's table of input bounds, to every argument of an
// operation before any resolver runs. The domain checks the inputs that reach it again, but many
// never do (sign evidence, login codes, webhook log ranges, ids that are only looked up), and a
// 10 MiB value should cost no more than its refusal wherever it is sent.
type inputLimits struct {
	schema *ast.Schema
	limits map[string]order.Limit
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*inputLimits)(nil)

func newInputLimits() *inputLimits {
	x := &inputLimits{limits: make(map[string]order.Limit, len(order.Limits))}
	for _, l := range order.Limits {
		x.limits[l.Field] = l
	}
	return x
}

func (*inputLimits) ExtensionName() string { return "InputLimits" }

func (x *inputLimits) Validate(s graphql.ExecutableSchema) error {
	x.schema = s.Schema()
	return nil
}

func (x *inputLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || x.schema == nil {
		return nil
	}
	w := limitWalker{inputLimits: x, vars: oc.Variables, fragments: oc.Doc.Fragments, seen: map[string]bool{}}
	return w.selections(oc.Operation.SelectionSet)
}

type limitWalker struct {
	*inputLimits
	vars      map[string]any
	fragments ast.FragmentDefinitionList
	seen      map[string]bool // fragments already walked: their arguments do not change per spread
}

func (w *limitWalker) selections(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := w.field(s); err != nil {
				return err
			}
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if f := w.fragments.ForName(s.Name); f != nil {
				if err := w.selections(f.SelectionSet); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *limitWalker) field(f *ast.Field) *gqlerror.Error {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return nil
	}
	for _, def := range f.Definition.Arguments {
		arg := f.Arguments.ForName(def.Name)
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(w.vars)
		if err != nil {
			continue // validation already refused a malformed literal
		}
		coord := fmt.Sprintf("%s.%s(%s:)", f.ObjectDefinition.Name, f.Name, def.Name)
		// Paths start inside the input object, as the domain's errors do ("documents[0].pdf.title");
		// other arguments are named themselves ("after").
		path := def.Name
		if def.Name == "input" {
			path = ""
		}
		if err := w.value(coord, path, def.Type, v); err != nil {
			return &gqlerror.Error{Message: err.Error(), Path: ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{"code": string(fault.CodeInvalid)}}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// value checks v, of type t, against the limit of coord and walks into lists and input objects.
func (w *limitWalker) value(coord, path string, t *ast.Type, v any) error {
	if v == nil {
		return nil
	}
	l, limited := w.limits[coord]
	if t.Elem != nil {
		items, ok := v.([]any)
		if !ok {
			items = []any{v} // GraphQL coerces a single value to a list of one
		}
		if limited && l.Kind == order.KindList && len(items) > l.Max {
			return fault.Invalid(path, "must have at most %d items, got %d", l.Max, len(items))
		}
		textItems := t.Elem.Elem == nil && isText(t.Elem.Name())
		for i, item := range items {
			if textItems {
				// The schema's lists of strings are claim names, acr values and audiences: identifiers.
				if err := order.CheckText(fmt.Sprintf("%s[%d]", path, i), fmt.Sprint(item), order.MaxIdentifierLen, false); err != nil {
					return err
				}
				continue
			}
			if err := w.value(coord, fmt.Sprintf("%s[%d]", path, i), t.Elem, item); err != nil {
				return err
			}
		}
		return nil
	}
	def := w.schema.Types[t.Name()]
	if def != nil && def.Kind == ast.InputObject {
		fields, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, f := range def.Fields {
			if err := w.value(def.Name+"."+f.Name, join(path, f.Name), f.Type, fields[f.Name]); err != nil {
				return err
			}
		}
		return nil
	}
	s, ok := v.(string)
	if !limited || !ok || !isText(t.Name()) {
		return nil
	}
	switch l.Kind {
	case order.KindLine, order.KindURL, order.KindTimestamp:
		return order.CheckText(path, s, l.Max, false)
	case order.KindText:
		return order.CheckText(path, s, l.Max, true)
	case order.KindLogo:
		if strings.HasPrefix(s, "data:") {
			return order.CheckText(path, s, order.MaxDataLogoLen, false)
		}
		return order.CheckText(path, s, l.Max, false)
	}
	return nil
}

func isText(scalar string) bool {
	return scalar == "String" || scalar == "ID" || scalar == "URI"
}
