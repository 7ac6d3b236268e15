// Package fault is the error vocabulary every layer shares: a coded *Error that is safe to show
// (its Field names the input it is about, its Message the rule), and *Unavailable, the dependency
// that could not be reached. Domain and service code return them; each edge (GraphQL, the signing
// page, later REST) formats them once, in one place, and nothing else reaches a caller.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an error so an edge can answer it uniformly (a GraphQL extension code, an HTTP
// status).
type Code string

const (
	CodeInvalid      Code = "INVALID_INPUT"   // the request breaks a rule; nothing was changed
	CodeNotFound     Code = "NOT_FOUND"       // no such thing visible to the caller
	CodeConflict     Code = "CONFLICT"        // the thing is not in a state that allows the change
	CodeUnauthorized Code = "UNAUTHORIZED"    // missing or bad credentials
	CodeForbidden    Code = "FORBIDDEN"       // the credentials may not do this
	CodeUnavailable  Code = "UNAVAILABLE"     // a dependency failed; retrying may help
	CodeNotImpl      Code = "NOT_IMPLEMENTED" // the field's behaviour is not built yet
	CodeInternal     Code = "INTERNAL"        // anything unexpected; the caller gets a reference only
)

// Error is a user-facing error: safe to show, naming the field and the rule.
type Error struct {
	Code Code
	// Field is the input path the error is about (e.g. "signatories[1].signingSequence"), or "".
	Field string
	// Message is the rule that was broken, without the field.
	Message string
	// FieldFromPath asks the edge to name the field by the path it has (a scalar's coercion does not
	// know which field it is decoding).
	FieldFromPath bool
}

// Error is the text a person reads: "field: message", or the message alone.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid reports a broken input rule about field (an input path; "" when it concerns no one field).
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// InvalidValue reports a value a scalar cannot decode; the edge names the field by its path.
func InvalidValue(format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf(format, args...), FieldFromPath: true}
}

// Conflictf reports a change the current state does not allow.
func Conflictf(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports something unknown to the caller.
func NotFoundf(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Forbiddenf reports an action the caller's credentials do not allow.
func Forbiddenf(format string, args ...any) *Error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// Retryablef reports a temporary refusal (busy, a moved version, a dependency that timed out):
// nothing was changed and the same request may succeed later.
func Retryablef(format string, args ...any) *Error {
	return &Error{Code: CodeUnavailable, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized is the one answer to missing, unknown or wrong credentials: it never says which.
func Unauthorized() *Error {
	return &Error{Code: CodeUnauthorized, Message: "Unauthorized access"}
}

// NotImplemented reports a field whose behaviour belongs to later work.
func NotImplemented(field string) *Error {
	return &Error{Code: CodeNotImpl, Message: "not implemented yet: " + field}
}

// Internal is the answer to an unexpected failure: only a reference the operator finds in the log.
func Internal(reference string) *Error {
	return &Error{Code: CodeInternal, Message: "internal error (reference " + reference + ")"}
}

// Within puts an invalid-input error under the input path prefix (a verifier reports "jwt"; the
// caller knows it was "evidence.oidc.jwt"). Other errors are returned unchanged.
func Within(prefix string, err error) error {
	e, ok := As(err)
	if !ok || e.Code != CodeInvalid {
		return err
	}
	nested := *e
	nested.Field = prefix
	if e.Field != "" {
		nested.Field = prefix + "." + e.Field
	}
	return &nested
}

// As returns the coded error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Unavailable is a dependency that could not be reached: nothing was changed, and retrying may help.
// Adapters declare their ErrUnavailable as one; errors.Is against that value still works.
type Unavailable struct {
	Dependency string // as a person reads it: "the database", "document storage", ...
}

func (u *Unavailable) Error() string { return u.Dependency + " is unavailable" }

// DependencyOf names the unavailable dependency that err wraps, or "" when it wraps none.
func DependencyOf(err error) string {
	var u *Unavailable
	if errors.As(err, &u) {
		return u.Dependency
	}
	return ""
}
