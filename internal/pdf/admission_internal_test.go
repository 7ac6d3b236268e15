package pdf

import (
	"bytes"
	"context"
	"testing"

	"esign/internal/pdf/pdftest"
)

// Admit's context vouches for the bytes it measured and for nothing else: not a copy (which may
// have been changed since), not a part, not another document.
func TestAdmitVouchesForTheSameBytesOnly(t *testing.T) {
	doc := pdftest.Make(t, 1, 0)
	ctx, release, err := (*Admission)(nil).Admit(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if !measured(ctx, doc) {
		t.Error("the measured bytes are not recognised")
	}
	for name, other := range map[string][]byte{
		"a copy":         bytes.Clone(doc),
		"a prefix":       doc[:len(doc)-1],
		"a suffix":       doc[1:],
		"empty":          doc[:0],
		"other document": pdftest.Make(t, 2, 0),
	} {
		if measured(ctx, other) {
			t.Errorf("%s passes as measured", name)
		}
	}
	if measured(context.Background(), doc) {
		t.Error("a context without Admit vouches for the document")
	}
	// A refused document leaves the context as it was.
	bomb := pdftest.ObjStmBomb(t, 1, 20<<20)
	if bctx, _, err := (*Admission)(nil).Admit(context.Background(), bomb); err == nil || measured(bctx, bomb) {
		t.Errorf("Admit(bomb) = %v, and its context vouches for it", err)
	}
}
