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

// BenchmarkSealPlacedWithForm is a signature that fills three form fields (a text, a dropdown and a
// checkbox, each an update with its appearance) and places its seal with a drawn signature on page
// 1, on a 1 MB and a 20 MB form document.
func BenchmarkSealPlacedWithForm(b *testing.B) {
	p := pkitest.New(b)
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	ctx := context.Background()
	req := seal.Request{SignatoryName: "Ada Lovelace", Time: time.Now(), MaxSignatories: 14, DocumentID: "DOC-1",
		Evidence:   evidence.Evidence{Type: evidence.TypeDrawable, Value: `{"image":"","name":"Ada Lovelace"}`, Image: benchScribble},
		Placements: []seal.Placement{{Page: 1, X: 300, Y: 60, Width: 240, Height: 90}},
		Form: []pades.FormValue{{Field: "name", Value: "Åse Ødegård"}, {Field: "country", Value: "Sweden"},
			{Field: "agree", Value: "false"}}}
	for _, size := range []int{1_000_000, 20_000_000} {
		doc := pdftest.FormOfSize(b, size)
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
