package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/internal/fault"
	"esign/internal/idempotency"
)

// HeaderIdempotencyKey makes a mutation safe to retry: the same request with the same key gets
// the first answer again instead of running twice.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// validIdempotencyKey: 1 to 255 visible ASCII characters (a UUID is a good choice).
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent runs a mutation that carries an Idempotency-Key at most once per key and caller (the
// API key, and the signatory of a Signatory-Token): the first request runs and its answer is kept
// for a day; the same request again gets that answer (marked with Idempotent-Replayed: true);
// another request with the key, or the same one while the first still runs, gets a clear error.
// Answers that say a retry may help (internal errors, unavailable dependencies, cancellation) and
// answers about the credentials (UNAUTHORIZED, FORBIDDEN) are not kept, so the retry runs. An
// answer holding documents is deleted with them.
func (h *Handler) idempotent(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	st := state(ctx)
	if st == nil || st.idempotencyKey == "" || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return next(ctx) // queries change nothing: they always run
	}
	scope := idempotencyScope(st.Caller)
	if scope == "" {
		return next(ctx) // unauthenticated, or credentials that failed: the operation fails on its own
	}
	// The variables are encoded into the hash, not into memory: they can hold 20 MB documents. Map
	// keys come sorted, so the same variables hash alike.
	hasher := sha256.New()
	hasher.Write([]byte(oc.OperationName + "\x00" + oc.RawQuery + "\x00"))
	if err := json.NewEncoder(hasher).Encode(oc.Variables); err != nil {
		return errorResponse(h.internal(ctx, "hash variables", err))
	}
	key := st.idempotencyKey
	state, stored, err := h.service.BeginIdempotent(ctx, scope, key, hasher.Sum(nil))
	if err != nil {
		return errorResponse(h.internal(ctx, "idempotency key", err))
	}
	switch state {
	case idempotency.Replay:
		var resp graphql.Response
		if err := json.Unmarshal(stored, &resp); err != nil {
			return errorResponse(h.internal(ctx, "replay idempotent answer", err))
		}
		st.replayed.Store(true)
		return &resp
	case idempotency.Mismatch:
		return errorResponse(&fault.Error{Code: fault.CodeInvalid,
			Field: "Idempotency-Key", Message: "this key was already used for a different request; use a new key for a new request"})
	case idempotency.InFlight:
		return errorResponse(&fault.Error{Code: fault.CodeConflict,
			Field: "Idempotency-Key", Message: "a request with this key is still running; retry it later to get its answer"})
	}
	resp := next(ctx)
	if !keepable(resp) {
		if err := h.service.AbandonIdempotent(context.WithoutCancel(ctx), scope, key); err != nil {
			h.internal(ctx, "abandon idempotency key", err)
		}
		return resp
	}
	answer, err := json.Marshal(resp)
	if err == nil {
		err = h.service.FinishIdempotent(context.WithoutCancel(ctx), scope, key, answer, ordersInAnswer(ctx), deletedAnswer)
	}
	if err != nil {
		// The mutation ran; its answer goes out, but a retry will be told it is still running
		// until the lease ends.
		h.internal(ctx, "keep idempotent answer", err)
	}
	return resp
}

func errorResponse(e *fault.Error) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{gqlError(e, nil)}}
}

// idempotencyScope is whose key space a request's Idempotency-Key lives in: the API key (not its
// application: a READ_ONLY key must not fetch a READ_WRITE key's answers, and keys are handed to
// different systems), and the signatory of a Signatory-Token. "" when the request is not
// authenticated or its credentials failed; such requests are never kept.
func idempotencyScope(c Caller) string {
	if c.AuthErr != nil {
		return ""
	}
	var parts []string
	if c.App != nil {
		parts = append(parts, "apikey:"+c.App.ClientID)
	}
	if c.Signatory != nil {
		parts = append(parts, "signatory:"+c.Signatory.SignatoryID)
	}
	return strings.Join(parts, " ")
}

// deletedAnswer is kept instead of an answer that held documents deleted before it could be kept
// (closeSignatureOrder without retention deletes them in the same request).
var deletedAnswer = func() []byte {
	b, err := json.Marshal(errorResponse(&fault.Error{Code: fault.CodeConflict,
		Field: "Idempotency-Key", Message: "this request ran, but its answer held documents that are deleted now, so it was not kept; query the signature order for where it stands"}))
	if err != nil {
		panic(err) // a constant answer
	}
	return b
}()

// keepable says whether an answer may be kept for replays: not when trying again may help, and
// not when it is about the credentials (a replay must not outlive a key's rights, nor tell one
// caller what another was refused).
func keepable(resp *graphql.Response) bool {
	if resp == nil {
		return false
	}
	for _, e := range resp.Errors {
		switch code, _ := e.Extensions["code"].(string); code {
		case "", string(fault.CodeInternal), string(fault.CodeUnavailable), string(fault.CodeUnauthorized), string(fault.CodeForbidden):
			return false
		}
	}
	return true
}

// replayHeader marks replayed answers once the operation has run.
type replayHeader struct {
	http.ResponseWriter
	st      *requestState
	written bool
}

func (w *replayHeader) WriteHeader(code int) {
	w.mark()
	w.ResponseWriter.WriteHeader(code)
}

func (w *replayHeader) Write(b []byte) (int, error) {
	w.mark()
	return w.ResponseWriter.Write(b)
}

func (w *replayHeader) mark() {
	if !w.written {
		w.written = true
		if w.st.replayed.Load() {
			w.Header().Set(headerReplayed, "true")
		}
	}
}

func (w *replayHeader) Unwrap() http.ResponseWriter { return w.ResponseWriter }
