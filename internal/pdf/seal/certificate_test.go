package seal_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf/certificate"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
)

// A completion certificate sealed by SealCertificate and closed by the Finalizer is PAdES B-LTA:
// one invisible seal of the service with its signature timestamp, then the DSS and a document
// timestamp, both valid and trusted for pyHanko with revocation from the DSS alone.
func TestSealCertificateIsInvisibleAndLongTerm(t *testing.T) {
	p := pkitest.New(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 4, 15, 1, 0, 0, time.UTC)
	doc, err := certificate.Render(ctx, certificate.Certificate{Language: "DA_DK", OrderID: "order-1", Title: "Lejekontrakt",
		CreatedAt: at.Add(-time.Hour), ClosedAt: at, Status: "Afsluttet", IssuedAt: at,
		Documents: []certificate.Document{{Title: "Kontrakt", ID: "doc-1", SHA256Original: strings.Repeat("ab", 32), SHA256Signed: strings.Repeat("cd", 32), Pages: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &seal.Sealer{Key: pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}, TSA: p.TSA}
	sealed, err := s.SealCertificate(ctx, doc, at)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, doc) {
		t.Fatal("the seal rewrote the certificate instead of appending to it")
	}
	if pages(t, sealed) != pages(t, doc) {
		t.Errorf("the seal added a page: %s, was %s", pages(t, sealed), pages(t, doc))
	}
	if bytes.Contains(sealed[len(doc):], []byte("/AP")) {
		t.Error("the certificate's seal has an appearance; it must be invisible")
	}
	sigs, err := pades.ReadSignatures(ctx, sealed)
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %+v %v", sigs, err)
	}
	if sigs[0].DocumentTimestamp || sigs[0].ContactInfo != "" || sigs[0].Name != p.Seal.Chain[0].Subject.CommonName || sigs[0].Timestamp.IsZero() {
		t.Errorf("the certificate's seal: %+v; want the seal's name, no evidence, a signature timestamp", sigs[0])
	}
	if !bytes.Contains(sealed[len(doc):], []byte("/Reason ("+seal.CertificateReason+")")) {
		t.Error("the seal's /Reason is not the completion certificate's")
	}
	f := &seal.Finalizer{TSA: p.TSA, Revocation: p.Revocation()}
	closed, err := f.Finalize(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, closed)
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
	results := pdftest.RequirePyHankoValid(t, closed, root, 2, pdftest.LevelLTAUpdates)
	for i, want := range []struct {
		level                           pdftest.ModificationLevel
		timestamp, signatureTimestamped bool
	}{{pdftest.LevelLTAUpdates, false, true}, {pdftest.LevelNone, true, false}} {
		r := results[i]
		t.Logf("pyHanko signature %d (%s): level %s, timestamp %t, revocation %s", i+1, r.Field, r.Level, r.Timestamp, r.RevocationMode)
		if r.Level != want.level || r.Timestamp != want.timestamp || r.SignatureTimestamp != want.signatureTimestamped || r.RevocationMode != "hard-fail" {
			t.Errorf("pyHanko on signature %d: %+v; want level %s, timestamp %t, signature timestamp %t, hard-fail", i+1, r, want.level, want.timestamp, want.signatureTimestamped)
		}
	}
}
