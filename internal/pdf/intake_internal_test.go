package pdf

import (
	"errors"
	"testing"
)

func TestGuardRecoversPanic(t *testing.T) {
	_, err := guard(func() (int, error) {
		var s []int
		return s[3], nil // an index panic, like those pdfcpu has had on malformed input
	})
	if err == nil {
		t.Fatal("guard returned no error for a panic")
	}
	var p *Problem
	if errors.As(damaged(err), &p); p == nil || p.Reason != reasonDamaged {
		t.Fatalf("damaged(%v) = %v, want the damaged Problem", err, p)
	}
}
