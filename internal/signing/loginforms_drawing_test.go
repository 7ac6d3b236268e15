package signing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/tenant"
)

// drawingRig is an order whose signatory may sign with an allOf of a login and a drawing (name
// required, at least 100×40), an allOf of a login and noop, and a plain login; its document has a
// form. The signatory has approved it.
type drawingRig struct {
	svc                  *signing.Service
	dir                  string
	sp                   signing.SignatoryPrincipal
	doc                  string
	allOfDraw, allOfNoop string
	login                string
}

func newDrawingRig(t *testing.T) *drawingRig {
	t.Helper()
	ctx := context.Background()
	issuer := oidctest.NewIssuer(t)
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Login: login, JWT: verifier})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	oidc := func() *order.OIDCProvider {
		return &order.OIDCProvider{Name: "T", Domain: issuer.URL(), ClientID: "client-1", Audience: "client-1"}
	}
	minW, minH := 100, 40
	enabled := true
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "A", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Form(t), FormEnabled: &enabled}},
		EvidenceProviders: []order.EvidenceProvider{
			{EnabledByDefault: true, AllOf: []order.EvidenceProvider{{OIDC: oidc()},
				{Drawable: &order.DrawableProvider{RequireName: true, MinimumWidth: &minW, MinimumHeight: &minH}}}},
			{EnabledByDefault: true, AllOf: []order.EvidenceProvider{{OIDC: oidc()}, {Noop: &order.NoopProvider{Name: "test"}}}},
			{EnabledByDefault: true, OIDC: oidc()},
		},
		Signatories: []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &drawingRig{svc: svc, dir: dir, sp: signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID},
		doc: o.Documents[0].ID, allOfDraw: o.EvidenceProviders[0].ID, allOfNoop: o.EvidenceProviders[1].ID, login: o.EvidenceProviders[2].ID}
	if _, _, err := svc.SetDocumentStatus(ctx, r.sp, r.doc, order.DocumentApproved); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *drawingRig) start(t *testing.T, in signing.LoginStart) (authURL, state string, err error) {
	t.Helper()
	in.RedirectURI, in.Browser = "https://sign.example/sign/callback", "b"
	if in.Stage == "" {
		in.Stage = order.EvidenceStageSign
	}
	return r.svc.StartLogin(context.Background(), r.sp, in)
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const drawnNameMarker = "Drawn-By-Ada-9c41"

// A drawing given at the start of an allOf login is kept with the form values, encrypted, out
// of the authorization URL, and given back once, as it was.
func TestLoginDrawingKept(t *testing.T) {
	ctx := context.Background()
	r := newDrawingRig(t)
	img, name := pngOf(t, 240, 90), drawnNameMarker
	form := []signing.DocumentForm{{DocumentID: r.doc, Fields: []signing.FormValue{{Field: "name", Value: "typed"}}}}
	authURL, state, err := r.start(t, signing.LoginStart{ProviderID: r.allOfDraw, Form: form,
		Drawing: &signing.DrawableInput{Image: img, Name: &name}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(authURL, drawnNameMarker) || len(authURL) > 4096 {
		t.Errorf("the drawing travels in the authorization URL (%d bytes)", len(authURL))
	}
	_ = filepath.WalkDir(r.dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(drawnNameMarker)) || bytes.Contains(b, img) {
				t.Errorf("%s holds the drawing in clear", path)
			}
		}
		return nil
	})
	kept, err := r.svc.TakeLoginForm(ctx, r.sp, state)
	if err != nil {
		t.Fatal(err)
	}
	if d := kept.Drawing; d == nil || !bytes.Equal(d.Image, img) || d.Name == nil || *d.Name != name {
		t.Errorf("kept drawing: %+v, want the PNG and the name given", kept.Drawing)
	}
	if len(kept.Documents) != 1 || kept.Documents[0].DocumentID != r.doc || len(kept.Documents[0].Fields) != 1 || kept.Documents[0].Fields[0] != form[0].Fields[0] {
		t.Errorf("kept documents: %+v, want %+v", kept.Documents, form)
	}
	if _, err := r.svc.TakeLoginForm(ctx, r.sp, state); err == nil || !strings.Contains(err.Error(), "no longer kept") {
		t.Errorf("second take: %v, want refused", err)
	}

	// A drawing alone (no form values) is kept too: the login's state names a record.
	_, state, err = r.start(t, signing.LoginStart{ProviderID: r.allOfDraw, Drawing: &signing.DrawableInput{Image: img, Name: &name}})
	if err != nil {
		t.Fatal(err)
	}
	if kept, err := r.svc.TakeLoginForm(ctx, r.sp, state); err != nil || kept.Drawing == nil || kept.Documents != nil {
		t.Errorf("a drawing without form values: %+v, %v", kept, err)
	}
}

// A record sealed before drawings were kept ({"documents": [...]}) still decodes: a login in
// flight during a deploy signs with its form values.
func TestLoginFormOldShapeDecodes(t *testing.T) {
	ctx := context.Background()
	r := newDrawingRig(t)
	form := []signing.DocumentForm{{DocumentID: r.doc, Fields: []signing.FormValue{{Field: "name", Value: "new"}}}}
	_, state, err := r.start(t, signing.LoginStart{ProviderID: r.login, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(r.doc)
	plain := []byte(`{"documents":[{"DocumentID":` + string(old) + `,"Fields":[{"Field":"name","Value":"from before the deploy"}]}]}`)
	if err := r.svc.ReplaceLoginForm(ctx, r.sp, state, plain); err != nil {
		t.Fatal(err)
	}
	kept, err := r.svc.TakeLoginForm(ctx, r.sp, state)
	if err != nil {
		t.Fatal(err)
	}
	want := signing.FormValue{Field: "name", Value: "from before the deploy"}
	if kept.Drawing != nil || len(kept.Documents) != 1 || kept.Documents[0].DocumentID != r.doc || len(kept.Documents[0].Fields) != 1 || kept.Documents[0].Fields[0] != want {
		t.Errorf("old-shape record: %+v, want documents %s = %+v and no drawing", kept, r.doc, want)
	}
}

// A drawing that breaks the drawable's rules, or goes with a login that signs with no drawable,
// is refused at the start, before the signatory leaves, and nothing is stored.
func TestLoginDrawingRefusedAtStart(t *testing.T) {
	ctx := context.Background()
	r := newDrawingRig(t)
	name, blank := "Ada", "  "
	good := pngOf(t, 240, 90)
	for _, tc := range []struct {
		name     string
		provider string
		stage    string
		drawing  signing.DrawableInput
		want     string
	}{
		{"smaller than the minimum", r.allOfDraw, "", signing.DrawableInput{Image: pngOf(t, 60, 90), Name: &name}, "at least 100×40"},
		{"without the required name", r.allOfDraw, "", signing.DrawableInput{Image: good, Name: &blank}, "drawable.name"},
		{"not a PNG", r.allOfDraw, "", signing.DrawableInput{Image: []byte("GIF89a"), Name: &name}, "must be a PNG image"},
		{"empty", r.allOfDraw, "", signing.DrawableInput{Name: &name}, "drawable.image"},
		{"over the size limit", r.allOfDraw, "", signing.DrawableInput{Image: make([]byte, evidence.MaxImageBytes+1), Name: &name}, "at most"},
		{"a plain login", r.login, "", signing.DrawableInput{Image: good, Name: &name}, "only for an allOf evidence provider with a drawable member"},
		{"an allOf without a drawable", r.allOfNoop, "", signing.DrawableInput{Image: good, Name: &name}, "only for an allOf evidence provider with a drawable member"},
		{"a VIEW-stage login", r.allOfDraw, order.EvidenceStageView, signing.DrawableInput{Image: good, Name: &name}, "SIGN-stage login only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := r.start(t, signing.LoginStart{ProviderID: tc.provider, Stage: tc.stage, Drawing: &tc.drawing})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("start: %v, want refused with %q", err, tc.want)
			}
		})
	}
	if rep, err := r.svc.PurgeLoginForms(ctx, time.Now().Add(time.Hour)); err != nil || rep.LoginFormsPurged != 0 {
		t.Errorf("refused drawings were stored: %+v, %v", rep, err)
	}
	// The same start with a good drawing goes through (the cases above fail for their reason).
	if _, _, err := r.start(t, signing.LoginStart{ProviderID: r.allOfDraw, Drawing: &signing.DrawableInput{Image: good, Name: &name}}); err != nil {
		t.Errorf("a good drawing: %v", err)
	}
}
