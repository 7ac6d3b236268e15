package signui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

// TestPageUsesTheServiceClock: the page says an order has expired by the service's clock, also
// while the sweeper has not yet marked it EXPIRED, and not by the wall clock of the machine.
func TestPageUsesTheServiceClock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Make(t, 1, 0)}},
		Signatories: []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := signui.New(svc, "https://sign.example", signingtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	page := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/sign/" + svc.SignatoryToken(o.Signatories[0].ID))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d:\n%s", resp.StatusCode, body)
		}
		return string(body)
	}
	expired := i18n.T("EN_US")("expired")

	if body := page(); strings.Contains(body, expired) || !strings.Contains(body, "Contract") {
		t.Fatalf("a fresh order's page is not the signing page:\n%s", body)
	}
	// The service's clock passes the expiry; the order is still OPEN (no sweep ran).
	svc.Now = func() time.Time { return o.ExpiresAt.Add(time.Minute) }
	if body := page(); !strings.Contains(body, expired) || strings.Contains(body, "Contract") {
		t.Errorf("past the service clock's expiry the page does not say the order expired:\n%s", body)
	}
	if v, err := svc.SignatoryView(ctx, signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}); err != nil ||
		v.Order.Status != order.StatusOpen || v.Blocked != order.BlockedExpired {
		t.Errorf("SignatoryView = status %v, blocked %q (%v); want OPEN and expired", v.Order.Status, v.Blocked, err)
	}
}
