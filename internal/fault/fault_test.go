package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"esign/internal/fault"
)

func TestDependencyOf(t *testing.T) {
	db := &fault.Unavailable{Dependency: "the database"}
	wrapped := fmt.Errorf("create order: %w", fmt.Errorf("insert: %w", db))
	if got := fault.DependencyOf(wrapped); got != "the database" {
		t.Errorf("DependencyOf(wrapped) = %q", got)
	}
	if !errors.Is(wrapped, db) {
		t.Error("errors.Is no longer finds the adapter's sentinel")
	}
	if got := fault.DependencyOf(errors.New("boom")); got != "" {
		t.Errorf("DependencyOf(other) = %q, want none", got)
	}
}
