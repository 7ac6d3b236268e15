// Package idempotency holds the rules of the Idempotency-Key header, whatever edge receives it: how
// long an answer is kept, when a run without an answer counts as dead, and what a key's record
// means for a new request. The store keeps the records; the service encrypts the answers.
package idempotency

import (
	"bytes"
	"time"
)

const (
	// TTL is how long an answer is kept (and a key may not be used for another request).
	TTL = 24 * time.Hour
	// Lease is how long a run without an answer holds its key; after it, the run is taken to have
	// died with its process, and the same request may run again.
	Lease = 5 * time.Minute
)

// State is what a request with a key finds.
type State int

const (
	Started  State = iota // the caller runs the request, then finishes or abandons it
	Replay                // the same request ran before: its answer is returned
	Mismatch              // the key was used with another request
	InFlight              // the same request is running right now
)

// StateOf is what a key's record means for a request: another request, the same one still running,
// or the same one answered (with its answer, which only the same request gets back).
func StateOf(storedHash, response, requestHash []byte) (State, []byte) {
	switch {
	case !bytes.Equal(storedHash, requestHash):
		return Mismatch, nil
	case response == nil:
		return InFlight, nil
	}
	return Replay, response
}
