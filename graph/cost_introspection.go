package graph

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The introspection answer is a function of the fixed schema and the query alone, so its cost is
// counted exactly: the walk below follows the query over the schema's own types, fields and
// arguments, summing instead of multiplying worst cases (a product of the largest type, the largest
// field list and the longest argument list overstates GraphiQL's query a thousandfold). Results are
// memoized per (selection set, schema element), so a deeply nested introspection query costs the walk
// polynomial time while its answer would be exponential, and is refused for it.
type introspectionWalk struct {
	schema    *ast.Schema
	fragments ast.FragmentDefinitionList
	memo      map[introKey]int64
	// flat holds each selection set's fields, flattened once: one set is priced once per schema
	// element (every type, field and argument), and flattening it each time was half the walk.
	flat  map[*ast.SelectionSet][]*ast.Field
	steps int // elements priced; past maxIntrospectionSteps the query is priced as refused
}

// maxIntrospectionSteps bounds the walk's own work and memory. Validation already refuses
// introspection nested more than three levels, so this is a second line, not the first.
const maxIntrospectionSteps = 200_000

type introKey struct {
	set  *ast.SelectionSet
	what string // "type Foo", "ref [Foo!]!", "field Foo.bar", …
}

// fields flattens a selection set's fields through fragments: introspection types are objects, so
// every fragment applies.
func (w *introspectionWalk) fields(set ast.SelectionSet, depth int, out []*ast.Field) []*ast.Field {
	if depth > 64 {
		return out
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = w.fields(s.SelectionSet, depth+1, out)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				out = w.fields(f.SelectionSet, depth+1, out)
			}
		}
	}
	return out
}

// price sums one element's cost: each field 1 plus what child(field) says its selection costs.
func (w *introspectionWalk) price(set *ast.SelectionSet, what string, child func(f *ast.Field) int64) int64 {
	key := introKey{set, what}
	if c, ok := w.memo[key]; ok {
		return c
	}
	if w.steps++; w.steps > maxIntrospectionSteps {
		return costCap
	}
	w.memo[key] = costCap // a cycle (impossible after validation) prices as refused
	fields, ok := w.flat[set]
	if !ok {
		fields = w.fields(*set, 0, nil)
		w.flat[set] = fields
	}
	var cost int64
	for _, f := range fields {
		c := int64(0)
		if len(f.SelectionSet) > 0 {
			c = child(f)
		}
		cost = satAdd(cost, satAdd(1, c))
	}
	w.memo[key] = cost
	return cost
}

func (w *introspectionWalk) schemaCost(set *ast.SelectionSet) int64 {
	return w.price(set, "schema", func(f *ast.Field) int64 {
		switch f.Name {
		case "types":
			var c int64
			for _, t := range w.schema.Types {
				c = satAdd(c, w.namedType(&f.SelectionSet, t))
			}
			return c
		case "queryType", "mutationType", "subscriptionType":
			return w.maxType(&f.SelectionSet)
		case "directives":
			var c int64
			for _, d := range w.schema.Directives {
				c = satAdd(c, w.directive(&f.SelectionSet, d))
			}
			return c
		}
		return 0
	})
}

// maxType is the cost of a __Type whose name the walk does not know (a variable, a root type).
func (w *introspectionWalk) maxType(set *ast.SelectionSet) int64 {
	var most int64
	for _, t := range w.schema.Types {
		most = max(most, w.namedType(set, t))
	}
	return most
}

func (w *introspectionWalk) namedType(set *ast.SelectionSet, t *ast.Definition) int64 {
	return w.price(set, "type "+t.Name, func(f *ast.Field) int64 {
		var c int64
		switch f.Name {
		case "fields":
			for _, fd := range t.Fields {
				if !strings.HasPrefix(fd.Name, "__") {
					c = satAdd(c, w.field(&f.SelectionSet, t.Name, fd))
				}
			}
		case "inputFields":
			for _, fd := range t.Fields {
				c = satAdd(c, w.inputValue(&f.SelectionSet, t.Name+"."+fd.Name, fd.Type))
			}
		case "interfaces":
			for _, name := range t.Interfaces {
				if d := w.schema.Types[name]; d != nil {
					c = satAdd(c, w.namedType(&f.SelectionSet, d))
				}
			}
		case "possibleTypes":
			for _, d := range w.schema.PossibleTypes[t.Name] {
				c = satAdd(c, w.namedType(&f.SelectionSet, d))
			}
		case "enumValues":
			c = satMul(int64(len(t.EnumValues)), w.price(&f.SelectionSet, "enum value", func(*ast.Field) int64 { return 0 }))
		}
		return c
	})
}

// typeRef is a __Type met through a field's or an argument's type: a wrapper (ofType leads on) or a
// named type.
func (w *introspectionWalk) typeRef(set *ast.SelectionSet, t *ast.Type) int64 {
	if t == nil {
		return 0
	}
	if t.NamedType != "" && !t.NonNull {
		if d := w.schema.Types[t.NamedType]; d != nil {
			return w.namedType(set, d)
		}
		return 0
	}
	return w.price(set, "ref "+t.String(), func(f *ast.Field) int64 {
		if f.Name != "ofType" {
			return 0
		}
		inner := t.Elem
		if t.NonNull { // NonNull wraps the same type without the bang
			cp := *t
			cp.NonNull = false
			inner = &cp
		}
		return w.typeRef(&f.SelectionSet, inner)
	})
}

func (w *introspectionWalk) field(set *ast.SelectionSet, owner string, fd *ast.FieldDefinition) int64 {
	return w.price(set, "field "+owner+"."+fd.Name, func(f *ast.Field) int64 {
		switch f.Name {
		case "args":
			var c int64
			for _, a := range fd.Arguments {
				c = satAdd(c, w.inputValue(&f.SelectionSet, owner+"."+fd.Name+"("+a.Name+")", a.Type))
			}
			return c
		case "type":
			return w.typeRef(&f.SelectionSet, fd.Type)
		}
		return 0
	})
}

func (w *introspectionWalk) inputValue(set *ast.SelectionSet, name string, t *ast.Type) int64 {
	return w.price(set, "input "+name, func(f *ast.Field) int64 {
		if f.Name == "type" {
			return w.typeRef(&f.SelectionSet, t)
		}
		return 0
	})
}

func (w *introspectionWalk) directive(set *ast.SelectionSet, d *ast.DirectiveDefinition) int64 {
	return w.price(set, fmt.Sprintf("directive %s", d.Name), func(f *ast.Field) int64 {
		if f.Name == "args" {
			var c int64
			for _, a := range d.Arguments {
				c = satAdd(c, w.inputValue(&f.SelectionSet, "@"+d.Name+"("+a.Name+")", a.Type))
			}
			return c
		}
		if f.Name == "locations" {
			return int64(len(d.Locations))
		}
		return 0
	})
}
