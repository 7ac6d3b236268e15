package pades_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// TestOperationsRefuseBombs: every pdfcpu read in this package goes through the decode pre-pass, so
// sealing, timestamping, the DSS, the seals page and reading the signatures back all refuse a bomb
// (a document stored before intake counted, or one that slipped past it) with the intake's problem,
// having allocated a small multiple of the file.
func TestOperationsRefuseBombs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bomb := pdftest.ObjStmBomb(t, 3, 64<<20)
	for name, op := range map[string]func() error{
		"Sign": func() error {
			_, err := pades.Sign(ctx, bomb, f.key, f.tsa, pades.Signature{Name: "Ada", Time: time.Now()})
			return err
		},
		"DocumentTimestamp": func() error { _, err := pades.DocumentTimestamp(ctx, bomb, f.tsa); return err },
		"AppendSealsPage":   func() error { _, err := pades.AppendSealsPage(ctx, bomb, "Signatures"); return err },
		"AddDSS":            func() error { _, err := pades.AddDSS(ctx, bomb, pades.ValidationData{}); return err },
		"ReadSignatures":    func() error { _, err := pades.ReadSignatures(ctx, bomb); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			alloc := pdftest.Allocated(func() { err = op() })
			var p *pdf.Problem
			if !errors.As(err, &p) || !strings.HasPrefix(p.Reason, "expands to more than ") {
				t.Fatalf("%s on a bomb = %v, want the intake's \"expands to more than …\" problem", name, err)
			}
			if alloc > uint64(8<<20+4*len(bomb)) {
				t.Errorf("%s allocated %d MB to refuse a %d KB bomb", name, alloc>>20, len(bomb)>>10)
			}
		})
	}
}
