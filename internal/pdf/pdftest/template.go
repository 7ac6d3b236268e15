package pdftest

import (
	"bytes"
	"fmt"
	"testing"
)

// SealsPageTemplate is an integrator's one-page A4 seals page: marker as a title at the top and a
// frame around [40 40 555 700], where the seals go. The content stream is not compressed, so marker
// is in the bytes as written (what a "no plaintext at rest" check looks for).
func SealsPageTemplate(t testing.TB, marker string) []byte {
	t.Helper()
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	content := "BT /F1 24 Tf 50 780 Td (" + marker + ") Tj ET\nq 0.8 0.1 0.1 RG 2 w 40 40 515 660 re S Q\n"
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	if !bytes.Contains(b.Bytes(), []byte(marker)) {
		t.Fatal("the template's marker is not in its bytes: a plaintext check would prove nothing")
	}
	return b.Bytes()
}
