package graph

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"esign/graph/model"
	"esign/internal/limits"
)

// TestExpensiveOperationsLimitedPerApplication: with one slot per application, application A's second
// closeSignatureOrder waits the bounded wait and gets a retryable UNAVAILABLE error naming the limit,
// while application B's runs at once.
func TestExpensiveOperationsLimitedPerApplication(t *testing.T) {
	h := &Handler{expensive: limits.NewConcurrency(1, 20*time.Millisecond)}
	op := func(app, field string, kind ast.Operation) context.Context {
		ctx := withAdmission(context.Background(), &admission{authenticated: true, appKey: "application " + app})
		return graphql.WithOperationContext(ctx, &graphql.OperationContext{Operation: &ast.OperationDefinition{
			Operation: kind, SelectionSet: ast.SelectionSet{&ast.Field{Name: field}}}})
	}
	running, finish := make(chan struct{}), make(chan struct{})
	done := make(chan *graphql.Response)
	go func() {
		done <- h.admit(op("A", "closeSignatureOrder", ast.Mutation), func(context.Context) *graphql.Response {
			close(running)
			<-finish
			return &graphql.Response{}
		})
	}()
	<-running
	ok := func(context.Context) *graphql.Response { return &graphql.Response{} }
	busy := h.admit(op("A", "validateDocument", ast.Mutation), ok)
	if len(busy.Errors) != 1 || busy.Errors[0].Extensions["code"] != "UNAVAILABLE" || !strings.Contains(busy.Errors[0].Message, "at most 1 per application") {
		t.Fatalf("A's second expensive operation: %+v", busy.Errors)
	}
	if resp := h.admit(op("B", "closeSignatureOrder", ast.Mutation), ok); len(resp.Errors) > 0 {
		t.Fatalf("B's operation while A is busy: %v", resp.Errors)
	}
	if resp := h.admit(op("A", "cancelSignatureOrder", ast.Mutation), ok); len(resp.Errors) > 0 {
		t.Fatalf("A's cheap mutation while A is busy: %v", resp.Errors)
	}
	// mutation { ...F } fragment F on Mutation { validateDocument }: a fragment is no way around it.
	spread := op("A", "", ast.Mutation)
	oc := graphql.GetOperationContext(spread)
	oc.Operation.SelectionSet = ast.SelectionSet{&ast.FragmentSpread{Name: "F"}}
	oc.Doc = &ast.QueryDocument{Fragments: ast.FragmentDefinitionList{{Name: "F", TypeCondition: "Mutation",
		SelectionSet: ast.SelectionSet{&ast.Field{Name: "validateDocument"}}}}}
	if resp := h.admit(spread, ok); len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "UNAVAILABLE" {
		t.Fatalf("A's expensive mutation through a fragment while A is busy: %+v", resp.Errors)
	}
	close(finish)
	if resp := <-done; len(resp.Errors) > 0 {
		t.Fatal(resp.Errors)
	}
}

// TestBackEdgeAnswersFromTheLoadedOrder: a signatory's signatureOrder below that order finds it among
// the ancestors' results (no second load), and only the same order.
func TestBackEdgeAnswersFromTheLoadedOrder(t *testing.T) {
	o := &model.SignatureOrder{ID: "o1"}
	sig := &model.Signatory{ID: "s1", OrderID: "o1"}
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Result: o})     // Query.signatureOrder
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Result: []*model.Signatory{sig}}) // SignatureOrder.signatories
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Result: &sig})                    // element 0
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{})                                // Signatory.signatureOrder
	if got := loadedOrder(ctx, "o1"); got != o {
		t.Errorf("loadedOrder(o1) = %v, want the ancestor's order", got)
	}
	if got := loadedOrder(ctx, "o2"); got != nil {
		t.Errorf("loadedOrder(o2) = %v, want nil: another order is loaded, not borrowed", got)
	}
}
