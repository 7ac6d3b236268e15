package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"esign/internal/fault"
	"esign/internal/limits"
	"esign/internal/order"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// OperationObserver records each operation's outcome and duration (metrics).
type OperationObserver interface {
	ObserveOperation(operation, outcome string, d time.Duration)
}

// Handler serves POST /v1/graphql: it authenticates the caller (HTTP Basic), enforces the limits, runs
// the operation and answers every error in the contract's shape.
type Handler struct {
	exec     *handler.Server
	service  *signing.Service
	log      *slog.Logger
	limits   limits.GraphQL // with defaults applied
	observer OperationObserver

	expensive  *limits.Concurrency // per application
	failedByIP *limits.Buckets     // failed authentication per client address
	failedByID *limits.Buckets     // failed authentication per client id
}

// NewHandler builds the GraphQL handler. Only JSON POST is accepted: no GET or multipart
// operations, so a browser form cannot run a mutation (CSRF).
func NewHandler(r *Resolver, lim limits.GraphQL, observer OperationObserver) *Handler {
	lim = lim.WithDefaults()
	es := NewExecutableSchema(Config{Resolvers: r})
	exec := handler.New(es)
	bucket := func() *limits.Buckets {
		return &limits.Buckets{Rate: 1 / lim.AuthFailureEvery.Seconds(), Burst: lim.AuthFailureBurst, MaxKeys: 100_000}
	}
	h := &Handler{exec: exec, service: r.Service, log: r.Log, limits: lim, observer: observer,
		expensive:  limits.NewConcurrency(lim.PerAppConcurrency, lim.ConcurrencyWait),
		failedByIP: bucket(), failedByID: bucket()}
	exec.AddTransport(jsonPOST{h: h})
	exec.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	exec.SetParserTokenLimit(lim.MaxParserTokens)
	exec.Use(extension.Introspection{}) // the API is public: its schema is no secret
	cost := costLimit{model: newCostModel(es.Schema(), len(r.TimezoneNames)), limits: lim}
	exec.Use(cost)
	exec.Use(depthLimit{max: lim.MaxDepth})
	exec.Use(newInputLimits()) // order.Limits on every argument, before any resolver runs
	exec.Use(&emptyEnumIsNull{})
	exec.AroundFields(cost.countResponseBytes)
	exec.SetErrorPresenter(h.presentError)
	exec.SetRecoverFunc(func(ctx context.Context, v any) error {
		ref := newReference()
		h.log.ErrorContext(ctx, "panic in resolver", "reference", ref, "panic", fmt.Sprint(v))
		return &gqlerror.Error{Message: "internal error (reference " + ref + ")"}
	})
	// A middleware registered later wraps the ones before it: idempotent outside admit, so a replay
	// needs no slot and a busy answer (UNAVAILABLE, retryable) is never kept.
	exec.AroundResponses(h.observe)
	exec.AroundResponses(h.admit)
	exec.AroundResponses(h.idempotent)
	return h
}

// ServeHTTP authenticates from the headers alone, before the transport reads the body: what the
// credentials turn out to be decides how large a body and how costly an operation may be.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var c Caller
	ctx := r.Context()
	ip := limits.ClientIP(r, h.limits.TrustedProxies)
	ctx = signing.WithActor(ctx, order.Actor{IP: ip, UserAgent: r.UserAgent()}) // a signatory's acts name their request
	var tenantID string                                                         // set for a valid tenant key
	if id, secret, ok := r.BasicAuth(); ok {
		if !h.allowAuthAttempt(w, r, ip, id) {
			return
		}
		if tenant.IsTenantClientID(id) {
			// A tenant key never becomes c.App: application operations answer it "Unauthorized access".
			tp, err := h.service.AuthenticateTenant(ctx, id, secret)
			switch {
			case err == nil:
				ctx, tenantID = WithTenantCaller(ctx, tp), tp.Tenant.ID
			case isDomainError(err):
				c.AuthErr = err
				if h.authFailed(w, r, "tenant key", ip, id) {
					return
				}
			default:
				c.AuthErr = h.internal(ctx, "authenticate tenant", err)
			}
		} else {
			principal, err := h.service.Authenticate(ctx, id, secret)
			switch {
			case err == nil:
				c.App = &principal
			case isDomainError(err):
				c.AuthErr = err
				if h.authFailed(w, r, "api key", ip, id) {
					return
				}
			default:
				c.AuthErr = h.internal(ctx, "authenticate", err)
			}
		}
	}
	if token := r.Header.Get("Signatory-Token"); token != "" {
		c.SignatoryTokenGiven = true
		if !h.allowAuthAttempt(w, r, ip, "") {
			return
		}
		sp, ok, err := h.service.AuthenticateSignatory(ctx, token)
		var bp signing.BatchPrincipal
		batch := false
		if err == nil && !ok {
			// A batch signatory's token comes in the same header; the two kinds cannot collide.
			bp, batch, err = h.service.AuthenticateBatchSignatory(ctx, token)
		}
		switch {
		case err != nil:
			c.AuthErr = h.internal(ctx, "authenticate signatory", err)
		case batch:
			c.Batch = &bp
		case !ok:
			h.authFailed(w, r, "signatory token", ip, "")
		case ok:
			if v := r.Header.Get("Signatory-Validation"); v != "" {
				// An invalid validation leaves the signatory unvalidated: the viewer is then
				// UnvalidatedSignatoryViewer and the documents stay hidden.
				if validated, err := h.service.ValidateViewer(ctx, sp, v); err == nil {
					sp = validated
				} else if !isDomainError(err) {
					c.AuthErr = h.internal(ctx, "validate signatory", err)
				}
			}
			c.Signatory = &sp
		}
	}
	if de, ok := fault.As(c.AuthErr); ok && (de.Code == fault.CodeUnavailable || de.Code == fault.CodeInternal) {
		// The credentials could not be checked (the database or the HSM is down): answer that now,
		// retryable, rather than treat the caller as anonymous and refuse a large body as
		// "without valid credentials" or a query as "Unauthorized access".
		writeError(w, http.StatusOK, de)
		return
	}
	a := &admission{authenticated: c.App != nil || c.Signatory != nil || tenantID != ""}
	switch {
	case c.App != nil:
		a.appKey = "application " + c.App.Application.ID
	case tenantID != "":
		a.appKey = "tenant " + tenantID
	case c.Signatory != nil: // a signatory's work counts against its order (its application's share)
		a.appKey = "order " + c.Signatory.OrderID
	}
	ctx = withAdmission(WithCaller(ctx, c), a)
	st := state(ctx)
	if key, given := r.Header[HeaderIdempotencyKey]; given {
		if len(key) != 1 || !validIdempotencyKey(key[0]) {
			writeError(w, http.StatusBadRequest, &fault.Error{Code: fault.CodeInvalid,
				Field: "Idempotency-Key", Message: "must be one header of 1 to 255 visible ASCII characters (a UUID, for example)"})
			return
		}
		st.idempotencyKey = key[0]
	}
	h.exec.ServeHTTP(&replayHeader{ResponseWriter: w, st: st}, r.WithContext(ctx))
}

func isDomainError(err error) bool {
	_, ok := fault.As(err)
	return ok
}

// presentError is the one place errors are translated for clients: domain errors keep their message,
// GraphQL errors (parse, validation, limits) keep theirs, anything else becomes an opaque reference
// that is logged with the real cause.
func (h *Handler) presentError(ctx context.Context, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		return gqlErr // produced by gqlgen itself: parse, validation, coercion, limits
	}
	path := graphql.GetPath(ctx)
	cause := err
	if gqlErr != nil {
		cause = gqlErr.Err
		if gqlErr.Path != nil {
			path = gqlErr.Path
		}
	}
	if de, ok := fault.As(cause); ok {
		return gqlError(de, path)
	}
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return &gqlerror.Error{Message: "the request was cancelled or took too long", Path: path}
	}
	return gqlError(h.internal(ctx, "resolve", cause), path)
}

// gqlError is a coded error as GraphQL clients get it: "field: message" (the field by the input's
// path when only the edge knows it) and the code as the "code" extension.
func gqlError(e *fault.Error, path ast.Path) *gqlerror.Error {
	msg := e.Error()
	if e.FieldFromPath && len(path) > 0 {
		msg = path.String() + ": " + msg
	}
	return &gqlerror.Error{Message: msg, Path: path, Extensions: map[string]any{"code": string(e.Code)}}
}

// internal logs an unexpected error under a fresh reference and returns the safe answer for it:
// UNAVAILABLE, naming the dependency, when a dependency could not be reached (retrying may help),
// else INTERNAL.
func (h *Handler) internal(ctx context.Context, what string, err error) *fault.Error {
	ref := newReference()
	h.log.ErrorContext(ctx, what+" failed", "reference", ref, "err", err)
	if dep := fault.DependencyOf(err); dep != "" {
		return fault.Retryablef("%s is unavailable right now and nothing was changed; retry in a moment (reference %s)", dep, ref)
	}
	return fault.Internal(ref)
}

func newReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (h *Handler) observe(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if h.observer != nil && graphql.HasOperationContext(ctx) {
		name := "unknown"
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
			name = string(oc.Operation.Operation) + " " + topField(oc.Operation)
		}
		outcome := "ok"
		if resp != nil && len(resp.Errors) > 0 {
			outcome = "error"
		}
		h.observer.ObserveOperation(name, outcome, time.Since(start))
	}
	return resp
}

// topField names an operation by its first root field (clients' operation names are free text, and
// a metric label must stay bounded).
func topField(op *ast.OperationDefinition) string {
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			return f.Name
		}
	}
	return "unknown"
}

// depthLimit rejects operations nested deeper than max selection sets.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); depth > d.max {
		return gqlerror.Errorf("query is nested %d levels deep, more than the limit of %d", depth, d.max)
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, fragments ast.FragmentDefinitionList, seen int) int {
	if seen > 64 { // fragment cycles are rejected by validation; this only bounds the walk
		return seen
	}
	deepest := 0
	for _, sel := range set {
		var depth int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				depth = 1 + selectionDepth(s.SelectionSet, fragments, seen+1)
			}
		case *ast.InlineFragment:
			depth = selectionDepth(s.SelectionSet, fragments, seen+1)
		case *ast.FragmentSpread:
			if f := fragments.ForName(s.Name); f != nil {
				depth = selectionDepth(f.SelectionSet, fragments, seen+1)
			}
		}
		deepest = max(deepest, depth)
	}
	return deepest
}

// jsonPOST is the only transport: application/json POST bodies, read under a size limit, and
// answers written without echoing the request (gqlgen's stock transport quotes the whole body in
// decoding errors, which would put document bytes into responses and logs).
type jsonPOST struct{ h *Handler }

func (jsonPOST) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (t jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{{Message: msg}}))
	}
	lim := decodeLimitsFor(t.h.limits, admissionOf(ctx))
	limit, who := lim.MaxBodyBytes, ""
	if !lim.Authenticated {
		who = " for a request without valid credentials"
	}
	if r.ContentLength > limit {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is %d bytes, more than the limit of %d bytes%s", r.ContentLength, limit, who))
		return
	}
	start := graphql.Now()
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is more than the limit of %d bytes%s", limit, who))
			return
		}
		fail(http.StatusBadRequest, "the request body could not be read")
		return
	}
	params, err := decodeRequest(body, lim)
	if err != nil {
		status := http.StatusBadRequest
		var tooLarge *limits.JSONTooLargeError
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		fail(status, err.Error())
		return
	}
	body = nil // the decoded variables hold what is needed; let the raw body be collected
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

func numbersAsJSONNumber(v any) any {
	switch x := v.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]any:
		for k, e := range x {
			x[k] = numbersAsJSONNumber(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersAsJSONNumber(e)
		}
	}
	return v
}

// readBody reads the whole body into one allocation when the length is known.
func readBody(r io.Reader, contentLength int64) ([]byte, error) {
	if contentLength <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, contentLength)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	// A client that sent more than it announced is cut off here rather than silently truncated.
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, errors.New("body longer than Content-Length")
	}
	return buf, nil
}

// writeResponse streams {"data":…,"errors":…} without re-encoding the (possibly large) data.
func writeResponse(w io.Writer, resp *graphql.Response) {
	_, _ = io.WriteString(w, `{"data":`)
	if len(resp.Data) == 0 {
		_, _ = io.WriteString(w, "null")
	} else {
		_, _ = w.Write(resp.Data)
	}
	if len(resp.Errors) > 0 {
		_, _ = io.WriteString(w, `,"errors":`)
		errs, _ := json.Marshal(resp.Errors)
		_, _ = w.Write(errs)
	}
	if len(resp.Extensions) > 0 {
		_, _ = io.WriteString(w, `,"extensions":`)
		ext, _ := json.Marshal(resp.Extensions)
		_, _ = w.Write(ext)
	}
	_, _ = io.WriteString(w, "}")
}

// writeError answers a request refused before GraphQL runs, in the GraphQL error shape.
func writeError(w http.ResponseWriter, status int, e *fault.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeResponse(w, errorResponse(e))
}
