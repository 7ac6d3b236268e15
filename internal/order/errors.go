package order

import (
	"errors"
	"fmt"
)

// Code classifies a domain error so the edge (GraphQL, signing page) can answer it once, uniformly.
type Code string

const (
	CodeInvalid      Code = "INVALID_INPUT"   // the request breaks a rule; nothing was changed
	CodeNotFound     Code = "NOT_FOUND"       // no such thing visible to the caller
	CodeConflict     Code = "CONFLICT"        // the thing is not in a state that allows the change
	CodeUnauthorized Code = "UNAUTHORIZED"    // missing or bad credentials
	CodeForbidden    Code = "FORBIDDEN"       // the credentials may not do this
	CodeUnavailable  Code = "UNAVAILABLE"     // a dependency failed; retrying may help
	CodeNotImpl      Code = "NOT_IMPLEMENTED" // the field's behaviour is not built yet
)

// Error is a user-facing error: its message names the field and the rule and is safe to show.
type Error struct {
	Code    Code
	Message string
	// Field is the input path an invalid-input error is about, when known.
	Field string
	// FieldFromPath asks the edge to name the field by the path it has (a scalar's coercion does not
	// know which field it is decoding).
	FieldFromPath bool
}

func (e *Error) Error() string { return e.Message }

// Invalid reports a broken input rule: field is the input path (e.g. "signatories[1].signingSequence").
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Code: CodeInvalid, Message: msg, Field: field}
}

// InvalidValue reports a value a scalar cannot decode; the edge prefixes the field's path.
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

// NotImplemented reports a field whose behaviour belongs to later work.
func NotImplemented(field string) *Error {
	return &Error{Code: CodeNotImpl, Message: "not implemented yet: " + field}
}

// AsError returns the domain error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
