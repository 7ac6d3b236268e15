package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/internal/fault"
	"esign/internal/limits"
)

// decodeLimits are the bounds of reading one request body, chosen by who sent it.
type decodeLimits struct {
	Authenticated bool
	MaxBodyBytes  int64
	MaxJSONValues int
	MaxJSONDepth  int
}

func decodeLimitsFor(l limits.GraphQL, a *admission) decodeLimits {
	if a != nil && !a.authenticated {
		return decodeLimits{MaxBodyBytes: l.MaxBodyBytesAnonymous, MaxJSONValues: l.MaxJSONValuesAnonymous, MaxJSONDepth: l.MaxJSONDepth}
	}
	return decodeLimits{Authenticated: true, MaxBodyBytes: l.MaxBodyBytes, MaxJSONValues: l.MaxJSONValues, MaxJSONDepth: l.MaxJSONDepth}
}

// decodeRequest turns a request body into gqlgen's parameters. The body's values are counted in one
// streaming pass first, so a body of many small values is refused before any map or slice is built
// for it. Errors are safe to show: they never quote the body (which can carry documents).
func decodeRequest(body []byte, lim decodeLimits) (*graphql.RawParams, error) {
	if int64(len(body)) > lim.MaxBodyBytes {
		return nil, fmt.Errorf("request body is %d bytes, more than the limit of %d bytes", len(body), lim.MaxBodyBytes)
	}
	if err := limits.CheckJSON(body, lim.MaxJSONValues, lim.MaxJSONDepth); err != nil {
		var tooLarge *limits.JSONTooLargeError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("request body: %w", err)
		}
		return nil, errNotRequestObject
	}
	var params graphql.RawParams
	// json v2 (the Go team's experiment, the future encoding/json/v2) parses in one pass; v1 validates
	// the whole body first and decodes large strings rune by rune, which was half the time of a
	// 20 MB upload.
	if err := jsonv2.Unmarshal(body, &params); err != nil {
		return nil, errNotRequestObject
	}
	// gqlgen expects numbers as json.Number (a json.Decoder with UseNumber would copy the whole body
	// once more, and bodies carry documents).
	numbersAsJSONNumber(params.Variables)
	return &params, nil
}

var errNotRequestObject = errors.New("the request body is not a JSON object {query, variables, operationName}")

// allowAuthAttempt refuses, with 429 and without looking at the credentials, a request from an
// address that has failed authentication too often lately: one address cannot make the server check
// credentials at any rate.
func (h *Handler) allowAuthAttempt(w http.ResponseWriter, r *http.Request, ip, clientID string) bool {
	if ok, wait := h.failedByIP.Allow(ip); !ok {
		h.refuseAuth(w, r, "this address", ip, clientID, wait)
		return false
	}
	return true
}

// authFailed counts and logs one failed authentication, and answers 429 instead of 401 (reporting
// true) once the client id has failed too often lately. The client id's limit is applied only to
// wrong secrets: its owner, who has the right one, is never locked out by someone who knows the
// (non-secret) client id, and a 256-bit secret cannot be guessed at any rate anyway. The secret is
// never logged: the client id and the address are what an operator needs to find the caller.
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request, kind, ip, clientID string) bool {
	h.failedByIP.Take(ip)
	h.log.WarnContext(r.Context(), "authentication failed", "credential", kind, "client_id", clientID, "ip", ip)
	if clientID == "" {
		return false
	}
	ok, wait := h.failedByID.Allow(clientID)
	h.failedByID.Take(clientID)
	if !ok {
		h.refuseAuth(w, r, "this client id", ip, clientID, wait)
		return true
	}
	return false
}

func (h *Handler) refuseAuth(w http.ResponseWriter, r *http.Request, what, ip, clientID string, wait time.Duration) {
	h.log.WarnContext(r.Context(), "authentication refused: too many failures", "client_id", clientID, "ip", ip, "retry_after", wait.String())
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, &fault.Error{Code: fault.CodeUnauthorized, Message: fmt.Sprintf(
		"too many failed authentications from %s: at most %d, then one every %s; retry in %d s",
		what, h.limits.AuthFailureBurst, h.limits.AuthFailureEvery, secs)})
}

// expensiveMutations handle documents (decrypt, inspect, seal or store them): they run under the
// per-application concurrency limit.
var expensiveMutations = map[string]bool{
	"createSignatureOrder": true, "sign": true, "signActingAs": true, "closeSignatureOrder": true,
	"cleanupSignatureOrder": true, "validateDocument": true,
}

// admit runs an expensive operation only when its application has a free slot: at most
// PerAppConcurrency at once, with a short wait, then a retryable UNAVAILABLE error. The slots are per
// application, so one application's burst queues behind itself and not in front of the others.
func (h *Handler) admit(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	a := admissionOf(ctx)
	if a == nil || a.appKey == "" || !graphql.HasOperationContext(ctx) || !h.isExpensive(ctx, a) {
		return next(ctx)
	}
	release, err := h.expensive.Acquire(ctx, a.appKey)
	if err != nil {
		var busy *limits.BusyError
		if errors.As(err, &busy) {
			return &graphql.Response{Errors: gqlerror.List{{Message: busy.Error(),
				Extensions: map[string]any{"code": string(fault.CodeUnavailable)}}}}
		}
		return &graphql.Response{Errors: gqlerror.List{{Message: "the request was cancelled or took too long"}}}
	}
	defer release()
	return next(ctx)
}

func (h *Handler) isExpensive(ctx context.Context, a *admission) bool {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return false
	}
	if oc.Operation.Operation == ast.Query {
		return a.heavy
	}
	// The root fields as the executor will run them: through fragments (a mutation spread from
	// "fragment F on Mutation" is no way around the limit) and after @skip/@include. The executor
	// collects the same set, from the same cache.
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"}) {
		if expensiveMutations[f.Name] {
			return true
		}
	}
	return false
}
