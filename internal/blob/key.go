package blob

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is returned (wrapped) by every Store method given a key that breaks the key rule.
var ErrInvalidKey = errors.New("invalid blob key")

// Length limits that hold for every backend: Azure caps blob names at 1024 characters, and the fs
// backend adds a suffix of up to 5 bytes to each segment, which must stay under the usual 255-byte
// file name limit.
const (
	maxKeyLen     = 1024
	maxSegmentLen = 200
)

// ValidKey reports whether key is a slash-separated path of non-empty [A-Za-z0-9._-] segments with no
// "." or ".." segment and no leading or trailing slash. The error wraps ErrInvalidKey.
//
// The rule is strict on purpose: keys become file paths in the fs backend and blob names in Azure, so
// anything that could climb out of the root, alias another key or need escaping is refused before it
// reaches either.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, maxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validSegment(seg); err != nil {
			return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
		}
	}
	return nil
}

func validSegment(seg string) error {
	switch seg {
	case "":
		return errors.New("empty segment (leading, trailing or double slash)")
	case ".", "..":
		return fmt.Errorf("segment %q", seg)
	}
	if len(seg) > maxSegmentLen {
		return fmt.Errorf("segment longer than %d bytes", maxSegmentLen)
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			return fmt.Errorf("byte %q at %d is not in [A-Za-z0-9._-]", seg[i], i)
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}
