package pades_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// pdfcpu, a third validator: it verifies the signature, the document timestamp and the chain to the
// imported CA; only revocation stays unknown until the DSS with OCSP/CRL answers is written (B-LTA).
// A flipped byte makes it report the signatures invalid.
func TestPdfcpuValidatesSignaturesAndDocumentTimestamp(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // pdfcpu's configuration dir and trust store live here
	f := newFixture(t)
	ctx := context.Background()
	signed, err := pades.Sign(ctx, pdftest.Make(t, 1, 0), f.key, f.tsa, pades.Signature{Name: "x", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	stamped, err := pades.DocumentTimestamp(ctx, signed, f.tsa)
	if err != nil {
		t.Fatal(err)
	}
	conf := model.NewDefaultConfiguration()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ImportCertificates([]string{caFile}); err != nil {
		t.Fatal(err)
	}
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(stamped), true, conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("pdfcpu found %d signatures, want the signature and the document timestamp", len(res))
	}
	for _, r := range res {
		if r.Status != model.SignatureStatusUnknown || r.Reason != model.SignatureReasonCertRevocationUnknown {
			t.Errorf("%s: %v (%v) %v; want only the revocation status unknown", r.Signature.String(r.Status), r.Status, r.Reason, r.Problems)
		}
	}
	tampered := bytes.Clone(stamped)
	tampered[bytes.Index(tampered, []byte("Test document"))] ^= 0x01 // text on the page, not structure
	res, err = api.ValidateSignaturesRaw(bytes.NewReader(tampered), true, conf)
	if err != nil {
		t.Fatal(err)
	}
	invalid := 0
	for _, r := range res {
		if r.Status == model.SignatureStatusInvalid {
			invalid++
		}
	}
	if invalid == 0 {
		t.Error("pdfcpu did not notice a flipped byte")
	}
}
