package pades_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// pdfcpu, a third validator, on a closed document as the service makes it: two seals, a DSS with the
// certificates and OCSP/CRL answers fetched from the test CA's loopback responders, and a document
// timestamp (PAdES B-LTA). pdfcpu checks each signature, the timestamps, the chain to the imported CA
// and revocation from the DSS: all valid. (pdfcpu 0.15 names no PAdES level above B-B.) A flipped
// byte makes it report the signatures invalid.
func TestPdfcpuValidatesClosedDocument(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // pdfcpu's configuration dir and trust store live here
	f := newFixture(t)
	ctx := context.Background()
	signed, err := pades.Sign(ctx, pdftest.Make(t, 1, 0), f.key, f.tsa, pades.Signature{Name: "x", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if signed, err = pades.Sign(ctx, signed, f.key, f.tsa, pades.Signature{Name: "y", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sigs, err := pades.ReadSignatures(ctx, signed)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for _, s := range sigs {
		certs = append(certs, s.Certificates...)
	}
	vd, err := f.pki.Revocation().Collect(ctx, certs)
	if err != nil {
		t.Fatal(err)
	}
	// Seal, TSA and CA certificates; an OCSP answer for the seal and the TSA certificate; one CRL.
	if len(vd.Certs) != 3 || len(vd.OCSPs) != 2 || len(vd.CRLs) != 1 {
		t.Fatalf("validation data: %d certs, %d OCSP, %d CRL", len(vd.Certs), len(vd.OCSPs), len(vd.CRLs))
	}
	withDSS, err := pades.AddDSS(ctx, signed, pades.ValidationData(vd))
	if err != nil {
		t.Fatal(err)
	}
	closed, err := pades.DocumentTimestamp(ctx, withDSS, f.tsa)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, closed)
	conf := model.NewDefaultConfiguration()
	// pdfcpu reads and authenticates the DSS answers but concludes only from a live answer; loopback
	// responders must be allowed by name.
	conf.AllowedRevocationHosts = []string{"127.0.0.1"}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ImportCertificates([]string{caFile}); err != nil {
		t.Fatal(err)
	}
	// Once preferring CRLs (pdfcpu's default), once OCSP: the DSS's answers of that kind are found
	// and authenticated (archived evidence) and every signature is valid.
	for _, checker := range []int{model.CRL, model.OCSP} {
		conf.PreferredCertRevocationChecker = checker
		res, err := api.ValidateSignaturesRaw(bytes.NewReader(closed), true, conf)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 3 {
			t.Fatalf("pdfcpu found %d signatures, want two seals and the document timestamp", len(res))
		}
		for _, r := range res {
			if r.Status != model.SignatureStatusValid {
				t.Errorf("%s: %v (%v) %v", r.Signature.String(r.Status), r.Status, r.Reason, r.Problems)
			}
			archived := false
			for _, signer := range r.Details.Signers {
				if c := signer.Certificate; c != nil {
					for _, e := range c.Revocation.CRLs {
						archived = archived || (e.Source == model.RevocationEvidenceSourceArchived && e.SignatureValid == model.True)
					}
					for _, e := range c.Revocation.OCSPs {
						archived = archived || (e.Source == model.RevocationEvidenceSourceArchived && e.Authenticated == model.True)
					}
				}
			}
			if !archived {
				t.Errorf("%s (checker %d): pdfcpu found no authenticated answer in the DSS", r.Details.FieldName, checker)
			}
		}
	}
	out := pdfsig(t, f, closed)
	// pdfsig checks the two CMS signatures (it cannot verify a document timestamp).
	if n := strings.Count(out, "Signature is Valid."); n != 2 {
		t.Errorf("pdfsig: %d valid signatures, want 2\n%s", n, out)
	}
	pdftest.RequireOpenSSLValid(t, closed, caFile, 2, 1)

	tampered := bytes.Clone(closed)
	tampered[bytes.Index(tampered, []byte("Test document"))] ^= 0x01 // text on the page, not structure
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(tampered), true, conf)
	if err != nil {
		t.Fatal(err)
	}
	invalid := 0
	for _, r := range res {
		if r.Status == model.SignatureStatusInvalid {
			invalid++
		}
	}
	if invalid != 3 {
		t.Errorf("pdfcpu found %d of 3 signatures invalid after a flipped byte", invalid)
	}
	if out := pdfsig(t, f, tampered); strings.Contains(out, "Signature is Valid.") {
		t.Errorf("pdfsig still calls a signature valid after a flipped byte:\n%s", out)
	}
	pdftest.RequireOpenSSLInvalid(t, tampered, caFile)
}
