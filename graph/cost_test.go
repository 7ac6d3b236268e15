package graph

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esign/schema/schematest"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"esign/internal/limits"
	"esign/internal/order"
	"esign/schema"
)

func testSchema(t testing.TB) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(schema.Source()...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testCostModel(t testing.TB) *costModel {
	t.Helper()
	names, err := order.Timezones()
	if err != nil {
		t.Fatal(err)
	}
	return newCostModel(testSchema(t), len(names))
}

// estimate validates query against the schema and prices its one operation.
func estimate(t testing.TB, s *ast.Schema, m *costModel, query string, vars map[string]any) opCost {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(s, query, rules.NewDefaultRules())
	if len(errs) > 0 {
		t.Fatalf("query does not validate: %v", errs)
	}
	return m.estimate(doc.Operations[0], doc.Fragments, vars)
}

// sdkDocuments are the official SDK's operation documents by "package/operation".
func sdkDocuments(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, op := range schematest.SDKOperations(t) {
		out[op.Package+"/"+op.Operation] = op.Document
	}
	return out
}

// TestSDKOperationsCost prices every operation of the official SDK and requires each to pass at the
// default limits: signatureOrderWithDocuments and closeSignatureOrder (documents with blob) included,
// and signatureOrders at the largest page.
func TestSDKOperationsCost(t *testing.T) {
	s, m := testSchema(t), testCostModel(t)
	d := limits.DefaultGraphQL
	docs := sdkDocuments(t)
	for _, name := range []string{"application-viewer/signatureOrderWithDocuments", "application-viewer/closeSignatureOrder",
		"application-viewer/signatureOrders", "signatory-viewer/viewer"} {
		if docs[name] == "" {
			t.Errorf("the SDK has no operation %s", name)
		}
	}
	for name, doc := range docs {
		c := estimate(t, s, m, doc, map[string]any{"first": json.Number("100")})
		t.Logf("%-60s complexity %9d fields %3d document copies %d", name, c.Complexity, c.Fields, c.DocumentCopies)
		if c.Complexity > int64(d.MaxComplexity) || c.Fields > d.MaxFields ||
			c.DocumentCopies*int64(base64.StdEncoding.EncodedLen(d.MaxDocumentBytes)) > d.MaxResponseBytes {
			t.Errorf("%s is refused at the default limits: %+v", name, c)
		}
	}
}

func TestCostRefusesFloods(t *testing.T) {
	s, m := testSchema(t), testCostModel(t)
	d := limits.DefaultGraphQL
	aliases := func(n int, sel string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: %s", i, sel)
		}
		return b.String() + "}"
	}
	blobFlood := estimate(t, s, m, aliases(150, `signatureOrder(id: "x") { documents { ... on PdfDocument { blob } } }`), nil)
	if blobFlood.DocumentCopies != 150 || blobFlood.DocumentCopies*int64(base64.StdEncoding.EncodedLen(d.MaxDocumentBytes)) <= d.MaxResponseBytes {
		t.Errorf("150 aliases of documents{blob}: %+v, want 150 copies over the response bytes limit", blobFlood)
	}
	fanOut := estimate(t, s, m, `{ signatureOrder(id: "x") { signatories { signatureOrder { signatories { signatureOrder { signatories { id } } } } } } }`, nil)
	if fanOut.Complexity <= int64(d.MaxComplexity) {
		t.Errorf("three-level fan-out costs %d, under the limit %d", fanOut.Complexity, d.MaxComplexity)
	}
	zones := estimate(t, s, m, aliases(1999, "timezones"), nil)
	if zones.Fields <= d.MaxFields || zones.Complexity <= int64(d.MaxComplexityAnonymous) {
		t.Errorf("timezones x1999: %+v, want over the field limit %d and the anonymous complexity %d", zones, d.MaxFields, d.MaxComplexityAnonymous)
	}
	// The same fragment spread twice counts twice: a fragment is no way around the count.
	twice := estimate(t, s, m, `{ ...Z ...Z } fragment Z on Query { timezones }`, nil)
	if want := 2 * (1 + int64(m.bounds["Query.timezones"])); twice.Fields != 2 || twice.Complexity != want {
		t.Errorf("fragment spread twice: %+v, want 2 fields and complexity %d", twice, want)
	}
}

// TestCostBoundsCoverSchema keeps the bounds table complete: every list (or connection) field of the
// schema has an explicit bound, so none is priced by the fallback.
func TestCostBoundsCoverSchema(t *testing.T) {
	s, m := testSchema(t), testCostModel(t)
	for _, def := range s.Types {
		if strings.HasPrefix(def.Name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Elem == nil && !strings.HasSuffix(f.Type.Name(), "Connection") {
				continue
			}
			key := def.Name + "." + f.Name
			if _, ok := m.bounds[key]; !ok && key != "Application.signatureOrders" {
				t.Errorf("list field %s has no bound in newCostModel", key)
			}
		}
	}
}

// TestIntrospectionWithoutCredentials: GraphiQL's full introspection query (graphql-js
// getIntrospectionQuery, every option on) passes the anonymous budget: the page loads its schema
// before a key is typed in.
func TestIntrospectionWithoutCredentials(t *testing.T) {
	q, err := os.ReadFile(filepath.Join("testdata", "introspection.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	c := estimate(t, testSchema(t), testCostModel(t), string(q), nil)
	t.Logf("introspection: %+v", c)
	if c.Complexity > int64(limits.DefaultGraphQL.MaxComplexityAnonymous) || c.Fields > limits.DefaultGraphQL.MaxFieldsAnonymous {
		t.Errorf("introspection is refused without credentials: %+v", c)
	}
}

// TestEstimateNotUnderTheAnswer runs operations through the real handler and checks that the
// estimate is never below the number of fields in the answer (each JSON member counts one).
func TestEstimateNotUnderTheAnswer(t *testing.T) {
	q, err := os.ReadFile(filepath.Join("testdata", "introspection.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	names, _ := order.Timezones()
	h := NewHandler(&Resolver{TimezoneNames: names, Log: slog.New(slog.DiscardHandler)}, limits.GraphQL{}, nil)
	s, m := testSchema(t), testCostModel(t)
	for _, query := range []string{string(q), "{ timezones }", `{ __type(name: "SignatureOrder") { name fields { name args { name } type { name ofType { name ofType { name } } } } } }`} {
		body, _ := json.Marshal(map[string]any{"query": query})
		req := httptest.NewRequest("POST", "/v1/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var answer struct {
			Data   any
			Errors []any
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || len(answer.Errors) > 0 {
			t.Fatalf("%.40s: %v %s", query, err, rec.Body.Bytes())
		}
		got, est := answerSize(answer.Data), estimate(t, s, m, query, nil).Complexity
		t.Logf("%.40q: answer %d values, estimate %d", query, got, est)
		if est < int64(got) {
			t.Errorf("%.40s: estimate %d under the answer's %d values", query, est, got)
		}
	}
}

// answerSize counts object members and list elements.
func answerSize(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += 1 + answerSize(e)
		}
	case []any:
		for _, e := range x {
			n += max(answerSize(e), 1)
		}
	}
	return n
}

// BenchmarkIntrospectionEstimate prices GraphiQL's introspection query, which any caller may send
// without credentials: the price of pricing it is paid on every such request.
func BenchmarkIntrospectionEstimate(b *testing.B) {
	q, err := os.ReadFile(filepath.Join("testdata", "introspection.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	s, m := testSchema(b), testCostModel(b)
	doc, errs := gqlparser.LoadQueryWithRules(s, string(q), rules.NewDefaultRules())
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.estimate(doc.Operations[0], doc.Fragments, nil)
	}
}
