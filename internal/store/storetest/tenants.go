package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"esign/internal/store"
	"esign/internal/tenant"
)

func testTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC-03:00", -3*3600)
	acme := tenant.Tenant{ID: "tenant-1", Name: "Acme", CreatedAt: base}
	mustNil(t, "create tenant", s.CreateTenant(ctx, tenant.Tenant{ID: acme.ID, Name: acme.Name, CreatedAt: base.In(zone)}))
	other := tenant.Tenant{ID: "tenant-2", Name: "Acme", CreatedAt: base.Add(time.Second)} // names need not be unique
	mustNil(t, "create other tenant", s.CreateTenant(ctx, other))

	for _, want := range []tenant.Tenant{acme, other} {
		got, err := s.GetTenant(ctx, want.ID)
		mustNil(t, "get tenant "+want.ID, err)
		mustEqual(t, "get tenant "+want.ID, got, want)
	}
	_, err := s.GetTenant(ctx, "tenant-x")
	mustIs(t, "get missing tenant", err, store.ErrNotFound)
	mustIs(t, "create tenant with a taken id", s.CreateTenant(ctx, tenant.Tenant{ID: acme.ID, Name: "B", CreatedAt: base}), store.ErrConflict)
	got, err := s.GetTenant(ctx, acme.ID)
	mustNil(t, "get tenant after conflict", err)
	mustEqual(t, "get tenant after conflict", got, acme)

	k1 := tenant.TenantKey{ID: "tkey-1", TenantID: acme.ID, ClientID: "tenant-client-1", SecretHash: []byte{1, 2, 3},
		Note: ptr("ops"), CreatedAt: base}
	k2 := tenant.TenantKey{ID: "tkey-2", TenantID: other.ID, ClientID: "tenant-client-2", SecretHash: []byte{0, 255},
		Note: ptr(""), CreatedAt: base.Add(time.Minute)}
	k3 := tenant.TenantKey{ID: "tkey-3", TenantID: acme.ID, ClientID: "tenant-client-3", SecretHash: []byte{9},
		CreatedAt: base.Add(time.Hour)}
	for _, k := range []tenant.TenantKey{k1, k2, k3} {
		stored := k
		stored.CreatedAt = k.CreatedAt.In(zone)
		mustNil(t, "create "+k.ID, s.CreateTenantKey(ctx, stored))
	}
	for _, k := range []tenant.TenantKey{k1, k2, k3} {
		got, err := s.GetTenantKeyByClientID(ctx, k.ClientID)
		mustNil(t, "get "+k.ClientID, err)
		mustEqual(t, "get "+k.ClientID, got, k)
	}
	_, err = s.GetTenantKeyByClientID(ctx, "tenant-client-x")
	mustIs(t, "get missing tenant key", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		key  tenant.TenantKey
		want error
	}{
		{"same id", tenant.TenantKey{ID: k1.ID, TenantID: acme.ID, ClientID: "tenant-client-new", SecretHash: []byte{1}, CreatedAt: base}, store.ErrConflict},
		{"same client id", tenant.TenantKey{ID: "tkey-new", TenantID: other.ID, ClientID: k1.ClientID, SecretHash: []byte{1}, CreatedAt: base}, store.ErrConflict},
		{"unknown tenant", tenant.TenantKey{ID: "tkey-new", TenantID: "tenant-x", ClientID: "tenant-client-new", SecretHash: []byte{1}, CreatedAt: base}, store.ErrNotFound},
	} {
		t.Run("create key "+tc.name, func(t *testing.T) {
			mustIs(t, "create", s.CreateTenantKey(ctx, tc.key), tc.want)
		})
	}
	_, err = s.GetTenantKeyByClientID(ctx, "tenant-client-new")
	mustIs(t, "rejected tenant key saved anyway", err, store.ErrNotFound)
	// A tenant key is no application key, and the other way round.
	_, err = s.GetAPIKeyByClientID(ctx, k1.ClientID)
	mustIs(t, "tenant key found as an api key", err, store.ErrNotFound)
}

func testTenantApplications(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tn := range []tenant.Tenant{{ID: "t-a", Name: "A", CreatedAt: base}, {ID: "t-b", Name: "B", CreatedAt: base}} {
		mustNil(t, "create tenant "+tn.ID, s.CreateTenant(ctx, tn))
	}
	// Created out of order, two in the same microsecond: listing is by time, then id.
	a2 := tenant.Application{ID: "app-2", Name: "A two", TenantID: "t-a", Environment: tenant.EnvironmentProduction,
		VerifyDomain: "a.idura.broker", VerifyRealm: "urn:a:two", CreatedAt: base.Add(2 * time.Second)}
	a1 := tenant.Application{ID: "app-1", Name: "A one", TenantID: "t-a", Environment: tenant.EnvironmentTest,
		VerifyDomain: "a-test.idura.broker", VerifyRealm: "urn:a:one", CreatedAt: base.Add(time.Second)}
	a0 := tenant.Application{ID: "app-0", Name: "A zero", TenantID: "t-a", Environment: tenant.EnvironmentTest,
		VerifyDomain: "a.idura.broker", VerifyRealm: "urn:a:zero", CreatedAt: base.Add(time.Second)}
	b1 := tenant.Application{ID: "app-b", Name: "B one", TenantID: "t-b", Environment: tenant.EnvironmentTest,
		VerifyDomain: "b.idura.broker", VerifyRealm: "urn:b", CreatedAt: base}
	legacy := tenant.Application{ID: "app-legacy", Name: "Legacy", Environment: tenant.EnvironmentTest, CreatedAt: base}
	for _, app := range []tenant.Application{a2, a1, a0, b1, legacy} {
		mustNil(t, "create "+app.ID, s.CreateApplication(ctx, app))
	}
	for _, want := range []tenant.Application{a2, b1, legacy} {
		got, err := s.GetApplication(ctx, want.ID)
		mustNil(t, "get "+want.ID, err)
		mustEqual(t, "get "+want.ID, got, want)
		got, err = s.GetApplicationByName(ctx, want.Name)
		mustNil(t, "get by name "+want.Name, err)
		mustEqual(t, "get by name "+want.Name, got, want)
	}
	err := s.CreateApplication(ctx, tenant.Application{ID: "app-x", Name: "X", TenantID: "t-x",
		Environment: tenant.EnvironmentTest, CreatedAt: base})
	mustIs(t, "create in an unknown tenant", err, store.ErrNotFound)

	list := func(t *testing.T, tenantID string, want []tenant.Application) {
		t.Helper()
		got, err := s.ListTenantApplications(ctx, tenantID)
		mustNil(t, "list "+tenantID, err)
		if len(got) == 0 && len(want) == 0 {
			return
		}
		mustEqual(t, "list "+tenantID, got, want)
	}
	list(t, "t-a", []tenant.Application{a0, a1, a2})
	list(t, "t-b", []tenant.Application{b1})
	list(t, "t-x", nil)
	list(t, "", nil) // applications without a tenant are nobody's

	mustNil(t, "attach legacy", s.AttachApplication(ctx, legacy.ID, "t-b"))
	attached := legacy
	attached.TenantID = "t-b"
	got, err := s.GetApplication(ctx, legacy.ID)
	mustNil(t, "get attached", err)
	mustEqual(t, "get attached", got, attached)
	list(t, "t-b", []tenant.Application{b1, attached}) // same created_at: by id
	mustNil(t, "attach again to the same tenant", s.AttachApplication(ctx, legacy.ID, "t-b"))

	for _, tc := range []struct {
		name        string
		app, tenant string
		want        error
	}{
		{"to another tenant", legacy.ID, "t-a", store.ErrConflict},
		{"made in another tenant", a1.ID, "t-b", store.ErrConflict},
		{"unknown application", "app-x", "t-a", store.ErrNotFound},
	} {
		t.Run("attach "+tc.name, func(t *testing.T) {
			mustIs(t, "attach", s.AttachApplication(ctx, tc.app, tc.tenant), tc.want)
		})
	}
	unattached := tenant.Application{ID: "app-free", Name: "Free", Environment: tenant.EnvironmentTest, CreatedAt: base}
	mustNil(t, "create unattached", s.CreateApplication(ctx, unattached))
	mustIs(t, "attach to an unknown tenant", s.AttachApplication(ctx, unattached.ID, "t-x"), store.ErrNotFound)
	got, err = s.GetApplication(ctx, unattached.ID)
	mustNil(t, "get after failed attach", err)
	mustEqual(t, "get after failed attach", got, unattached)
	list(t, "t-a", []tenant.Application{a0, a1, a2})
}

func testAPIKeySecretsAndDeletion(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant.Application{ID: "app-a", Name: "A", Environment: tenant.EnvironmentTest, CreatedAt: base}
	b := tenant.Application{ID: "app-b", Name: "B", Environment: tenant.EnvironmentTest, CreatedAt: base}
	mustNil(t, "create app a", s.CreateApplication(ctx, a))
	mustNil(t, "create app b", s.CreateApplication(ctx, b))
	ka := tenant.APIKey{ID: "key-a", ApplicationID: a.ID, ClientID: "client-a", SecretHash: []byte{1},
		Mode: tenant.KeyReadOnly, Note: ptr("ci"), CreatedAt: base}
	ka2 := tenant.APIKey{ID: "key-a2", ApplicationID: a.ID, ClientID: "client-a2", SecretHash: []byte{2},
		Mode: tenant.KeyReadWrite, CreatedAt: base.Add(time.Second)}
	kb := tenant.APIKey{ID: "key-b", ApplicationID: b.ID, ClientID: "client-b", SecretHash: []byte{3},
		Mode: tenant.KeyReadWrite, CreatedAt: base}
	for _, k := range []tenant.APIKey{ka, ka2, kb} {
		mustNil(t, "create "+k.ID, s.CreateAPIKey(ctx, k))
	}
	get := func(t *testing.T, clientID string) tenant.APIKey {
		t.Helper()
		k, err := s.GetAPIKeyByClientID(ctx, clientID)
		mustNil(t, "get "+clientID, err)
		return k
	}

	refreshed := ka
	refreshed.SecretHash = []byte{7, 7, 7}
	got, err := s.SetAPIKeySecret(ctx, a.ID, ka.ID, []byte{7, 7, 7})
	mustNil(t, "set secret", err)
	mustEqual(t, "set secret answer", got, refreshed)
	mustEqual(t, "after set secret", get(t, ka.ClientID), refreshed)
	mustEqual(t, "sibling after set secret", get(t, ka2.ClientID), ka2)

	for _, tc := range []struct{ name, app, key string }{
		{"another application's key", a.ID, kb.ID},
		{"unknown key", a.ID, "key-x"},
		{"unknown application", "app-x", ka.ID},
	} {
		t.Run("set secret of "+tc.name, func(t *testing.T) {
			_, err := s.SetAPIKeySecret(ctx, tc.app, tc.key, []byte{9})
			mustIs(t, "set secret", err, store.ErrNotFound)
			mustIs(t, "delete", s.DeleteAPIKey(ctx, tc.app, tc.key), store.ErrNotFound)
		})
	}
	mustEqual(t, "b's key after refusals", get(t, kb.ClientID), kb)
	if k := get(t, ka.ClientID); !bytes.Equal(k.SecretHash, refreshed.SecretHash) {
		t.Fatalf("a's key secret hash = %x after refusals, want %x", k.SecretHash, refreshed.SecretHash)
	}

	mustNil(t, "delete", s.DeleteAPIKey(ctx, a.ID, ka.ID))
	_, err = s.GetAPIKeyByClientID(ctx, ka.ClientID)
	mustIs(t, "get deleted", err, store.ErrNotFound)
	keys, err := s.ListAPIKeys(ctx, a.ID)
	mustNil(t, "list after delete", err)
	mustEqual(t, "list after delete", keys, []tenant.APIKey{ka2})
	mustIs(t, "delete again", s.DeleteAPIKey(ctx, a.ID, ka.ID), store.ErrNotFound)
	_, err = s.SetAPIKeySecret(ctx, a.ID, ka.ID, []byte{8})
	mustIs(t, "set secret of deleted", err, store.ErrNotFound)
	mustEqual(t, "b's key after delete", get(t, kb.ClientID), kb)
}
