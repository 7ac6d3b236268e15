package signing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/store"
	"esign/internal/tenant"
)

func mustCode(t *testing.T, what string, err error, want fault.Code) {
	t.Helper()
	de, ok := fault.As(err)
	if !ok || de.Code != want {
		t.Fatalf("%s: %v, want a %s error", what, err, want)
	}
}

func (e *env) tenant(t *testing.T, name string) (signing.TenantCredentials, signing.TenantPrincipal) {
	t.Helper()
	ctx := context.Background()
	creds, err := e.svc.CreateTenant(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := e.svc.AuthenticateTenant(ctx, creds.ClientID, creds.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return creds, tp
}

func (e *env) application(t *testing.T, tp signing.TenantPrincipal, name, domain string) (tenant.Application, signing.IssuedKey) {
	t.Helper()
	app, key, err := e.svc.CreateApplication(context.Background(), tp, signing.NewApplication{TenantID: tp.Tenant.ID, Name: name,
		Environment: tenant.EnvironmentTest, VerifyDomain: domain, VerifyRealm: "urn:" + name})
	if err != nil {
		t.Fatal(err)
	}
	return app, key
}

// Tenant keys and application keys authenticate only as what they are: neither secret opens the
// other kind of principal, whatever the client id says.
func TestTenantAndApplicationKeysStayApart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds, tp := e.tenant(t, "Acme")
	if tp.Tenant.ID != creds.TenantID || tp.Tenant.Name != "Acme" || tp.ClientID != creds.ClientID ||
		!strings.HasPrefix(creds.ClientID, tenant.TenantClientIDPrefix) {
		t.Fatalf("tenant principal %+v for %+v", tp, creds)
	}
	app, key := e.application(t, tp, "Shop", "acme.broker")
	p, err := e.svc.Authenticate(ctx, key.Key.ClientID, key.ClientSecret)
	if err != nil || p.Application.ID != app.ID || p.Application.TenantID != tp.Tenant.ID || !p.CanWrite() {
		t.Fatalf("application key: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		name             string
		check            func(id, secret string) error
		clientID, secret string
	}{
		{"tenant key as an application", func(id, s string) error { _, err := e.svc.Authenticate(ctx, id, s); return err }, creds.ClientID, creds.ClientSecret},
		{"application key as a tenant", func(id, s string) error { _, err := e.svc.AuthenticateTenant(ctx, id, s); return err }, key.Key.ClientID, key.ClientSecret},
		{"application key with a tenant prefix", func(id, s string) error { _, err := e.svc.AuthenticateTenant(ctx, id, s); return err },
			tenant.TenantClientIDPrefix + key.Key.ClientID, key.ClientSecret},
		{"tenant key, wrong secret", func(id, s string) error { _, err := e.svc.AuthenticateTenant(ctx, id, s); return err }, creds.ClientID, key.ClientSecret},
		{"tenant key, empty secret", func(id, s string) error { _, err := e.svc.AuthenticateTenant(ctx, id, s); return err }, creds.ClientID, ""},
		{"unknown tenant key", func(id, s string) error { _, err := e.svc.AuthenticateTenant(ctx, id, s); return err }, "tenant-nope", creds.ClientSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustCode(t, tc.name, tc.check(tc.clientID, tc.secret), fault.CodeUnauthorized)
		})
	}

	second, err := e.svc.CreateTenantKey(ctx, creds.TenantID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tp2, err := e.svc.AuthenticateTenant(ctx, second.ClientID, second.ClientSecret); err != nil || tp2.Tenant.ID != creds.TenantID {
		t.Fatalf("second tenant key: %+v, %v", tp2, err)
	}
	_, err = e.svc.CreateTenantKey(ctx, "no-such-tenant", nil)
	mustCode(t, "key of an unknown tenant", err, fault.CodeNotFound)
	_, err = e.svc.CreateTenant(ctx, "  ", nil)
	mustCode(t, "tenant without a name", err, fault.CodeInvalid)
}

// A tenant reaches only its own applications and their keys; another tenant's answer as unknown.
func TestTenantReachesOnlyItsApplications(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, acme := e.tenant(t, "Acme")
	_, other := e.tenant(t, "Other")
	app, key := e.application(t, acme, "Shop", "acme.broker")
	legacy := e.principal(t, "legacy", tenant.KeyReadWrite).Application

	for _, tc := range []struct {
		name string
		call func() error
		want fault.Code
	}{
		{"create an application in another tenant", func() error {
			_, _, err := e.svc.CreateApplication(ctx, other, signing.NewApplication{TenantID: acme.Tenant.ID, Name: "X", Environment: tenant.EnvironmentTest})
			return err
		}, fault.CodeNotFound},
		{"create a key", func() error {
			_, _, err := e.svc.CreateApplicationKey(ctx, other, app.ID, nil, nil)
			return err
		}, fault.CodeNotFound},
		{"refresh a key", func() error { _, _, err := e.svc.RefreshApplicationKey(ctx, other, app.ID, key.Key.ID); return err }, fault.CodeNotFound},
		{"delete a key", func() error { _, err := e.svc.DeleteApplicationKey(ctx, other, app.ID, key.Key.ID); return err }, fault.CodeNotFound},
		{"create a key for an application without a tenant", func() error {
			_, _, err := e.svc.CreateApplicationKey(ctx, acme, legacy.ID, nil, nil)
			return err
		}, fault.CodeNotFound},
		{"refresh a key of another application", func() error {
			other, _ := e.application(t, acme, "Second", "")
			_, _, err := e.svc.RefreshApplicationKey(ctx, acme, other.ID, key.Key.ID)
			return err
		}, fault.CodeNotFound},
		{"take a name in use", func() error {
			_, _, err := e.svc.CreateApplication(ctx, other, signing.NewApplication{TenantID: other.Tenant.ID, Name: "Shop", Environment: tenant.EnvironmentTest})
			return err
		}, fault.CodeConflict},
		{"a mode that does not exist", func() error {
			mode := tenant.KeyMode("ADMIN")
			_, _, err := e.svc.CreateApplicationKey(ctx, acme, app.ID, &mode, nil)
			return err
		}, fault.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) { mustCode(t, tc.name, tc.call(), tc.want) })
	}
	if p, err := e.svc.Authenticate(ctx, key.Key.ClientID, key.ClientSecret); err != nil || p.Application.ID != app.ID {
		t.Fatalf("the key after another tenant's attempts: %+v, %v", p, err)
	}
	if got, err := e.svc.TenantApplication(ctx, other, app.ID); err != nil || got != nil {
		t.Errorf("another tenant's application: %+v, %v", got, err)
	}
	if got, err := e.svc.TenantApplication(ctx, acme, legacy.ID); err != nil || got != nil {
		t.Errorf("an application without a tenant: %+v, %v", got, err)
	}
	if got, err := e.svc.TenantApplications(ctx, other, acme.Tenant.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("another tenant's applications: %+v, %v", got, err)
	}
	if keys, err := e.svc.TenantApplicationKeys(ctx, other, app.ID); err != nil || len(keys) != 0 {
		t.Errorf("another tenant's keys: %+v, %v", keys, err)
	}
	if got := e.svc.Tenant(other, acme.Tenant.ID); got != nil {
		t.Errorf("another tenant: %+v", got)
	}
	if got := e.svc.Tenant(acme, acme.Tenant.ID); got == nil || got.Name != "Acme" {
		t.Errorf("own tenant: %+v", got)
	}

	// The CLI attaches the application made before tenants; then it is the tenant's.
	if err := e.svc.AttachApplication(ctx, acme.Tenant.ID, legacy.ID); err != nil {
		t.Fatal(err)
	}
	mustCode(t, "attach to a second tenant", e.svc.AttachApplication(ctx, other.Tenant.ID, legacy.ID), fault.CodeConflict)
	mustCode(t, "attach an unknown application", e.svc.AttachApplication(ctx, acme.Tenant.ID, "nope"), fault.CodeNotFound)
	apps, err := e.svc.TenantApplications(ctx, acme, acme.Tenant.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "Shop,legacy,Second" {
		t.Errorf("tenant's applications, oldest first: %v", names)
	}
	filtered, err := e.svc.TenantApplications(ctx, acme, acme.Tenant.ID, ptr("acme.broker"))
	if err != nil || len(filtered) != 1 || filtered[0].ID != app.ID {
		t.Errorf("applications of domain acme.broker: %+v, %v", filtered, err)
	}
	found, err := e.svc.TenantApplicationByVerify(ctx, acme, signing.VerifyApplicationQuery{TenantID: acme.Tenant.ID, Domain: "acme.broker", Realm: "urn:Shop"})
	if err != nil || found == nil || found.ID != app.ID {
		t.Errorf("by Verify application: %+v, %v", found, err)
	}
	found, err = e.svc.TenantApplicationByVerify(ctx, acme, signing.VerifyApplicationQuery{TenantID: acme.Tenant.ID, Domain: "acme.broker", Realm: "urn:other"})
	if err != nil || found != nil {
		t.Errorf("by another realm: %+v, %v", found, err)
	}
}

// A refreshed secret replaces the old one at once, under the same client id; a deleted key stops
// working at once; the application's other keys are untouched.
func TestRefreshAndDeleteTakeEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tp := e.tenant(t, "Acme")
	app, first := e.application(t, tp, "Shop", "")
	readOnly := tenant.KeyReadOnly
	_, key, err := e.svc.CreateApplicationKey(ctx, tp, app.ID, &readOnly, ptr("reports"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.svc.Authenticate(ctx, key.Key.ClientID, key.ClientSecret); err != nil || p.CanWrite() {
		t.Fatalf("READ_ONLY key: %+v, %v", p, err)
	}
	_, refreshed, err := e.svc.RefreshApplicationKey(ctx, tp, app.ID, key.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.Key.ClientID != key.Key.ClientID || refreshed.ClientSecret == key.ClientSecret || refreshed.Key.Mode != tenant.KeyReadOnly ||
		refreshed.Key.Note == nil || *refreshed.Key.Note != "reports" {
		t.Fatalf("refreshed %+v from %+v", refreshed, key)
	}
	_, err = e.svc.Authenticate(ctx, key.Key.ClientID, key.ClientSecret)
	mustCode(t, "old secret", err, fault.CodeUnauthorized)
	if _, err := e.svc.Authenticate(ctx, key.Key.ClientID, refreshed.ClientSecret); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	if _, err := e.svc.DeleteApplicationKey(ctx, tp, app.ID, key.Key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, key.Key.ClientID, refreshed.ClientSecret)
	mustCode(t, "deleted key", err, fault.CodeUnauthorized)
	_, err = e.svc.DeleteApplicationKey(ctx, tp, app.ID, key.Key.ID)
	mustCode(t, "delete again", err, fault.CodeNotFound)
	if _, err := e.svc.Authenticate(ctx, first.Key.ClientID, first.ClientSecret); err != nil {
		t.Fatalf("the application's first key after the other's deletion: %v", err)
	}
	keys, err := e.svc.TenantApplicationKeys(ctx, tp, app.ID)
	if err != nil || len(keys) != 1 || keys[0].ID != first.Key.ID {
		t.Fatalf("keys left: %+v, %v", keys, err)
	}
}

// verifyApplication reports the broker the service logs in at when it has one, else what
// createApplication was given.
func TestVerifyApplicationOf(t *testing.T) {
	app := tenant.Application{ID: "a", Environment: tenant.EnvironmentProduction, VerifyDomain: "given.broker", VerifyRealm: "urn:given"}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	for _, tc := range []struct {
		name   string
		verify *signing.VerifyConfig
		want   signing.VerifyApplication
	}{
		{"configured broker", &signing.VerifyConfig{Domain: "broker.example", ClientID: "esign"},
			signing.VerifyApplication{Domain: "broker.example", Realm: "esign", Environment: tenant.EnvironmentProduction}},
		{"no broker", nil, signing.VerifyApplication{Domain: "given.broker", Realm: "urn:given", Environment: tenant.EnvironmentProduction}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Verify: tc.verify})
			if got := svc.VerifyApplicationOf(app); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Tenant.webhookLogs is every application's logs, merged oldest first, within the same bounds and
// rules as an application's own.
func TestTenantWebhookLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tp := e.tenant(t, "Acme")
	_, other := e.tenant(t, "Other")
	a, _ := e.application(t, tp, "A", "")
	b, _ := e.application(t, tp, "B", "")
	c, _ := e.application(t, other, "C", "")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, inv := range []struct {
		app string
		at  time.Time
	}{{a.ID, at.Add(2 * time.Minute)}, {b.ID, at.Add(time.Minute)}, {c.ID, at}, {a.ID, at.Add(3 * time.Hour)}} {
		id := string(rune('a' + i))
		if err := e.store.EnqueueWebhook(ctx, store.WebhookDelivery{ID: "d" + id, ApplicationID: inv.app, OrderID: "o" + id,
			Event: "E", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: inv.at}, inv.at); err != nil {
			t.Fatal(err)
		}
		if err := e.store.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: "i" + id, DeliveryID: "d" + id, ApplicationID: inv.app,
			OrderID: "o" + id, Event: "E", URL: "https://example.com/h", RequestBody: "{}", Outcome: order.InvocationSuccess, At: inv.at}); err != nil {
			t.Fatal(err)
		}
	}
	q := signing.WebhookLogQuery{From: at.Format(time.RFC3339), To: at.Add(time.Hour).Format(time.RFC3339)}
	for _, tc := range []struct {
		name          string
		tp            signing.TenantPrincipal
		tenantID, app string
		want          []string
	}{
		{"tenant", tp, tp.Tenant.ID, "", []string{"ib", "ia"}},
		{"one application", tp, tp.Tenant.ID, a.ID, []string{"ia"}},
		{"another tenant's application", tp, tp.Tenant.ID, c.ID, nil},
		{"another tenant", other, tp.Tenant.ID, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invs, err := e.svc.TenantWebhookLogs(ctx, tc.tp, tc.tenantID, tc.app, q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, inv := range invs {
				ids = append(ids, inv.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
	for _, tp := range []signing.TenantPrincipal{tp, other} { // bounds are checked with or without applications
		_, err := e.svc.TenantWebhookLogs(ctx, tp, tp.Tenant.ID, "", signing.WebhookLogQuery{From: "yesterday", To: q.To})
		mustCode(t, "bad from", err, fault.CodeInvalid)
	}
}
