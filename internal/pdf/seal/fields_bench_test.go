package seal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
)

// benchFields are a signatory's fields as the intake creates them: initials, a text, the date, a
// checkbox and a dropdown on page 1.
var benchFields = []pades.NewField{
	{Name: "esign-s-1", Kind: pades.NewText, Tooltip: "Initials", MaxLen: 10, Rects: []pades.Placement{{Page: 1, X: 60, Y: 700, Width: 60, Height: 30}}},
	{Name: "esign-s-2", Kind: pades.NewText, Tooltip: "City", MaxLen: 200, Rects: []pades.Placement{{Page: 1, X: 60, Y: 650, Width: 180, Height: 22}}},
	{Name: "esign-s-3", Kind: pades.NewText, Tooltip: "date", MaxLen: 0, Rects: []pades.Placement{{Page: 1, X: 300, Y: 650, Width: 110, Height: 22}}},
	{Name: "esign-s-4", Kind: pades.NewCheckbox, Tooltip: "I agree", Rects: []pades.Placement{{Page: 1, X: 60, Y: 600, Width: 14, Height: 14}}},
	{Name: "esign-s-5", Kind: pades.NewDropdown, Tooltip: "Plan", Options: []string{"Basic", "Pro"}, Rects: []pades.Placement{{Page: 1, X: 60, Y: 560, Width: 180, Height: 22}}},
}

// BenchmarkCreateFields is the intake's work for a document with signatory fields: the five fields
// in one incremental update.
func BenchmarkCreateFields(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{1_000_000, 20_000_000} {
		doc := pdftest.Make(b, 3, size)
		b.Run(fmt.Sprintf("%dMB", size/1_000_000), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pades.AddFields(ctx, doc, benchFields); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealFilledFields is a signature on such a document: the five fields filled (owned
// values, as the service writes them) and a placed seal, in the signatory's revision.
func BenchmarkSealFilledFields(b *testing.B) {
	p := pkitest.New(b)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	ctx := context.Background()
	req := seal.Request{SignatoryName: "Ada Lovelace", Time: time.Now(), MaxSignatories: 14, DocumentID: "DOC-1",
		Evidence:   evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada Lovelace"}`, Image: benchScribble},
		Placements: []seal.Placement{{Page: 1, X: 300, Y: 60, Width: 240, Height: 90}},
		Form: []pades.FormValue{{Field: "esign-s-1", Value: "ÅØ", Owned: true}, {Field: "esign-s-2", Value: "Aarhus", Owned: true},
			{Field: "esign-s-3", Value: "2026-12-01", Owned: true}, {Field: "esign-s-4", Value: "true", Owned: true},
			{Field: "esign-s-5", Value: "Pro", Owned: true}}}
	for _, size := range []int{1_000_000, 20_000_000} {
		doc, err := pades.AddFields(ctx, pdftest.Make(b, 3, size), benchFields)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Seal(ctx, doc, req); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dMB", size/1_000_000), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Seal(ctx, doc, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
