package pdf

import (
	"errors"
	"testing"
)

func TestGuardRecoversPanic(t *testing.T) {
	_, err := guard(func() (int, error) {
		var m map[string]int
		m["boom"]++ // a nil-map write, like the index and nil-pointer panics pdfcpu has had
		return 0, nil
	})
	if err == nil {
		t.Fatal("guard returned no error for a panic")
	}
	var p *Problem
	if errors.As(damaged(err), &p); p == nil || p.Reason != reasonDamaged {
		t.Fatalf("damaged(%v) = %v, want the damaged Problem", err, p)
	}
}
