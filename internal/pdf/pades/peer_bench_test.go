package pades_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/testenv"
)

// BenchmarkVersusSignpdf signs the same PDF with the same key with our signer and with the npm
// package @signpdf/signpdf, and reports the ratio. Neither timestamps here (signpdf does not by
// default), so both measure placeholder, hashing, CMS and writing.
func BenchmarkVersusSignpdf(b *testing.B) {
	f := newFixture(b)
	root, err := testenv.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(f.key.Signer)
	if err != nil {
		b.Fatal(err)
	}
	keyPath, certPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.key.Chain[0].Raw}), 0o600)
	for _, size := range []int{1_000_000, 20_000_000} {
		doc := pdftest.Make(b, 10, size)
		pdfPath := filepath.Join(dir, fmt.Sprintf("doc%d.pdf", size))
		os.WriteFile(pdfPath, doc, 0o600)
		b.Run(fmt.Sprintf("%dMB", size/1_000_000), func(b *testing.B) {
			out, err := exec.Command("node", filepath.Join(root, "e2e", "signpdf-bench.mjs"), pdfPath, keyPath, certPath, "5").Output()
			if err != nil {
				b.Fatalf("signpdf: %v", err)
			}
			var peer struct{ MsPerOp float64 }
			if err := json.Unmarshal(out, &peer); err != nil {
				b.Fatalf("signpdf printed %q", out)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := pades.Sign(context.Background(), doc, f.key, nil, pades.Signature{Name: "bench", Time: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			ours := float64(time.Since(start).Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(peer.MsPerOp, "signpdf-ms/op")
			b.ReportMetric(peer.MsPerOp/ours, "x-faster")
		})
	}
}
