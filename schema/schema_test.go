package schema_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esign/schema/schematest"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"esign/schema"
)

// minOperations is how many operation documents @criipto/signatures 1.35.1 carries (18 in
// application-viewer, 6 in signatory-viewer). tools/extract-operations.js asserts the same per
// package; asserting it here too means a script that printed nothing could not make this test pass.
const minOperations = 24

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(schema.Source()...)
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return s
}

func TestSDLMatchesSource(t *testing.T) {
	sdl, err := schema.SDL()
	if err != nil {
		t.Fatal(err)
	}
	// The SDL served on GET /v1/graphql must be a complete schema on its own.
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "sdl", Input: sdl})
	if err != nil {
		t.Fatalf("served SDL does not load on its own: %v", err)
	}
	if s.Query == nil || s.Query.Name != "Query" || s.Mutation == nil || s.Mutation.Name != "Mutation" {
		t.Fatalf("root types: query %v, mutation %v", s.Query, s.Mutation)
	}
	if len(s.Types) != len(loadSchema(t).Types) {
		t.Errorf("SDL has %d types, the sources %d", len(s.Types), len(loadSchema(t).Types))
	}
}

// TestSDKOperationsValidate proves the schema against the oracle: every operation document the
// official Node SDK sends must pass full GraphQL validation, including fragments on types the
// service never returns.
func TestSDKOperationsValidate(t *testing.T) {
	s := loadSchema(t)
	ops := schematest.SDKOperations(t)
	validated := 0
	for _, op := range ops {
		t.Run(op.Package+"/"+op.Operation, func(t *testing.T) {
			if op.Operation == "" || strings.TrimSpace(op.Document) == "" {
				t.Fatalf("%s: empty operation name or document", op.Name)
			}
			doc, errs := gqlparser.LoadQueryWithRules(s, op.Document, rules.NewDefaultRules())
			for _, e := range errs {
				t.Errorf("%s: %s", op.Name, e.Error())
			}
			if len(errs) > 0 {
				t.Logf("document:\n%s", op.Document)
				return
			}
			if len(doc.Operations) != 1 || doc.Operations[0].Name != op.Operation ||
				string(doc.Operations[0].Operation) != op.Type {
				t.Fatalf("%s: parsed operations %v, want one %s %s", op.Name, doc.Operations, op.Type, op.Operation)
			}
			validated++
		})
	}
	t.Logf("validated %d SDK operation documents", validated)
	if len(ops) < minOperations {
		t.Errorf("the SDK yielded %d operation documents, want at least %d", len(ops), minOperations)
	}
	if validated < minOperations {
		t.Errorf("%d operation documents validated, want at least %d", validated, minOperations)
	}
}

// --- The contract's "The schema, type by type" section ---

// contractField is one field (or argument, or input field) as the contract writes it.
type contractField struct {
	Name       string
	Type       string
	Default    string // as written, "" if none
	Deprecated bool
	Args       []contractField
}

// contractType is one type of the contract.
type contractType struct {
	Name          string
	Kind          ast.DefinitionKind
	Interfaces    []string        // objects and interfaces: what it implements
	ImplementedBy []string        // interfaces: every implementer
	Fields        []contractField // objects, interfaces, inputs
	Values        []string        // enums
	Members       []string        // unions
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func readContract(t *testing.T) string {
	t.Helper()
	path := filepath.Join(repoRoot(t), "..", "shared", "reference", "api-contract.md")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the API contract %s is missing: CI must check the schema against it", path)
		}
		t.Skipf("the API contract %s is missing: schema-vs-contract check skipped (it fails in CI)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// splitTop splits s on sep where sep is not inside (), [] or {}.
func splitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// parseField reads `name(arg: T = d, ...): Type = default @deprecated`.
func parseField(s string) (contractField, error) {
	var f contractField
	s = strings.TrimSpace(s)
	colon := strings.IndexByte(s, ':')
	paren := strings.IndexByte(s, '(')
	if colon < 0 {
		return f, errors.New("no ':' in field " + s)
	}
	rest := ""
	if paren >= 0 && paren < colon {
		end := strings.IndexByte(s, ')')
		if end < paren {
			return f, errors.New("unbalanced () in field " + s)
		}
		f.Name = strings.TrimSpace(s[:paren])
		for _, a := range splitTop(s[paren+1:end], ',') {
			arg, err := parseField(a)
			if err != nil {
				return f, err
			}
			f.Args = append(f.Args, arg)
		}
		after := strings.TrimSpace(s[end+1:])
		if !strings.HasPrefix(after, ":") {
			return f, errors.New("no ':' after arguments in " + s)
		}
		rest = after[1:]
	} else {
		f.Name = strings.TrimSpace(s[:colon])
		rest = s[colon+1:]
	}
	tokens := strings.Fields(rest)
	if len(tokens) == 0 {
		return f, errors.New("no type in field " + s)
	}
	f.Type = tokens[0]
	for i := 1; i < len(tokens); i++ {
		switch {
		case tokens[i] == "=" && i+1 < len(tokens):
			f.Default = tokens[i+1]
			i++
		case tokens[i] == "@deprecated":
			f.Deprecated = true
		default:
			return f, errors.New("unexpected " + tokens[i] + " in field " + s)
		}
	}
	return f, nil
}

// parseBraced splits `head { fields } tail` and parses the fields.
func parseBraced(s string) (head string, fields []contractField, tail string, err error) {
	open, closing := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if open < 0 || closing < open {
		return "", nil, "", errors.New("no { fields } in " + s)
	}
	for _, part := range splitTop(s[open+1:closing], ',') {
		f, err := parseField(part)
		if err != nil {
			return "", nil, "", err
		}
		fields = append(fields, f)
	}
	return strings.TrimSpace(s[:open]), fields, strings.TrimSpace(s[closing+1:]), nil
}

func splitNames(s, sep string) []string {
	var out []string
	for _, n := range strings.Split(s, sep) {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// parseContract reads every type of the section; each line that does not parse is an error, so a
// change of the contract's format cannot make the check pass by checking nothing.
func parseContract(text string) ([]contractType, []error) {
	var (
		types   []contractType
		errs    []error
		section string
		inside  bool
		root    *contractType
	)
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "## "):
			inside = strings.HasPrefix(line, "## The schema, type by type")
			continue
		case !inside || line == "":
			continue
		case strings.HasPrefix(line, "### "):
			section = strings.TrimSpace(strings.TrimPrefix(line, "### "))
			root = nil
			if section == "Query" || section == "Mutation" {
				types = append(types, contractType{Name: section, Kind: ast.Object})
				root = &types[len(types)-1]
			}
			continue
		case !strings.HasPrefix(line, "- "):
			errs = append(errs, errors.New("unexpected line: "+line))
			continue
		}
		item := strings.TrimPrefix(line, "- ")
		var err error
		switch section {
		case "Query", "Mutation":
			var f contractField
			if f, err = parseField(item); err == nil {
				root.Fields = append(root.Fields, f)
			}
		case "obj":
			var head string
			ct := contractType{Kind: ast.Object}
			if head, ct.Fields, _, err = parseBraced(item); err == nil {
				name, impl, _ := strings.Cut(head, " implements ")
				ct.Name, ct.Interfaces = strings.TrimSpace(name), splitNames(impl, "&")
				types = append(types, ct)
			}
		case "iface":
			var head, tail string
			ct := contractType{Kind: ast.Interface}
			if head, ct.Fields, tail, err = parseBraced(strings.TrimPrefix(item, "interface ")); err == nil {
				name, impl, _ := strings.Cut(head, " implements ")
				ct.Name, ct.Interfaces = strings.TrimSpace(name), splitNames(impl, "&")
				ct.ImplementedBy = splitNames(strings.TrimPrefix(tail, "implemented by:"), ",")
				types = append(types, ct)
			}
		case "input":
			ct := contractType{Kind: ast.InputObject}
			if ct.Name, ct.Fields, _, err = parseBraced(item); err == nil {
				types = append(types, ct)
			}
		case "enum":
			name, values, ok := strings.Cut(item, ":")
			if !ok {
				err = errors.New("enum without ':' " + item)
				break
			}
			types = append(types, contractType{Name: strings.TrimSpace(name), Kind: ast.Enum, Values: splitNames(values, "|")})
		case "union":
			name, members, ok := strings.Cut(strings.TrimPrefix(item, "union "), "=")
			if !ok {
				err = errors.New("union without '=' " + item)
				break
			}
			types = append(types, contractType{Name: strings.TrimSpace(name), Kind: ast.Union, Members: splitNames(members, "|")})
		case "scalar":
			types = append(types, contractType{Name: item, Kind: ast.Scalar})
		default:
			err = errors.New("line in unknown section " + section + ": " + line)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return types, errs
}

func TestParseContractField(t *testing.T) {
	tests := []struct {
		in   string
		want contractField
	}{
		{"id: ID!", contractField{Name: "id", Type: "ID!"}},
		{"role: String @deprecated", contractField{Name: "role", Type: "String", Deprecated: true}},
		{`language: Language = "EN_US"`, contractField{Name: "language", Type: "Language", Default: `"EN_US"`}},
		{"signatureOrders(first: Int, after: String, status: SignatureOrderStatus): SignatureOrderConnection!",
			contractField{Name: "signatureOrders", Type: "SignatureOrderConnection!", Args: []contractField{
				{Name: "first", Type: "Int"}, {Name: "after", Type: "String"}, {Name: "status", Type: "SignatureOrderStatus"},
			}}},
		{"edges: [SignatoryDocumentEdge!]!", contractField{Name: "edges", Type: "[SignatoryDocumentEdge!]!"}},
	}
	for _, tt := range tests {
		got, err := parseField(tt.in)
		if err != nil {
			t.Errorf("parseField(%q): %v", tt.in, err)
			continue
		}
		if !equalField(got, tt.want) {
			t.Errorf("parseField(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"id", "x(a: Int: Int", "x: Int extra"} {
		if _, err := parseField(bad); err == nil {
			t.Errorf("parseField(%q) succeeded", bad)
		}
	}
}

func equalField(a, b contractField) bool {
	if a.Name != b.Name || a.Type != b.Type || a.Default != b.Default || a.Deprecated != b.Deprecated || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if !equalField(a.Args[i], b.Args[i]) {
			return false
		}
	}
	return true
}

// normDefault compares defaults by value: the contract quotes enum defaults ("EN_US").
func normDefault(s string) string { return strings.Trim(s, `"`) }

func defaultOf(v *ast.Value) string {
	if v == nil {
		return ""
	}
	return normDefault(v.String())
}

func isDeprecated(d ast.DirectiveList) bool { return d.ForName("deprecated") != nil }

// reporter is the part of testing.T the checks use, so a test can run them on purpose-made drift.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// checkArgs compares a contract field's arguments with the schema's.
func checkArgs(t reporter, where string, want []contractField, got ast.ArgumentDefinitionList) {
	t.Helper()
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Name] = true
		a := got.ForName(w.Name)
		if a == nil {
			t.Errorf("%s: argument %s missing", where, w.Name)
			continue
		}
		if a.Type.String() != w.Type {
			t.Errorf("%s(%s:) type %s, contract %s", where, w.Name, a.Type.String(), w.Type)
		}
		if defaultOf(a.DefaultValue) != normDefault(w.Default) {
			t.Errorf("%s(%s:) default %q, contract %q", where, w.Name, defaultOf(a.DefaultValue), w.Default)
		}
	}
	for _, a := range got {
		if !seen[a.Name] && a.Type.NonNull && a.DefaultValue == nil {
			t.Errorf("%s: required argument %s is not in the contract: clients do not send it", where, a.Name)
		}
	}
}

// relaxedOutputs are the output fields deliberately typed differently from the contract (none now: a
// READ_ONLY key gets "" for a signatory's link and token, keeping the contract's String!, which the
// official SDKs' models require).
var relaxedOutputs = map[string]string{}

func checkFields(t reporter, ct contractType, def *ast.Definition) {
	t.Helper()
	seen := map[string]bool{}
	for _, w := range ct.Fields {
		seen[w.Name] = true
		where := ct.Name + "." + w.Name
		f := def.Fields.ForName(w.Name)
		if f == nil {
			t.Errorf("%s missing", where)
			continue
		}
		if f.Type.String() != w.Type && relaxedOutputs[where] != f.Type.String()+" for "+w.Type {
			t.Errorf("%s: type %s, contract %s", where, f.Type.String(), w.Type)
		}
		if isDeprecated(f.Directives) != w.Deprecated {
			t.Errorf("%s: deprecated %v, contract %v", where, isDeprecated(f.Directives), w.Deprecated)
		}
		if def.Kind == ast.InputObject && defaultOf(f.DefaultValue) != normDefault(w.Default) {
			t.Errorf("%s: default %q, contract %q", where, defaultOf(f.DefaultValue), w.Default)
		}
		checkArgs(t, where, w.Args, f.Arguments)
	}
	for _, f := range def.Fields {
		if seen[f.Name] || strings.HasPrefix(f.Name, "__") {
			continue
		}
		if def.Kind == ast.InputObject && f.Type.NonNull && f.DefaultValue == nil {
			t.Errorf("%s.%s: required input field is not in the contract: clients do not send it", ct.Name, f.Name)
			continue
		}
		t.Logf("%s.%s: in the schema but not in the contract", ct.Name, f.Name)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSchemaHasContractTypes checks every type, field, argument, nullability, default, deprecation,
// interface, union member and enum value the contract names.
func TestSchemaHasContractTypes(t *testing.T) {
	text := readContract(t)
	types, errs := parseContract(text)
	for _, err := range errs {
		t.Errorf("contract: %v", err)
	}
	// The contract names 25 mutations, 8 queries and roughly 170 types: far fewer means the
	// section was not found or its format changed.
	if len(types) < 150 {
		t.Fatalf("parsed %d types from the contract, want at least 150", len(types))
	}
	s := loadSchema(t)
	if s.Query == nil || s.Query.Name != "Query" || s.Mutation == nil || s.Mutation.Name != "Mutation" {
		t.Fatal("schema root types must be Query and Mutation")
	}
	fields, values := 0, 0
	for _, ct := range types {
		def := s.Types[ct.Name]
		if def == nil {
			t.Errorf("type %s (%s) missing", ct.Name, ct.Kind)
			continue
		}
		if def.Kind != ct.Kind {
			t.Errorf("type %s is %s, contract %s", ct.Name, def.Kind, ct.Kind)
			continue
		}
		switch ct.Kind {
		case ast.Object, ast.Interface, ast.InputObject:
			checkFields(t, ct, def)
			fields += len(ct.Fields)
			if ct.Kind != ast.InputObject && !sameSet(def.Interfaces, ct.Interfaces) {
				t.Errorf("%s implements %v, contract %v", ct.Name, def.Interfaces, ct.Interfaces)
			}
			if ct.Kind == ast.Interface {
				var got []string
				for _, p := range s.GetPossibleTypes(def) {
					got = append(got, p.Name)
				}
				if !sameSet(got, ct.ImplementedBy) {
					t.Errorf("interface %s implemented by %v, contract %v", ct.Name, got, ct.ImplementedBy)
				}
			}
		case ast.Enum:
			for _, v := range ct.Values {
				if def.EnumValues.ForName(v) == nil {
					t.Errorf("enum %s: value %s missing", ct.Name, v)
				}
			}
			values += len(ct.Values)
		case ast.Union:
			if !sameSet(def.Types, ct.Members) {
				t.Errorf("union %s = %v, contract %v", ct.Name, def.Types, ct.Members)
			}
		}
	}
	t.Logf("checked %d contract types, %d fields, %d enum values", len(types), fields, values)
}

// TestContractCheckCatchesDrift makes sure the field checks can fail: each contract fact altered
// on purpose must be reported against the real schema.
func TestContractCheckCatchesDrift(t *testing.T) {
	s := loadSchema(t)
	base := contractType{Name: "Application", Kind: ast.Object, Fields: []contractField{
		{Name: "signatureOrders", Type: "SignatureOrderConnection!", Args: []contractField{
			{Name: "first", Type: "Int"}, {Name: "after", Type: "String"}, {Name: "status", Type: "SignatureOrderStatus"},
		}},
	}}
	r := &recorder{}
	checkFields(r, base, s.Types["Application"])
	if len(r.errors) > 0 {
		t.Fatalf("unaltered contract fact reported: %v", r.errors)
	}
	tests := []struct {
		name  string
		alter func(f *contractField)
	}{
		{"nullability", func(f *contractField) { f.Type = "SignatureOrderConnection" }},
		{"field name", func(f *contractField) { f.Name = "signatureOrderz" }},
		{"deprecation", func(f *contractField) { f.Deprecated = true }},
		{"argument type", func(f *contractField) { f.Args[0].Type = "Int!" }},
		{"argument missing", func(f *contractField) { f.Args = append(f.Args, contractField{Name: "last", Type: "Int"}) }},
		{"argument default", func(f *contractField) { f.Args[0].Default = "10" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := base
			f := ct.Fields[0]
			f.Args = append([]contractField(nil), f.Args...)
			tt.alter(&f)
			ct.Fields = []contractField{f}
			r := &recorder{}
			checkFields(r, ct, s.Types["Application"])
			if len(r.errors) == 0 {
				t.Errorf("altered %s not reported", tt.name)
			}
		})
	}
	t.Run("required input field not in contract", func(t *testing.T) {
		r := &recorder{}
		ct := contractType{Name: "ExtendSignatureOrderInput", Kind: ast.InputObject, Fields: []contractField{
			{Name: "signatureOrderId", Type: "ID!"},
		}}
		checkFields(r, ct, s.Types["ExtendSignatureOrderInput"])
		if len(r.errors) == 0 {
			t.Error("a required input field missing from the contract was not reported")
		}
	})
}

// recorder collects what the checks report, to test the checks themselves.
type recorder struct{ errors, logs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
