package graph

import (
	"context"
	"sync"
	"sync/atomic"

	"esign/internal/fault"
	"esign/internal/signing"
)

type ctxKey int

const requestStateKey ctxKey = 0

// Caller is who sent the request, as the HTTP edge found out: an application (HTTP Basic), a
// signatory (Signatory-Token), or why neither.
type Caller struct {
	App     *signing.Principal
	AuthErr error // the answer for resolvers that need an application when App is nil
	// Signatory is set for a valid Signatory-Token; SignatoryTokenGiven also for an invalid one.
	Signatory           *signing.SignatoryPrincipal
	SignatoryTokenGiven bool
	// Batch is set for a valid batch signatory token (given in the same header).
	Batch *signing.BatchPrincipal
}

// requestState is per HTTP request: the caller and document bytes already in hand.
type requestState struct {
	Caller

	mu    sync.Mutex
	bytes map[string]signing.DocumentBytes // by document id
	// documentOrders are the orders whose document contents went into the answer (blob,
	// originalBlob, signatures): a kept Idempotency-Key answer must be deleted with them.
	documentOrders map[string]bool

	idempotencyKey string      // the Idempotency-Key header, checked
	replayed       atomic.Bool // the answer is a stored one
}

// WithCaller attaches the caller to the request's context (introspection needs no caller at all).
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, requestStateKey, &requestState{Caller: c,
		bytes: map[string]signing.DocumentBytes{}, documentOrders: map[string]bool{}})
}

func state(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey).(*requestState)
	return st
}

// caller returns the authenticated application or "Unauthorized access".
func caller(ctx context.Context) (signing.Principal, error) {
	st := state(ctx)
	if st == nil || st.App == nil {
		if st != nil && st.AuthErr != nil {
			return signing.Principal{}, st.AuthErr
		}
		return signing.Principal{}, fault.Unauthorized()
	}
	return *st.App, nil
}

// signatoryCaller returns the signatory of a valid Signatory-Token, or "Unauthorized access".
func signatoryCaller(ctx context.Context) (signing.SignatoryPrincipal, error) {
	st := state(ctx)
	if st == nil || st.Signatory == nil {
		return signing.SignatoryPrincipal{}, fault.Unauthorized()
	}
	return *st.Signatory, nil
}

// rememberBytes keeps document bytes read for this request (closeSignatureOrder answers with documents
// it has already deleted).
func rememberBytes(ctx context.Context, bytes map[string]signing.DocumentBytes) {
	st := state(ctx)
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for id, b := range bytes {
		st.bytes[id] = b
	}
}

// answerHoldsDocuments records that the answer holds contents of the order's documents.
func answerHoldsDocuments(ctx context.Context, orderID string) {
	st := state(ctx)
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.documentOrders[orderID] = true
}

// ordersInAnswer lists the orders answerHoldsDocuments recorded.
func ordersInAnswer(ctx context.Context) []string {
	st := state(ctx)
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := make([]string, 0, len(st.documentOrders))
	for id := range st.documentOrders {
		ids = append(ids, id)
	}
	return ids
}

func rememberedBytes(ctx context.Context, documentID string) (signing.DocumentBytes, bool) {
	st := state(ctx)
	if st == nil {
		return signing.DocumentBytes{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.bytes[documentID]
	return b, ok
}
