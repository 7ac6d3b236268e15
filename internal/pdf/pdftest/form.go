package pdftest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
)

// Form is a two-page document with an AcroForm: a filled text field and an empty one, a
// checked checkbox, a radio group, a combo box (page 1), a nested field "address.city" (page 2) and
// a signature field, which is not a form field.
func Form(t testing.TB) []byte {
	t.Helper()
	return FormOfSize(t, 0)
}

// FormOfSize is Form padded to at least minSize bytes with an incompressible stream object no page
// draws (for benchmarks on large documents).
func FormOfSize(t testing.TB, minSize int) []byte {
	t.Helper()
	objs := []string{
		1:  "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R 6 0 R 7 0 R 8 0 R 11 0 R 12 0 R 14 0 R] /DA (/Helv 10 Tf 0 g) /DR << /Font << /Helv 15 0 R >> >> >> >>",
		2:  "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		3:  "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [5 0 R 6 0 R 7 0 R 9 0 R 10 0 R 11 0 R 14 0 R] >>",
		4:  "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [13 0 R] >>",
		5:  "<< /FT /Tx /T (name) /V (Ada Lovelace) /Type /Annot /Subtype /Widget /Rect [50 700 250 720] /P 3 0 R /DA (/Helv 10 Tf 0 g) >>",
		6:  "<< /FT /Tx /T (note) /Ff 4096 /Type /Annot /Subtype /Widget /Rect [50 600 250 680] /P 3 0 R /DA (/Helv 10 Tf 0 g) >>",
		7:  "<< /FT /Btn /T (agree) /V /Yes /AS /Yes /Type /Annot /Subtype /Widget /Rect [50 560 62 572] /P 3 0 R /AP << /N << /Yes 16 0 R /Off 16 0 R >> >> >>",
		8:  "<< /FT /Btn /Ff 49152 /T (plan) /V /basic /Kids [9 0 R 10 0 R] >>",
		9:  "<< /Parent 8 0 R /AS /basic /Type /Annot /Subtype /Widget /Rect [50 520 62 532] /P 3 0 R /AP << /N << /basic 16 0 R /Off 16 0 R >> >> >>",
		10: "<< /Parent 8 0 R /AS /Off /Type /Annot /Subtype /Widget /Rect [80 520 92 532] /P 3 0 R /AP << /N << /premium 16 0 R /Off 16 0 R >> >> >>",
		11: "<< /FT /Ch /Ff 131072 /T (country) /Opt [(Denmark) (Norway) (Sweden)] /V (Norway) /Type /Annot /Subtype /Widget /Rect [50 480 250 500] /P 3 0 R /DA (/Helv 10 Tf 0 g) >>",
		12: "<< /T (address) /Kids [13 0 R] >>",
		13: "<< /FT /Tx /Parent 12 0 R /T (city) /V (Aarhus) /Ff 1 /Type /Annot /Subtype /Widget /Rect [50 700 250 720] /P 4 0 R /DA (/Helv 10 Tf 0 g) >>",
		14: "<< /FT /Sig /T (Signature1) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R >>",
		15: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		16: "<< /Type /XObject /Subtype /Form /BBox [0 0 12 12] /Length 0 >>\nstream\n\nendstream",
	}
	if minSize > 0 {
		pad := make([]byte, minSize)
		if _, err := rand.Read(pad); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(pad), pad))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i := 1; i < len(objs); i++ {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i, objs[i])
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs))
	for i := 1; i < len(objs); i++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offsets[i])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs), xref)
	return b.Bytes()
}
