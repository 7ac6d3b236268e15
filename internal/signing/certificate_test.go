package signing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/blob"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

const certificateOrderTitle = "Lejekontrakt Ærøvej 7"

// newCertificateEnv is the service with the real PAdES sealer and finalizer of a throwaway PKI;
// withCertificates gives it the completion certificate's sealer too.
func newCertificateEnv(t testing.TB, pki *pkitest.Fixture, withCertificates bool) *env {
	t.Helper()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	sealer := &seal.Sealer{Key: pades.Key{Signer: pki.Seal.Signer, Chain: pki.Seal.Chain}, TSA: pki.TSA}
	cfg := signing.Config{Sealer: sealer, Finalizer: &seal.Finalizer{TSA: pki.TSA, Revocation: pki.Revocation()}}
	if withCertificates {
		cfg.Certificates = sealer
	}
	counting := &countingBlobs{Store: blobs, deleted: map[string]int{}}
	svc := signingtest.New(st, counting, signingtest.FileKeys(t, dir), cfg)
	return &env{svc: svc, store: st, blobs: blobs, deletes: counting, dbPath: filepath.Join(dir, "esign.db")}
}

// signedDanishOrder is an order in DA_DK with two documents, signed by its one signatory with a
// drawn signature from a browser.
func signedDanishOrder(t testing.TB, e *env, p signing.Principal) *order.SignatureOrder {
	t.Helper()
	ctx := context.Background()
	title := certificateOrderTitle
	o, err := e.svc.CreateOrder(ctx, p, order.Draft{Title: &title, UI: &order.UI{Language: "DA_DK"},
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Drawable: &order.DrawableProvider{}}},
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: "Kontrakt", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0)},
			{Kind: order.DocumentPDF, Title: "Bilag", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
		},
		Signatories: []order.SignatoryDraft{{}}})
	if err != nil {
		t.Fatal(err)
	}
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	browser := signing.WithActor(ctx, order.Actor{IP: "203.0.113.44", UserAgent: "CertificateTest/1.0"})
	for _, d := range o.Documents {
		if _, _, err := e.svc.SetDocumentStatus(browser, sp, d.ID, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
	}
	name := "Åse Ødegård"
	img := drawnImage(t)
	if _, _, err := e.svc.Sign(browser, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID,
		Drawable: &signing.DrawableInput{Image: img, Name: &name}}); err != nil {
		t.Fatal(err)
	}
	return o
}

func drawnImage(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 200, 80))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wholeText is every page's text (pdftotext), without whitespace (a hash may wrap).
func wholeText(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "certificate.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

func blobsOf(t *testing.T, e *env, orderID string) []string {
	t.Helper()
	var keys []string
	if err := e.blobs.List(context.Background(), "orders/"+orderID+"/", func(k string) bool { keys = append(keys, k); return true }); err != nil {
		t.Fatal(err)
	}
	return keys
}

func sha(data []byte) string { return fmt.Sprintf("%x", sha256.Sum256(data)) }

// A close with retention keeps a completion certificate: sealed by the service and timestamped
// (pdfsig: both valid and trusted), encrypted in the blob store, in the order's language with the
// order's title, each document's SHA-256 before and after and the signatory's events; the orphan
// pass keeps it, and it goes with the documents, on cleanup and at the end of the retention.
func TestCompletionCertificateKeptWithTheDocuments(t *testing.T) {
	pki := pkitest.New(t)
	one := 1
	for _, c := range []struct {
		name string
		drop func(t *testing.T, e *env, p signing.Principal, closed signing.Closed)
	}{
		{"cleanupSignatureOrder", func(t *testing.T, e *env, p signing.Principal, closed signing.Closed) {
			if _, err := e.svc.CleanupOrder(context.Background(), p, closed.Order.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"retention end", func(t *testing.T, e *env, p signing.Principal, closed signing.Closed) {
			r, err := e.svc.Sweep(context.Background(), closed.Order.RetainDocumentsUntil.Add(time.Second), 10)
			// Two documents of three versions each (original, seal, close) and the certificate.
			if err != nil || r.VersionsDeleted != 7 {
				t.Fatalf("sweep: %+v %v, want 7 blobs (6 versions and the certificate)", r, err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			e := newCertificateEnv(t, pki, true)
			p := e.principal(t, "app", tenant.KeyReadWrite)
			o := signedDanishOrder(t, e, p)
			if got, err := e.svc.CompletionCertificate(ctx, p, o.ID); err != nil || got != nil {
				t.Fatalf("an open order has a certificate: %d bytes, %v", len(got), err)
			}
			closed, err := e.svc.CloseOrder(ctx, p, o.ID, &one)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := e.store.GetOrder(ctx, o.ID)
			if err != nil || stored.Certificate == nil {
				t.Fatalf("no certificate recorded: %+v, %v", stored, err)
			}
			key := stored.Certificate.BlobKey
			if !strings.HasPrefix(key, "orders/"+o.ID+"/"+order.CertificateDocumentID+"/certificate-") {
				t.Errorf("certificate blob key %q", key)
			}
			readOnly := e.principal(t, "app", tenant.KeyReadOnly)
			cert, err := e.svc.CompletionCertificate(ctx, readOnly, o.ID)
			if err != nil || !bytes.HasPrefix(cert, []byte("%PDF-")) {
				t.Fatalf("certificate: %d bytes, %v", len(cert), err)
			}
			ciphertext, err := e.blobs.Get(ctx, key)
			if err != nil || bytes.Contains(ciphertext, []byte("%PDF")) || bytes.Equal(ciphertext, cert) {
				t.Fatalf("the certificate's blob is not its ciphertext (%v)", err)
			}
			other := e.principal(t, "other", tenant.KeyReadWrite)
			if got, err := e.svc.CompletionCertificate(ctx, other, o.ID); err != nil || got != nil {
				t.Errorf("another application reads the certificate: %d bytes, %v", len(got), err)
			}

			pdftest.QPDFCheck(t, cert)
			report := popplerSig(t, pki, cert)
			// pdfsig validates the seal; the document timestamp it only lists (OpenSSL checks it).
			if strings.Count(report, "Signature is Valid.") != 1 || strings.Count(report, "Certificate is Trusted.") != 1 ||
				!strings.Contains(report, "Common Name: "+pki.Seal.Chain[0].Subject.CommonName) || !strings.Contains(report, "Total document signed") ||
				!bytes.Contains(cert, []byte("/Reason ("+seal.CertificateReason+")")) {
				t.Errorf("pdfsig: want the service's seal valid and trusted, then the document timestamp over all:\n%s", report)
			}
			caFile := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.CA.Cert.Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			pdftest.RequireOpenSSLValid(t, cert, caFile, 1, 1)
			text := wholeText(t, cert)
			tr := i18n.T("DA_DK")
			want := []string{certificateOrderTitle, o.ID, tr("certificate.title"), "Åse Ødegård", "203.0.113.44",
				tr("certificate.event.signatory.signed"), tr("certificate.event.document.approved") + ":Kontrakt",
				tr("certificate.event.order.closed"), tr("certificate.role.SIGNER"), tr("certificate.status.SIGNED")}
			for _, d := range o.Documents {
				b := closed.Bytes[d.ID]
				if sha(b.Original) == sha(b.Current) {
					t.Fatalf("document %s: the close left the original", d.Title)
				}
				want = append(want, sha(b.Original), sha(b.Current))
			}
			for _, w := range want {
				if !strings.Contains(text, strings.Join(strings.Fields(w), "")) {
					t.Errorf("the certificate lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "signatory.signed") || strings.Contains(text, "Signed") {
				t.Error("an event is not worded in the order's language")
			}

			trail, err := e.svc.AuditTrail(ctx, p, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if last := trail[len(trail)-1]; last.Kind != order.AuditCertificateIssued || last.Details["sha256"] != sha(cert) {
				t.Errorf("the trail's last entry %+v, want the certificate issued with its SHA-256 %s", last, sha(cert))
			}

			if r, err := e.svc.SweepOrphanBlobs(ctx, time.Now().Add(time.Hour), 0); err != nil || r.OrphansDeleted != 0 {
				t.Fatalf("orphan pass: %+v %v, want nothing deleted", r, err)
			}
			if _, err := e.blobs.Get(ctx, key); err != nil {
				t.Fatalf("the orphan pass deleted the certificate: %v", err)
			}

			c.drop(t, e, p, closed)
			if got, err := e.svc.CompletionCertificate(ctx, p, o.ID); err != nil || got != nil {
				t.Errorf("the certificate outlives the documents: %d bytes, %v", len(got), err)
			}
			if _, err := e.blobs.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("the certificate's blob is still there: %v", err)
			}
			if stored, err := e.store.GetOrder(ctx, o.ID); err != nil || stored.Certificate != nil {
				t.Errorf("the order keeps the certificate's keys: %+v, %v", stored.Certificate, err)
			}
			if left := blobsOf(t, e, o.ID); len(left) != 0 {
				t.Errorf("blobs left: %v", left)
			}
		})
	}
}

// A close without retention deletes the documents at once and keeps no certificate: none is
// stored, no blob is left.
func TestCloseWithoutRetentionKeepsNoCertificate(t *testing.T) {
	ctx := context.Background()
	e := newCertificateEnv(t, pkitest.New(t), true)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o := signedDanishOrder(t, e, p)
	if _, err := e.svc.CloseOrder(ctx, p, o.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.CompletionCertificate(ctx, p, o.ID); err != nil || got != nil {
		t.Errorf("certificate of a close without retention: %d bytes, %v", len(got), err)
	}
	stored, err := e.store.GetOrder(ctx, o.ID)
	if err != nil || stored.Certificate != nil {
		t.Errorf("certificate recorded: %+v, %v", stored.Certificate, err)
	}
	if left := blobsOf(t, e, o.ID); len(left) != 0 {
		t.Errorf("blobs left: %v", left)
	}
}

// BenchmarkCloseWithCertificate is a close with retention of a two-document order signed once,
// with and without the completion certificate (its render, seal, DSS, timestamp and write).
func BenchmarkCloseWithCertificate(b *testing.B) {
	pki := pkitest.New(b)
	one := 1
	for _, c := range []struct {
		name string
		with bool
	}{{"without", false}, {"with", true}} {
		b.Run(c.name, func(b *testing.B) {
			e := newCertificateEnv(b, pki, c.with)
			p := signingtest.Principal(b, e.svc, "app", tenant.KeyReadWrite)
			for range b.N {
				b.StopTimer()
				o := signedDanishOrder(b, e, p)
				b.StartTimer()
				if _, err := e.svc.CloseOrder(context.Background(), p, o.ID, &one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
