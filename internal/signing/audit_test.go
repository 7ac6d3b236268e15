package signing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/signing"
	"esign/internal/tenant"
)

// The trail of an order from creation to close, read back by the application: every act in order,
// at the service's clock, with the signatory's address and user agent where they acted, and no
// entry in clear anywhere under the data folder.
func TestAuditTrailRecordsTheOrdersLife(t *testing.T) {
	e, _, p, o := newSigningEnv(t)
	start := o.CreatedAt.Add(time.Hour)
	clock := start
	e.svc.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	const ua = "AuditTrailTest/7.3 (distinctive-user-agent)"
	ctx := signing.WithActor(context.Background(), order.Actor{IP: "203.0.113.9", UserAgent: ua + "\x00\r\n"})
	signer := o.Signatories[0].ID
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: signer}
	docA, docB := o.Documents[0].ID, o.Documents[1].ID

	originalSHA := map[string]string{}
	for _, d := range o.Documents {
		b, err := e.svc.DocumentBytes(context.Background(), p, o.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		originalSHA[d.ID] = fmt.Sprintf("%x", sha256.Sum256(b.Original))
	}
	if _, _, err := e.svc.Track(ctx, sp, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.SetDocumentStatus(ctx, sp, docA, order.DocumentOpened); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{docA, docB} {
		if _, _, err := e.svc.SetDocumentStatus(ctx, sp, d, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
	}
	name := "Ada Lovelace"
	signed, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID,
		Drawable: &signing.DrawableInput{Image: drawn(t), Name: &name}})
	if err != nil {
		t.Fatal(err)
	}
	wantSHA := map[string]string{}
	for _, d := range signed.Documents {
		b, err := e.svc.DocumentBytes(context.Background(), p, o.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantSHA[d.ID] = fmt.Sprintf("%x", sha256.Sum256(b.Current))
	}
	if _, err := e.svc.ExtendOrder(context.Background(), p, o.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CloseOrder(context.Background(), p, o.ID, nil); err != nil {
		t.Fatal(err)
	}

	readOnly := e.principal(t, "app", tenant.KeyReadOnly)
	trail, err := e.svc.AuditTrail(context.Background(), readOnly, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind      order.AuditKind
		signatory string
		document  string
		person    bool
	}
	second := o.Signatories[1].ID
	wants := []want{
		{order.AuditOrderCreated, "", "", false},
		{order.AuditSignatoryAdded, signer, "", false},
		{order.AuditSignatoryAdded, second, "", false},
		{order.AuditDocumentStored, "", docA, false},
		{order.AuditDocumentStored, "", docB, false},
		{order.AuditLinkOpened, signer, "", true},
		{order.AuditDocumentOpened, signer, docA, true},
		{order.AuditDocumentApproved, signer, docA, true},
		{order.AuditDocumentApproved, signer, docB, true},
		{order.AuditDocumentSealed, signer, docA, true},
		{order.AuditDocumentSealed, signer, docB, true},
		{order.AuditSignatorySigned, signer, "", true},
		{order.AuditOrderExtended, "", "", false},
		{order.AuditOrderClosed, "", "", false},
		{order.AuditDocumentsDeleted, "", "", false},
	}
	if len(trail) != len(wants) {
		t.Fatalf("trail has %d entries, want %d: %+v", len(trail), len(wants), trail)
	}
	for i, w := range wants {
		got := trail[i]
		if got.Kind != w.kind || got.SignatoryID != w.signatory || got.DocumentID != w.document {
			t.Errorf("entry %d: %s signatory %q document %q, want %s %q %q", i, got.Kind, got.SignatoryID, got.DocumentID, w.kind, w.signatory, w.document)
		}
		if i > 0 && got.At.Before(trail[i-1].At) {
			t.Errorf("entry %d (%s) at %v is before the one before it (%v)", i, got.Kind, got.At, trail[i-1].At)
		}
		if i >= 5 && !got.At.After(start) {
			t.Errorf("entry %d (%s) at %v: not the service's clock", i, got.Kind, got.At)
		}
		switch {
		case w.person && (got.Actor == nil || got.Actor.IP != "203.0.113.9" || got.Actor.UserAgent != ua):
			t.Errorf("entry %d (%s): actor %+v, want the signatory's request (control characters removed)", i, got.Kind, got.Actor)
		case !w.person && got.Actor != nil:
			t.Errorf("entry %d (%s): actor %+v, want none (the API)", i, got.Kind, got.Actor)
		}
	}
	for _, stored := range trail[3:5] {
		if stored.Details["sha256"] != originalSHA[stored.DocumentID] || stored.Details["version"] != "0" {
			t.Errorf("stored entry of %s: %v, want the original's sha256 %s", stored.DocumentID, stored.Details, originalSHA[stored.DocumentID])
		}
	}
	signedEntry := trail[11]
	if signedEntry.Details["provider"] != o.EvidenceProviders[0].ID || signedEntry.Details["providerKind"] != string(order.ProviderDrawable) ||
		signedEntry.Details["name"] != name {
		t.Errorf("signed entry details: %v", signedEntry.Details)
	}
	for _, sealed := range trail[9:11] {
		if sealed.Details["sha256"] != wantSHA[sealed.DocumentID] || sealed.Details["version"] != "1" {
			t.Errorf("sealed entry of %s: %v, want sha256 %s of version 1", sealed.DocumentID, sealed.Details, wantSHA[sealed.DocumentID])
		}
	}
	if got := trail[14].Details["reason"]; got != order.DeletedAtClose {
		t.Errorf("documents deleted because %q, want %q", got, order.DeletedAtClose)
	}
	if got := trail[12].Details["days"]; got != "3" {
		t.Errorf("extended by %q days", got)
	}

	// Another application sees no trail of this order.
	other := e.principal(t, "other-app", tenant.KeyReadWrite)
	if _, err := e.svc.AuditTrail(context.Background(), other, o.ID); err == nil {
		t.Error("another application read the trail")
	} else {
		wantCode(t, err, fault.CodeNotFound)
	}

	// Nothing under the data folder holds an entry in clear: not the user agent, not the address.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(filepath.Dir(e.dbPath), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, secret := range []string{"distinctive-user-agent", "203.0.113.9", name} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q in clear", strings.TrimPrefix(path, filepath.Dir(e.dbPath)), secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no file under the data folder: the check looked at nothing")
	}
}

// A signatory's rejection is theirs, with its reason; the user agent kept is bounded.
func TestAuditTrailRejection(t *testing.T) {
	e, _, p, o := newSigningEnv(t)
	ctx := signing.WithActor(context.Background(), order.Actor{IP: "198.51.100.4", UserAgent: strings.Repeat("é", 300)})
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[1].ID}
	reason := "the amount is wrong"
	if _, _, err := e.svc.RejectOrder(ctx, sp, &reason); err != nil {
		t.Fatal(err)
	}
	trail, err := e.svc.AuditTrail(context.Background(), p, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := trail[len(trail)-1]
	if last.Kind != order.AuditSignatoryRejected || last.SignatoryID != sp.SignatoryID || last.Details["reason"] != reason ||
		last.Actor == nil || last.Actor.IP != "198.51.100.4" {
		t.Fatalf("last entry: %+v", last)
	}
	if ua := last.Actor.UserAgent; len(ua) != 512 || !utf8.ValidString(ua) {
		t.Errorf("user agent of %d bytes (valid UTF-8: %v) kept, want 512 bytes cut on a character", len(ua), utf8.ValidString(ua))
	}
}
