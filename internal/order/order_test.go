package order

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
)

func testEnv() Env {
	n := 0
	return Env{
		Now:             time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		NewID:           func() string { n++; return fmt.Sprintf("id%d", n) },
		TestApplication: true,
		MaxDocumentSize: 100,
	}
}

func ptr[T any](v T) *T { return &v }

func draft(mutate func(*Draft)) Draft {
	d := Draft{Documents: []DocumentDraft{{Kind: DocumentPDF, Title: "A", Reference: ptr("a"), StorageMode: StorageModeTemporary, Data: []byte("%PDF-")}}}
	if mutate != nil {
		mutate(&d)
	}
	return d
}

func TestBuildDefaults(t *testing.T) {
	env := testEnv()
	o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{}} }), "app", env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"status", o.Status, StatusOpen},
		{"maxSignatories", o.MaxSignatories, DefaultMaxSignatories},
		{"expiresAt", o.ExpiresAt, env.Now.Add(90 * 24 * time.Hour)},
		{"language", o.UI.Language, "EN_US"},
		{"stages", strings.Join(o.EvidenceValidationStages, ","), "SIGN"},
		{"providers", len(o.EvidenceProviders), 1},
		{"default provider", o.EvidenceProviders[0].Kind, ProviderDrawable},
		{"signatory role", o.Signatories[0].SignatoryRole, RoleSigner},
		{"signing sequence", o.Signatories[0].SigningSequence, DefaultSigningSequence},
		{"signatory status", o.Signatories[0].Status, SignatoryOpen},
		{"signatory documents (nil = all)", o.Signatories[0].Documents == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestBuildRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Draft)
		prod   bool
		want   string // "" = valid
	}{
		{"valid", nil, false, ""},
		{"expiresAt", func(d *Draft) { d.ExpiresAt = ptr("2026-02-01T10:00:00+02:00") }, false, ""},
		{"both expiries", func(d *Draft) { d.ExpiresAt = ptr("2026-02-01T10:00:00Z"); d.ExpiresInDays = ptr(3) }, false, "expiresAt: cannot be combined"},
		{"expiresInDays 0", func(d *Draft) { d.ExpiresInDays = ptr(0) }, false, "expiresInDays: must be a positive"},
		{"past expiresAt", func(d *Draft) { d.ExpiresAt = ptr("2020-01-01T00:00:00Z") }, false, "expiresAt: must be in the future"},
		{"expiresAt without zone", func(d *Draft) { d.ExpiresAt = ptr("2027-01-01T00:00:00") }, false, "expiresAt: must be ISO-8601"},
		{"max 0", func(d *Draft) { d.MaxSignatories = ptr(0) }, false, "maxSignatories: must be between 1"},
		{"too many", func(d *Draft) { d.MaxSignatories = ptr(1); d.Signatories = make([]SignatoryDraft, 2) }, false, "too many signatories"},
		{"document too big", func(d *Draft) { d.Documents[0].Data = make([]byte, 101) }, false, "documents[0].pdf.blob: Document A is 101 bytes, more than the limit of 100 bytes (100 bytes)"},
		{"no title", func(d *Draft) { d.Documents[0].Title = " " }, false, "documents[0].pdf.title: must not be empty"},
		{"duplicate reference", func(d *Draft) { d.Documents = append(d.Documents, d.Documents[0]) }, false, "documents[1].pdf.reference"},
		{"xml", func(d *Draft) { d.Documents[0].Kind = DocumentXML }, false, "documents[0].xml"},
		{"noop in production", func(d *Draft) { d.EvidenceProviders = []EvidenceProvider{{Noop: &NoopProvider{Name: "n"}}} }, true, "only available to TEST applications"},
		{"noop in test", func(d *Draft) { d.EvidenceProviders = []EvidenceProvider{{Noop: &NoopProvider{Name: "n"}}} }, false, ""},
		{"oidc without domain", func(d *Draft) {
			d.EvidenceProviders = []EvidenceProvider{{OIDC: &OIDCProvider{Name: "n", ClientID: "c", Audience: "a"}}}
		}, false, "evidenceProviders[0].oidc.domain: must not be empty"},
		{"allOf empty", func(d *Draft) { d.EvidenceProviders = []EvidenceProvider{{AllOf: []EvidenceProvider{}}} }, false, "allOf.providers: must not be empty"},
		{"drawable min width", func(d *Draft) {
			d.EvidenceProviders = []EvidenceProvider{{Drawable: &DrawableProvider{MinimumWidth: ptr(0)}}}
		}, false, "minimumWidth"},
		{"bad stage", func(d *Draft) { d.EvidenceValidationStages = []string{"LATER"} }, false, "evidenceValidationStages[0]"},
		{"bad timezone", func(d *Draft) { d.Timezone = ptr("Nowhere/Else") }, false, "timezone:"},
		{"good timezone", func(d *Draft) { d.Timezone = ptr("America/New_York") }, false, ""},
		{"redirect not url", func(d *Draft) { d.UI = &UI{SignatoryRedirectURI: ptr("javascript:alert(1)")} }, false, "ui.signatoryRedirectUri"},
		{"webhook secret 31 bytes", func(d *Draft) { d.Webhook = &Webhook{URL: "https://x.test/h", Secret: make([]byte, 31)} }, false, "webhook.secret"},
		{"webhook secret 65 bytes", func(d *Draft) { d.Webhook = &Webhook{URL: "https://x.test/h", Secret: make([]byte, 65)} }, false, "webhook.secret"},
		{"webhook secret 32 bytes", func(d *Draft) { d.Webhook = &Webhook{URL: "https://x.test/h", Secret: make([]byte, 32)} }, false, ""},
		{"sequence 0", func(d *Draft) { d.Signatories = []SignatoryDraft{{SigningSequence: ptr(0)}} }, false, "signatories[0].signingSequence"},
		{"approver preapproved", func(d *Draft) {
			d.Signatories = []SignatoryDraft{{SignatoryRole: ptr(RoleApprover), Documents: []SignatoryDocument{{ID: "a", Preapproved: true}}}}
		}, false, "an APPROVER cannot be preapproved"},
		{"documents by reference", func(d *Draft) { d.Signatories = []SignatoryDraft{{Documents: []SignatoryDocument{{ID: "a"}}}} }, false, ""},
		{"unknown provider id", func(d *Draft) { d.Signatories = []SignatoryDraft{{EvidenceProviders: []string{"zz"}}} }, false, "signatories[0].evidenceProviders[0].id"},
		{"validation both", func(d *Draft) {
			d.Signatories = []SignatoryDraft{{EvidenceValidation: []EvidenceValidation{{Key: "k", Value: ptr("v"), Boolean: ptr(true)}}}}
		}, false, "exactly one of value and boolean"},
		{"seal positions for some", func(d *Draft) {
			d.Signatories = []SignatoryDraft{{Documents: []SignatoryDocument{{ID: "a", SealPositions: []SealPosition{{Page: 1}}}}}, {}}
		}, false, "pdfSealPositions given for some"},
		{"seal scale", func(d *Draft) {
			d.Signatories = []SignatoryDraft{{Documents: []SignatoryDocument{{ID: "a", SealPositions: []SealPosition{{Page: 1, Scale: ptr(1.5)}}}}}}
		}, false, "scale: must be between 0.2 and 1.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := testEnv()
			env.TestApplication = !c.prod
			_, err := Build(draft(c.mutate), "app", env)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			case err != nil:
				if de, ok := fault.As(err); !ok || (de.Code != fault.CodeInvalid && de.Code != fault.CodeNotImpl) {
					t.Fatalf("error %v is not an invalid-input domain error", err)
				}
			}
		})
	}
}

func TestSealScaleRoundsDown(t *testing.T) {
	o, err := Build(draft(func(d *Draft) {
		d.Signatories = []SignatoryDraft{{Documents: []SignatoryDocument{{ID: "a", SealPositions: []SealPosition{{Page: 1, Scale: ptr(0.47)}}}}}}
	}), "app", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got := *o.Signatories[0].Documents[0].SealPositions[0].Scale; got != 0.4 {
		t.Errorf("scale = %v, want 0.4", got)
	}
}

func TestLifecycleTransitions(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	newOrder := func() *SignatureOrder {
		o, err := Build(draft(func(d *Draft) { d.Signatories = []SignatoryDraft{{}} }), "app", testEnv())
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := newOrder()
	if err := o.Extend(30); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(now, ptr(7)); err != nil {
		t.Fatal(err)
	}
	if !o.RetainDocumentsUntil.Equal(now.AddDate(0, 0, 7)) {
		t.Errorf("retain until %v", o.RetainDocumentsUntil)
	}
	for name, err := range map[string]error{
		"extend":  o.Extend(1),
		"cancel":  o.Cancel(now),
		"close":   o.Close(now, nil),
		"change":  o.Change(ptr(3), nil),
		"delete":  o.DeleteSignatory(o.Signatories[0].ID),
		"signery": o.ChangeSignatory(o.Signatories[0].ID, SignatoryDraft{}),
	} {
		if de, ok := fault.As(err); !ok || de.Code != fault.CodeConflict {
			t.Errorf("%s on a closed order: %v, want a conflict", name, err)
		}
	}
	if err := o.CheckCleanup(); err != nil {
		t.Errorf("cleanup of a closed order: %v", err)
	}
	if err := newOrder().CheckCleanup(); err == nil {
		t.Error("cleanup of an open order must be refused")
	}
	o2 := newOrder()
	o2.Signatories[0].Status = SignatorySigned
	if err := o2.Change(ptr(20), nil); err == nil {
		t.Error("maxSignatories changed after the first signature")
	}
	if err := o2.DeleteSignatory(o2.Signatories[0].ID); err == nil {
		t.Error("a signed signatory was deleted")
	}
	o3 := newOrder()
	if err := o3.Change(ptr(0), nil); err == nil {
		t.Error("maxSignatories 0 accepted")
	}
	o3.Documents[0].Versions = []DocumentVersion{{Number: 0, BlobKey: "k"}}
	if dropped := o3.DropDocuments(now); len(dropped) != 1 || o3.Documents[0].Current() != nil || o3.DocumentsDeletedAt == nil {
		t.Errorf("DropDocuments: %v", dropped)
	}
}

func TestTimezonesLoad(t *testing.T) {
	names, err := Timezones()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 300 {
		t.Errorf("%d timezones, want the IANA list", len(names))
	}
}
