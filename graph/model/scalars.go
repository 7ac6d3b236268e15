package model

import (
	"encoding/base64"
	"io"
	"strconv"
	"time"

	"esign/internal/fault"

	"github.com/99designs/gqlgen/graphql"
)

// Blob is binary data, sent and received as canonical standard base64 with padding (the Node SDK turns
// a blob into a Buffer only when it re-encodes to the same string).
type Blob []byte

// UnmarshalGQL accepts only canonical padded standard base64.
func (b *Blob) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fault.InvalidValue("a Blob must be a base64 string")
	}
	data, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return fault.InvalidValue("a Blob must be standard base64 with padding")
	}
	*b = data
	return nil
}

// MarshalGQL writes the blob as a JSON string of padded standard base64, streamed without an
// intermediate copy of the encoded text.
func (b Blob) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, `"`)
	enc := base64.NewEncoder(base64.StdEncoding, w)
	_, _ = enc.Write(b)
	_ = enc.Close()
	_, _ = io.WriteString(w, `"`)
}

// dateTimeLayout is ISO-8601 in UTC with milliseconds, as JavaScript's Date.toISOString writes it.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalDateTime writes an ISO-8601 timestamp in UTC.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(dateTimeLayout)))
	})
}

// UnmarshalDateTime reads an ISO-8601 timestamp with a zone (Z or an offset).
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fault.InvalidValue("a DateTime must be an ISO-8601 string")
	}
	t, err := ParseISOTime(s)
	if err != nil {
		return time.Time{}, fault.InvalidValue("a DateTime must be ISO-8601 with a zone, e.g. 2025-01-31T12:00:00Z")
	}
	return t, nil
}

// MarshalDate writes a Date the same way as a DateTime (the contract only says ISO-8601).
func MarshalDate(t time.Time) graphql.Marshaler { return MarshalDateTime(t) }

// UnmarshalDate reads a Date the same way as a DateTime.
func UnmarshalDate(v any) (time.Time, error) { return UnmarshalDateTime(v) }

// ParseISOTime parses `yyyy-MM-ddTHH:mm:ss[.fff](Z|±hh:mm)`.
func ParseISOTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}
