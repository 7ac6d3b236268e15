package graph

import (
	"context"
	"sync"

	"esign/internal/order"
	"esign/internal/signing"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	requestStateKey
)

// requestState is per HTTP request: who is calling (or why not) and document bytes already in hand.
type requestState struct {
	principal *signing.Principal
	authErr   error

	mu    sync.Mutex
	bytes map[string]signing.DocumentBytes // by document id
}

// WithCaller attaches the outcome of authenticating the request: a principal, or the error to answer
// any resolver that needs one (introspection needs none).
func WithCaller(ctx context.Context, p *signing.Principal, authErr error) context.Context {
	return context.WithValue(ctx, requestStateKey, &requestState{principal: p, authErr: authErr, bytes: map[string]signing.DocumentBytes{}})
}

func state(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey).(*requestState)
	return st
}

var errUnauthorized = &order.Error{Code: order.CodeUnauthorized, Message: "Unauthorized access"}

// caller returns the authenticated application or "Unauthorized access".
func caller(ctx context.Context) (signing.Principal, error) {
	st := state(ctx)
	if st == nil || st.principal == nil {
		if st != nil && st.authErr != nil {
			return signing.Principal{}, st.authErr
		}
		return signing.Principal{}, errUnauthorized
	}
	return *st.principal, nil
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
