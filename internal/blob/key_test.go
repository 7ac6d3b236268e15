package blob_test

import (
	"errors"
	"strings"
	"testing"

	"esign/internal/blob"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key   string
		valid bool
	}{
		{"a", true},
		{"orders/0192/documents/1.pdf", true},
		{"A-Z_a.z-0.9", true},
		{"...", true},
		{"a..b/.hidden/x.", true},
		{strings.Repeat("a", 200), true},
		{strings.Repeat("a/", 511) + "ab", true}, // 1024 bytes

		{"", false},
		{"/abs", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/../b", false},
		{"a/./b", false},
		{"a/..", false},
		{"a b", false},
		{" a", false},
		{"a\tb", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"é", false},
		{"a:b", false},
		{"a~", false},
		{strings.Repeat("a", 201), false},
		{strings.Repeat("a/", 512) + "a", false}, // 1025 bytes
	}
	for _, tt := range tests {
		err := blob.ValidKey(tt.key)
		if tt.valid && err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", tt.key, err)
		}
		if !tt.valid && !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", tt.key, err)
		}
	}
}
