package limits

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// JSONTooLargeError says which bound a JSON document went past.
type JSONTooLargeError struct {
	What  string // "values" or "nesting"
	Limit int
}

func (e *JSONTooLargeError) Error() string {
	if e.What == "nesting" {
		return fmt.Sprintf("the JSON is nested more than %d levels deep", e.Limit)
	}
	return fmt.Sprintf("the JSON holds more than %d values (objects, arrays, names, strings, numbers and literals each count one)", e.Limit)
}

// ErrInvalidJSON is returned by CheckJSON for input that is not one well-formed JSON value.
var ErrInvalidJSON = errors.New("not a well-formed JSON value")

// CheckJSON walks data once, without building it, and refuses it when it holds more than maxValues
// values or nests deeper than maxDepth. Decoding into maps and slices costs tens of bytes per value,
// so a body of small values ([0,0,0,…]) turns a few megabytes into gigabytes; counting first makes
// the cost of a refused body one pass with no allocation per value. A string counts one whatever its
// length: the body limit bounds length. Errors: *JSONTooLargeError, ErrInvalidJSON.
func CheckJSON(data []byte, maxValues, maxDepth int) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	values := 0
	for {
		kind := dec.PeekKind()
		if kind == 0 { // end of input or a syntax error: ReadToken says which
			if _, err := dec.ReadToken(); err == io.EOF {
				if values == 0 {
					return ErrInvalidJSON
				}
				return nil
			}
			return ErrInvalidJSON
		}
		if kind != '}' && kind != ']' {
			if values++; values > maxValues {
				return &JSONTooLargeError{What: "values", Limit: maxValues}
			}
		}
		var err error
		switch kind {
		case '{', '[', '}', ']':
			_, err = dec.ReadToken()
			if dec.StackDepth() > maxDepth {
				return &JSONTooLargeError{What: "nesting", Limit: maxDepth}
			}
		default: // a scalar: skipped without copying or unescaping it (strings can be megabytes)
			err = dec.SkipValue()
		}
		if err != nil {
			return ErrInvalidJSON
		}
	}
}
