// Package blob stores opaque, already-encrypted bytes under string keys. Backends: fs (a local folder,
// the embedded default) and azure (Azure Blob Storage). Every backend passes the conformance suite in
// blobtest.
package blob

import (
	"context"
	"errors"

	"esign/internal/fault"
)

// ErrNotFound is returned by Get when no blob has the key.
var ErrNotFound = errors.New("blob not found")

// ErrUnavailable wraps failures to reach the storage service (network, timeouts, its 5xx answers):
// retrying may succeed.
var ErrUnavailable error = &fault.Unavailable{Dependency: "document storage"}

// Store keeps blobs. Keys are slash-separated paths of [A-Za-z0-9._-] segments (no "..", no leading
// slash, at most 1024 bytes, segments at most 200 bytes); implementations reject others with an error
// wrapping ErrInvalidKey. Errors wrap the sentinels: test them with errors.Is.
type Store interface {
	// Put writes the blob, replacing any blob with the same key. A reader never sees a partial blob.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the blob, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn with every key that starts with prefix, in no particular order, until fn returns false.
	List(ctx context.Context, prefix string, fn func(key string) bool) error
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
}
