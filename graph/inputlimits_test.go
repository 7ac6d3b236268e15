package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// runLimited runs an operation through the executor with only the input limits installed: a
// refused operation never reaches a resolver (there is no service behind them here).
func runLimited(t *testing.T, query string, vars map[string]any) string {
	t.Helper()
	exec := executor.New(NewExecutableSchema(Config{Resolvers: &Resolver{}}))
	exec.Use(newInputLimits())
	exec.SetRecoverFunc(func(ctx context.Context, v any) error { return errReachedResolver })
	ctx := graphql.StartOperationTrace(context.Background())
	oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
	if errs != nil {
		return errs.Error()
	}
	handler, ctx := exec.DispatchOperation(ctx, oc)
	resp := handler(graphql.WithOperationContext(ctx, oc))
	if resp == nil || len(resp.Errors) == 0 {
		return ""
	}
	return resp.Errors.Error()
}

type reachedResolver struct{}

func (reachedResolver) Error() string { return "reached a resolver" }

var errReachedResolver = reachedResolver{}

func TestInputLimitsBeforeResolvers(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	acr := make([]any, 21)
	for i := range acr {
		acr[i] = "urn:acr"
	}
	cases := []struct {
		name, query string
		vars        map[string]any
		want        string // "" = passes the limits (and then reaches a resolver)
	}{
		{"a 10 MiB title in a variable", `mutation($in: CreateSignatureOrderInput!) { createSignatureOrder(input: $in) { signatureOrder { id } } }`,
			map[string]any{"in": map[string]any{"title": long(10 << 20), "documents": []any{}}}, "title: must be at most 255 characters"},
		{"a title at the limit", `mutation($in: CreateSignatureOrderInput!) { createSignatureOrder(input: $in) { signatureOrder { id } } }`,
			map[string]any{"in": map[string]any{"title": long(255), "documents": []any{}}}, ""},
		{"a NUL in a literal document title", `mutation { createSignatureOrder(input: {documents: [{pdf: {title: "a\u0000b", blob: "", storageMode: Temporary}}]}) { signatureOrder { id } } }`,
			nil, "documents[0].pdf.title: must not contain control characters"},
		{"too many acr values", `mutation($in: CreateSignatureOrderInput!) { createSignatureOrder(input: $in) { signatureOrder { id } } }`,
			map[string]any{"in": map[string]any{"documents": []any{}, "evidenceProviders": []any{map[string]any{"oidc": map[string]any{
				"name": "n", "domain": "d", "clientID": "c", "audience": "a", "acrValues": acr}}}}}, "evidenceProviders[0].oidc.acrValues: must have at most 20 items, got 21"},
		{"a NUL in a list of strings", `mutation($in: CreateSignatureOrderInput!) { createSignatureOrder(input: $in) { signatureOrder { id } } }`,
			map[string]any{"in": map[string]any{"documents": []any{}, "signatureAppearance": map[string]any{"identifierFromEvidence": []any{"ok", "n\x00"}}}},
			"signatureAppearance.identifierFromEvidence[1]: must not contain control characters"},
		{"a drawn signature's name with a NUL", `mutation($in: SignInput!) { sign(input: $in) { viewer { id } } }`,
			map[string]any{"in": map[string]any{"id": "p", "drawable": map[string]any{"name": "Jane\x00", "image": ""}}}, "drawable.name: must not contain control characters"},
		{"a long authorization code", `mutation { completeCriiptoVerifyEvidenceProvider(input: {code: "` + long(3000) + `", state: "s"}) { jwt } }`,
			nil, "code: must be at most 2048 characters"},
		{"a long login redirect", `mutation($in: StartCriiptoVerifyEvidenceProviderInput!) { startCriiptoVerifyEvidenceProvider(input: $in) { __typename } }`,
			map[string]any{"in": map[string]any{"id": "p", "acrValue": "a", "redirectUri": "https://x.example/" + long(3000), "stage": "SIGN"}}, "redirectUri: must be at most 2048"},
		{"a long rejection reason", `mutation { rejectSignatureOrder(input: {dummy: true, reason: "` + long(2001) + `"}) { viewer { id } } }`,
			nil, "reason: must be at most 2000 characters"},
		{"a multi-line rejection reason passes", `mutation { rejectSignatureOrder(input: {dummy: true, reason: "one\ntwo"}) { viewer { id } } }`, nil, ""},
		{"a long id argument", `query($id: ID!) { signatureOrder(id: $id) { id } }`, map[string]any{"id": long(300)}, "id: must be at most 255 characters"},
		{"a long argument inside a fragment", `query { viewer { ...F } } fragment F on Application { signatureOrders(after: "` + long(3000) + `") { totalCount } }`,
			nil, "after: must be at most 2048 characters"},
		{"introspection", `query { __type(name: "` + long(300) + `") { name } }`, nil, "name: must be at most 255 characters"},
		{"webhook log range", `query { viewer { ... on Application { webhookLogs(from: "` + long(65) + `", to: "x") { url } } } }`, nil, "from: must be at most 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runLimited(t, c.query, c.vars)
			if c.want == "" {
				if strings.Contains(got, "must be at most") || strings.Contains(got, "must not contain") || strings.Contains(got, "must have at most") {
					t.Errorf("refused: %s", got)
				}
				return
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("errors = %q, want %q", got, c.want)
			}
			if strings.Contains(got, "reached a resolver") {
				t.Errorf("a resolver ran: %s", got)
			}
		})
	}
}
