package pdf

import (
	"context"
	"errors"
	"testing"

	"esign/internal/pdf/pdftest"
)

// FuzzCheckStreams runs the pre-pass unguarded: whatever the bytes it returns (no panic, which
// Measure would otherwise hide as a damaged document), with one of its own errors or none, and never
// counts past the limit without saying so.
func FuzzCheckStreams(f *testing.F) {
	f.Add(pdftest.Make(f, 2, 0))
	f.Add(pdftest.ObjStmBomb(f, 1, 1<<20))
	f.Add(pdftest.MetadataBomb(f, 1<<20))
	f.Add([]byte("1 0 obj << /Filter [/AHx /A85 /RL /LZW /Fl] /DecodeParms [null null null << /EarlyChange 0 >> << /Predictor 2 >>] /Length 2 0 R >>\nstream\n41>\nendstream\nendobj\n2 0 obj 5 endobj trailer << /Prev 0 >> startxref 0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 4 << 20
		u, err := checkStreams(context.Background(), data, limit)
		if err != nil && !errors.Is(err, errOverBudget) && !errors.Is(err, errTooComplex) {
			t.Fatalf("checkStreams: unexpected error %v", err)
		}
		if err == nil && u.Decoded > limit {
			t.Fatalf("counted %d past the limit %d without refusing", u.Decoded, limit)
		}
	})
}
