package signing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// markSealer stands in for the PAdES sealer in these service tests (the real one is tested in
// internal/pdf/pades and end to end): it appends a line naming the seal, or fails on demand.
type markSealer struct {
	fail  atomic.Bool
	calls atomic.Int32
}

func (m *markSealer) Seal(_ context.Context, pdf []byte, req seal.Request) ([]byte, error) {
	m.calls.Add(1)
	if m.fail.Load() {
		return nil, errors.New("TSA unreachable")
	}
	return append(bytes.Clone(pdf), fmt.Sprintf("\n%% sealed #%d by %s type %s\n", req.SealIndex, req.SignatoryName, req.Evidence.Type)...), nil
}

func drawn(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 200, 80))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func countBlobs(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	if err := e.blobs.List(context.Background(), "", func(string) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

func newSigningEnv(t *testing.T) (*env, *markSealer, signing.Principal, *order.SignatureOrder) {
	t.Helper()
	sealer := &markSealer{}
	e := newEnvWith(t, sealer, nil)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	d := order.Draft{
		EvidenceProviders: []order.EvidenceProvider{
			{EnabledByDefault: true, Drawable: &order.DrawableProvider{RequireName: true}},
			{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}},
		},
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
			{Kind: order.DocumentPDF, Title: "B", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0)},
		},
		Signatories: []order.SignatoryDraft{{}, {}},
	}
	o, err := e.svc.CreateOrder(context.Background(), p, d)
	if err != nil {
		t.Fatal(err)
	}
	return e, sealer, p, o
}

func approveAll(t *testing.T, e *env, sp signing.SignatoryPrincipal, o *order.SignatureOrder) {
	t.Helper()
	for _, d := range o.Documents {
		if _, _, err := e.svc.SetDocumentStatus(context.Background(), sp, d.ID, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignSealsEveryDocumentAndRecordsIt(t *testing.T) {
	e, _, p, o := newSigningEnv(t)
	ctx := context.Background()
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	name := "Ada Lovelace"
	in := signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Drawable: &signing.DrawableInput{Image: drawn(t), Name: &name}}

	if _, _, err := e.svc.Sign(ctx, sp, in); err == nil || !strings.Contains(err.Error(), "approved") {
		t.Fatalf("signed before approving: %v", err)
	}
	approveAll(t, e, sp, o)
	before := countBlobs(t, e)
	got, sig, err := e.svc.Sign(ctx, sp, in)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Status != order.SignatorySigned {
		t.Fatalf("status %s", sig.Status)
	}
	for _, d := range got.Documents {
		if len(d.Versions) != 2 {
			t.Fatalf("document %s has %d versions, want 2", d.Title, len(d.Versions))
		}
		b, err := e.svc.DocumentBytes(ctx, p, got.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b.Current, []byte("sealed #0 by Ada Lovelace type criipto.signature.drawable.v1")) || bytes.Equal(b.Current, b.Original) {
			t.Errorf("document %s: current version is not the sealed one", d.Title)
		}
	}
	if n := countBlobs(t, e); n != before+2 {
		t.Errorf("%d blobs after signing, want %d", n, before+2)
	}
	if _, _, err := e.svc.Sign(ctx, sp, in); err == nil {
		t.Fatal("signed twice")
	}
}

func TestSignFailuresLeaveNothing(t *testing.T) {
	e, sealer, _, o := newSigningEnv(t)
	ctx := context.Background()
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	approveAll(t, e, sp, o)
	before := countBlobs(t, e)
	name := "Ada"
	cases := []struct {
		name string
		in   signing.SignInput
		want string
	}{
		{"unknown provider", signing.SignInput{ProviderID: "nope", Noop: true}, "is not an evidence provider"},
		{"drawable without image", signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Drawable: &signing.DrawableInput{Name: &name}}, "drawable.image: is required"},
		{"drawable without name", signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Drawable: &signing.DrawableInput{Image: drawn(t)}}, "drawable.name: is required"},
		{"noop false", signing.SignInput{ProviderID: o.EvidenceProviders[1].ID}, "must be true"},
	}
	for _, c := range cases {
		if _, _, err := e.svc.Sign(ctx, sp, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	sealer.fail.Store(true)
	_, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[1].ID, Noop: true})
	if de, ok := fault.As(err); !ok || de.Code != fault.CodeUnavailable || !strings.Contains(de.Message, "try again") {
		t.Fatalf("sealing failure answered %v", err)
	}
	if n := countBlobs(t, e); n != before {
		t.Errorf("%d blobs after failed signing, want %d (no orphans)", n, before)
	}
	v, err := e.svc.SignatoryView(ctx, sp)
	sig := v.Signatory
	if err != nil || sig.Status != order.SignatoryOpen {
		t.Fatalf("after a failed seal the signatory is %v (%v), want OPEN", sig.Status, err)
	}
	// Retry works once the sealer is back.
	sealer.fail.Store(false)
	if _, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[1].ID, Noop: true}); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

// Two signatories signing the same documents at the same time both end up recorded, each on top of the
// other's version (the second to commit re-seals).
func TestConcurrentSignaturesBothLand(t *testing.T) {
	e, sealer, _, o := newSigningEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range o.Signatories {
		sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: s.ID}
		approveAll(t, e, sp, o)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[1].ID, Noop: true})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.store.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got.Documents {
		if len(d.Versions) != 3 {
			t.Errorf("document %s has %d versions, want 3", d.Title, len(d.Versions))
		}
	}
	if n := countBlobs(t, e); n != 6 {
		t.Errorf("%d blobs, want 6 (orphans of the retried attempt must be gone); %d seals made", n, sealer.calls.Load())
	}
	if !got.AllCurrentSignatoriesSigned() {
		t.Error("both signed, but the order does not say so")
	}
}

func TestSignActingAs(t *testing.T) {
	e, _, p, o := newSigningEnv(t)
	ctx := context.Background()
	noop := signing.SignInput{ProviderID: o.EvidenceProviders[1].ID, Noop: true}
	// Signatory 0 has no preapproved documents.
	if _, _, err := e.svc.SignActingAs(ctx, p, o.Signatories[0].ID, noop); err == nil || !strings.Contains(err.Error(), "preapproved") {
		t.Fatalf("acting as a signatory without preapproval: %v", err)
	}
	docs := []order.SignatoryDocument{{ID: o.Documents[0].ID, Preapproved: true}, {ID: o.Documents[1].ID, Preapproved: true}}
	o2, ids, err := e.svc.AddSignatories(ctx, p, o.ID, []order.SignatoryDraft{{Documents: docs}})
	if err != nil {
		t.Fatal(err)
	}
	other := e.principal(t, "other", tenant.KeyReadWrite)
	if _, _, err := e.svc.SignActingAs(ctx, other, ids[0], noop); err == nil {
		t.Fatal("another application signed for our signatory")
	}
	_, sig, err := e.svc.SignActingAs(ctx, p, ids[0], noop)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Status != order.SignatorySigned || len(o2.Signatories) != 3 {
		t.Fatalf("acting-as signature not recorded: %s", sig.Status)
	}
}

// markFinalizer stands in for the DSS + document timestamp step.
type markFinalizer struct{ fail, revoked atomic.Bool }

func (m *markFinalizer) Finalize(_ context.Context, pdf []byte) ([]byte, error) {
	if m.fail.Load() {
		return nil, errors.New("TSA unreachable")
	}
	if m.revoked.Load() {
		return nil, fmt.Errorf("validation data: %w", pki.ErrRevoked)
	}
	return append(bytes.Clone(pdf), "\n% finalized\n"...), nil
}

func TestCloseFinalizesSignedDocuments(t *testing.T) {
	for _, retain := range []bool{false, true} {
		t.Run(fmt.Sprintf("retain=%v", retain), func(t *testing.T) {
			finalizer := &markFinalizer{}
			e := newEnvWith(t, &markSealer{}, finalizer)
			ctx := context.Background()
			p := e.principal(t, "app", tenant.KeyReadWrite)
			o, err := e.svc.CreateOrder(ctx, p, order.Draft{
				EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "n"}}},
				Documents: []order.DocumentDraft{
					{Kind: order.DocumentPDF, Title: "Signed", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
					{Kind: order.DocumentPDF, Title: "Unsigned", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0)},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			o, ids, err := e.svc.AddSignatories(ctx, p, o.ID, []order.SignatoryDraft{{Documents: []order.SignatoryDocument{{ID: o.Documents[0].ID}}}})
			if err != nil {
				t.Fatal(err)
			}
			sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: ids[0]}
			if _, _, err := e.svc.SetDocumentStatus(ctx, sp, o.Documents[0].ID, order.DocumentApproved); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true}); err != nil {
				t.Fatal(err)
			}
			blobs := countBlobs(t, e)
			finalizer.fail.Store(true)
			if _, err := e.svc.CloseOrder(ctx, p, o.ID, nil); err == nil || !strings.Contains(err.Error(), "could not be timestamped") {
				t.Fatalf("close with the TSA down: %v", err)
			}
			if got, _ := e.svc.Order(ctx, p, o.ID); got.Status != order.StatusOpen || countBlobs(t, e) != blobs {
				t.Fatalf("a failed close changed the order (%s) or left blobs", got.Status)
			}
			finalizer.fail.Store(false)
			// A revoked certificate is not a retryable outage: retrying cannot help.
			finalizer.revoked.Store(true)
			_, err = e.svc.CloseOrder(ctx, p, o.ID, nil)
			if de, ok := fault.As(err); !ok || de.Code != fault.CodeConflict || !strings.Contains(de.Message, "is revoked") {
				t.Fatalf("close with a revoked certificate: %v", err)
			}
			if got, _ := e.svc.Order(ctx, p, o.ID); got.Status != order.StatusOpen || countBlobs(t, e) != blobs {
				t.Fatalf("a refused close changed the order (%s) or left blobs", got.Status)
			}
			finalizer.revoked.Store(false)
			var days *int
			if retain {
				days = new(int)
				*days = 2
			}
			closed, err := e.svc.CloseOrder(ctx, p, o.ID, days)
			if err != nil {
				t.Fatal(err)
			}
			signed, unsigned := closed.Bytes[o.Documents[0].ID], closed.Bytes[o.Documents[1].ID]
			if !bytes.HasSuffix(signed.Current, []byte("% finalized\n")) || bytes.Contains(unsigned.Current, []byte("finalized")) {
				t.Error("close finalized the wrong documents")
			}
			if retain {
				b, err := e.svc.DocumentBytes(ctx, p, o.ID, o.Documents[0].ID)
				if err != nil || !bytes.Equal(b.Current, signed.Current) {
					t.Errorf("the retained document is not the finalized one: %v", err)
				}
			} else if n := countBlobs(t, e); n != 0 {
				t.Errorf("%d blobs left after closing without retention", n)
			}
		})
	}
}

func TestSignWithOIDCEvidence(t *testing.T) {
	issuer := oidctest.NewIssuer(t)
	sealer := &markSealer{}
	e := newEnvWith(t, sealer, nil)
	e.svc.SetJWTChecker(evidence.NewJWTVerifier(5*time.Second, true))
	ctx := context.Background()
	p := e.principal(t, "app", tenant.KeyReadWrite)
	sub := "sub"
	yes := true
	o, err := e.svc.CreateOrder(ctx, p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, OIDC: &order.OIDCProvider{
			Name: "test", Domain: issuer.URL(), ClientID: "client-1", Audience: "client-1", UniqueEvidenceKey: &sub}}},
		Documents:   []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
		Signatories: []order.SignatoryDraft{{EvidenceValidation: []order.EvidenceValidation{{Key: "email_verified", Boolean: &yes}}}, {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	provider := o.EvidenceProviders[0].ID
	signWith := func(i int, claims map[string]any) error {
		sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[i].ID}
		approveAll(t, e, sp, o)
		jwt := issuer.Token(t, nil, claims)
		_, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: provider, OIDCJWT: &jwt})
		return err
	}
	if err := signWith(0, map[string]any{"email_verified": false}); err == nil || !strings.Contains(err.Error(), "email_verified") {
		t.Fatalf("evidenceValidation not enforced: %v", err)
	}
	if err := signWith(0, map[string]any{"aud": "someone-else"}); err == nil || !strings.Contains(err.Error(), "input.oidc.jwt: is not a valid ID token") {
		t.Fatalf("a token for another audience: %v", err)
	}
	if err := signWith(0, map[string]any{"email_verified": true, "sub": "person-1"}); err != nil {
		t.Fatal(err)
	}
	if err := signWith(1, map[string]any{"sub": "person-1"}); err == nil || !strings.Contains(err.Error(), "same person") {
		t.Fatalf("the same person signed twice: %v", err)
	}
	if err := signWith(1, map[string]any{"sub": "person-2"}); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.GetOrder(ctx, o.ID)
	for _, s := range stored.Signatories {
		if s.Status != order.SignatorySigned || s.EvidenceKey == "" || strings.Contains(s.EvidenceKey, "person") {
			t.Errorf("signatory %s: %s, evidence key %q (must be a hash)", s.ID, s.Status, s.EvidenceKey)
		}
	}
	if sealer.calls.Load() != 2 {
		t.Errorf("%d seals, want 2 (refused attempts must not seal)", sealer.calls.Load())
	}
}
