package signing_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"esign/internal/blob"
	"esign/internal/order"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// templateMarker is text only the test's seals page template has; its content stream is not
// compressed, so the marker is in the template's bytes as written (what "no plaintext" looks for).
const templateMarker = "ACME Seals Template"

var templateArea = [4]float64{40, 40, 555, 700}

// templateDraft is an order of two documents and two signatories; the first document has the
// seals page template, the second the generated page.
func templateDraft(t *testing.T, tmpl []byte) order.Draft {
	t.Helper()
	return order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}}},
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: "With template", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0),
				SealsPageTemplate: &order.SealsPageTemplateDraft{Data: tmpl, Area: templateArea}},
			{Kind: order.DocumentPDF, Title: "Generated", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
		},
		Signatories: []order.SignatoryDraft{{}, {}},
	}
}

// recordingSealer is the real PAdES sealer that also keeps what each seal was asked.
type recordingSealer struct {
	seal.Sealer
	mu   sync.Mutex
	reqs map[string][]seal.Request // by DocumentID
}

func (r *recordingSealer) Seal(ctx context.Context, pdf []byte, req seal.Request) ([]byte, error) {
	r.mu.Lock()
	r.reqs[req.DocumentID] = append(r.reqs[req.DocumentID], req)
	r.mu.Unlock()
	return r.Sealer.Seal(ctx, pdf, req)
}

// templateBlob is the stored template's blob key and the stored order, failing when there is none.
func templateBlob(t *testing.T, e *env, orderID string) (string, *order.SignatureOrder) {
	t.Helper()
	o, err := e.store.GetOrder(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	tp := o.Documents[0].SealsPageTemplate
	if tp == nil || tp.Blob == nil {
		t.Fatalf("the stored order has no seals page template blob: %+v", tp)
	}
	return tp.Blob.BlobKey, o
}

// The template is stored encrypted beside the document's versions; the first seal of its document
// appends the template's page (not the generated one) and the seals land on it, and the other
// document keeps the generated page; both validate in poppler. Nothing on disk holds the
// template's text in clear.
func TestSealsPageTemplateStoredAndSealed(t *testing.T) {
	pki := pkitest.New(t)
	sealer := &recordingSealer{Sealer: seal.Sealer{Key: pades.Key{Signer: pki.Seal.Signer, Chain: pki.Seal.Chain}, TSA: pki.TSA},
		reqs: map[string][]seal.Request{}}
	e := newEnvWith(t, sealer, nil)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	tmpl := pdftest.SealsPageTemplate(t, templateMarker)
	o, err := e.svc.CreateOrder(ctx, p, templateDraft(t, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	key, stored := templateBlob(t, e, o.ID)
	tp := stored.Documents[0].SealsPageTemplate
	if tp.Area != templateArea || tp.Columns != 2 || tp.Rows != 7 || tp.Blob.Number != order.TemplateVersion || tp.Blob.Size != int64(len(tmpl)) {
		t.Errorf("stored template %+v (blob %+v), want the area, a 2 × 7 grid (the default maxSignatories, 14) and %d bytes", tp, tp.Blob, len(tmpl))
	}
	if !strings.HasPrefix(key, "orders/"+o.ID+"/"+o.Documents[0].ID+"/template-") {
		t.Errorf("template blob key %q is not beside the document's versions", key)
	}
	if stored.Documents[1].SealsPageTemplate != nil {
		t.Errorf("the second document has a template: %+v", stored.Documents[1].SealsPageTemplate)
	}
	ciphertext, err := e.blobs.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ciphertext, []byte(templateMarker)) || len(ciphertext) <= len(tmpl) {
		t.Error("the template's blob is not its ciphertext")
	}

	for i, s := range o.Signatories {
		sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: s.ID}
		approveAll(t, e, sp, o)
		if _, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true}); err != nil {
			t.Fatalf("signature %d: %v", i+1, err)
		}
	}
	// Only the first seal of the templated document is given the template (decrypted, as uploaded).
	reqs := sealer.reqs[o.Documents[0].DocumentID]
	if len(reqs) != 2 || reqs[0].SealsPageTemplate == nil || !bytes.Equal(reqs[0].SealsPageTemplate.Page, tmpl) ||
		reqs[0].SealsPageTemplate.Area != templateArea || reqs[0].SealsPageTemplate.Columns != 2 || reqs[0].SealsPageTemplate.Rows != 7 ||
		reqs[1].SealsPageTemplate != nil {
		t.Errorf("the templated document's seal requests: %+v", reqs)
	}
	if r := sealer.reqs[o.Documents[1].DocumentID]; len(r) != 2 || r[0].SealsPageTemplate != nil {
		t.Errorf("the other document was sealed with a template: %+v", r)
	}
	for i, c := range []struct {
		pages        string
		has, hasNot  string
		wantTemplate bool
	}{
		{"3", "ACMESealsTemplate", "Signatures", true}, // 2 pages + the template's
		{"2", "Signatures", "ACMESealsTemplate", false},
	} {
		b, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		n, err := pdftest.QPDF(t, b.Current, "--show-npages")
		if err != nil || strings.TrimSpace(n) != c.pages {
			t.Fatalf("document %d: %q pages (%v), want %s", i, n, err, c.pages)
		}
		last := popplerText(t, b.Current, c.pages)
		if !strings.Contains(last, c.has) || strings.Contains(last, c.hasNot) {
			t.Errorf("document %d: the seals page reads %q; want %q and not %q", i, last, c.has, c.hasNot)
		}
		if c.wantTemplate && strings.Count(last, "Signedby") != 2 {
			t.Errorf("document %d: the template page has %d seals, want 2: %q", i, strings.Count(last, "Signedby"), last)
		}
		if report := popplerSig(t, pki, b.Current); strings.Count(report, "Signature is Valid.") != 2 || strings.Contains(report, "Invalid") {
			t.Errorf("document %d: pdfsig:\n%s", i, report)
		}
	}
	assertNoPlaintext(t, e, templateMarker)
}

// assertNoPlaintext fails when any file of the service's folder (database with its journal, blob
// folder, key files) holds marker in clear.
func assertNoPlaintext(t *testing.T, e *env, marker string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(filepath.Dir(e.dbPath), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds %q in clear", path, marker)
		}
		return nil
	})
	if err != nil || files < 3 {
		t.Fatalf("walk the service's files: %d files, %v", files, err)
	}
}

// popplerText is page's text (pdftotext), without spaces.
func popplerText(t *testing.T, data []byte, page string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", page, "-l", page, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// popplerSig is poppler's validation report of data, trusting the fixture's root.
func popplerSig(t *testing.T, p *pkitest.Fixture, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", "sql:" + dir, "--empty-password"}, {"-A", "-d", "sql:" + dir, "-n", "ca", "-t", "CT,C,C", "-i", caPEM}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	path := filepath.Join(dir, "signed.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+dir, path).CombinedOutput()
	return string(out)
}

// The template goes with the document's versions wherever they go: its blob is deleted and its
// keys shredded, and the order can then be purged.
func TestSealsPageTemplateDroppedWithTheDocuments(t *testing.T) {
	one := 1
	for _, c := range []struct {
		name string
		drop func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder)
	}{
		{"cancel", func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder) {
			if _, err := e.svc.CancelOrder(context.Background(), p, o.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"close without retention", func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder) {
			if _, err := e.svc.CloseOrder(context.Background(), p, o.ID, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"cleanupSignatureOrder after a retained close", func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder) {
			if _, err := e.svc.CloseOrder(context.Background(), p, o.ID, &one); err != nil {
				t.Fatal(err)
			}
			templateBlob(t, e, o.ID) // retained: still there
			if _, err := e.svc.CleanupOrder(context.Background(), p, o.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"expiry", func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder) {
			if r, err := e.svc.Sweep(context.Background(), o.ExpiresAt.Add(time.Second), 10); err != nil || r.Expired != 1 || r.VersionsDeleted != 4 {
				t.Fatalf("sweep: %+v %v, want 1 expired and 4 blobs (2 versions, 2 templates)", r, err)
			}
		}},
		{"retention end", func(t *testing.T, e *env, p signing.Principal, o *order.SignatureOrder) {
			closed, err := e.svc.CloseOrder(context.Background(), p, o.ID, &one)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := e.svc.Sweep(context.Background(), closed.Order.RetainDocumentsUntil.Add(time.Second), 10); err != nil || r.VersionsDeleted != 3 {
				t.Fatalf("sweep: %+v %v, want 3 blobs (2 versions and the template)", r, err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			p := e.principal(t, "app", tenant.KeyReadWrite)
			d := templateDraft(t, pdftest.SealsPageTemplate(t, templateMarker))
			if c.name == "expiry" {
				// A third blob of the same order (a second template) checks that the sweep counts each.
				d.Documents[1].SealsPageTemplate = &order.SealsPageTemplateDraft{Data: pdftest.SealsPageTemplate(t, templateMarker), Area: templateArea}
			}
			o, err := e.svc.CreateOrder(ctx, p, d)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := templateBlob(t, e, o.ID)
			c.drop(t, e, p, o)
			if _, err := e.blobs.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("the template's blob is still there: %v", err)
			}
			stored, err := e.store.GetOrder(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range stored.Documents {
				if d.SealsPageTemplate != nil && d.SealsPageTemplate.Blob != nil {
					t.Errorf("document %s keeps its template's keys: %+v", d.Title, d.SealsPageTemplate.Blob)
				}
			}
			if stored.HasStoredDocuments() || stored.RetiredAt() == nil {
				t.Fatalf("the order still holds documents: %+v", stored.Documents)
			}
			if n := countBlobs(t, e); n != 0 {
				t.Errorf("%d blobs left", n)
			}
			if r, err := e.svc.PurgeOrders(ctx, time.Now().Add(400*24*time.Hour), 10); err != nil || r.OrdersPurged != 1 {
				t.Errorf("purge: %+v %v, want the order purged", r, err)
			}
		})
	}
}

// failingPuts fails the put numbered failAt (1-based) and lets the others through.
type failingPuts struct {
	blob.Store
	n      atomic.Int32
	failAt int32
}

func (f *failingPuts) Put(ctx context.Context, key string, data []byte) error {
	if f.n.Add(1) == f.failAt {
		return errors.New("blob store unavailable")
	}
	return f.Store.Put(ctx, key, data)
}

// A createSignatureOrder that fails leaves no template blob and no order, wherever it fails: at a
// later document's intake (before any write), at the template's write, or at a write after it.
func TestSealsPageTemplateCreateFailureLeavesNothing(t *testing.T) {
	for _, c := range []struct {
		name   string
		failAt int32 // puts: 1 the first document, 2 its template, 3 the second document
		bad    bool  // the second document is not a PDF
	}{
		{"second document invalid", 0, true},
		{"template write fails", 2, false},
		{"write after the template fails", 3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st, blobs := signingtest.Embedded(t, dir)
			svc := signingtest.New(st, &failingPuts{Store: blobs, failAt: c.failAt}, signingtest.FileKeys(t, dir), signing.Config{})
			ctx := context.Background()
			p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
			d := templateDraft(t, pdftest.SealsPageTemplate(t, templateMarker))
			if c.bad {
				d.Documents[1].Data = []byte("not a PDF")
			}
			if _, err := svc.CreateOrder(ctx, p, d); err == nil {
				t.Fatal("CreateOrder succeeded")
			}
			var left []string
			if err := blobs.List(ctx, "", func(k string) bool { left = append(left, k); return true }); err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("blobs left after a failed create: %v", left)
			}
			page, err := svc.ListOrders(ctx, p, nil, nil, nil)
			if err != nil || page.TotalCount != 0 {
				t.Errorf("orders after a failed create: %d %v", page.TotalCount, err)
			}
		})
	}
}

// The orphan pass counts a live template as referenced (its first seal still needs it) and deletes
// a template blob no order references.
func TestOrphanPassKeepsLiveTemplate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	o, err := e.svc.CreateOrder(ctx, p, templateDraft(t, pdftest.SealsPageTemplate(t, templateMarker)))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := templateBlob(t, e, o.ID)
	stray := fmt.Sprintf("orders/%s/%s/template-%s", o.ID, o.Documents[0].ID, uuid.Must(uuid.NewV7()))
	if err := e.blobs.Put(ctx, stray, []byte("a template whose order update never committed")); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.SweepOrphanBlobs(ctx, time.Now().Add(time.Hour), time.Minute)
	if err != nil || r.OrphansDeleted != 1 {
		t.Fatalf("orphan pass: %+v %v, want the stray template deleted", r, err)
	}
	if _, err := e.blobs.Get(ctx, key); err != nil {
		t.Errorf("the orphan pass deleted the live template: %v", err)
	}
	if _, err := e.blobs.Get(ctx, stray); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the stray template is still there: %v", err)
	}
}
