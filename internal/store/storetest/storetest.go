// Package storetest is the conformance suite every store.Store backend must pass. A backend's test
// calls Run with a function that opens a fresh, empty store.
//
// Adding a method to store.Store? Add a case to Run whose assertions depend on every parameter and
// every result field of the method, and list it in Cases: the suite fails until you do.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/auditlog"
	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/tenant"
)

// Cases is the checklist of the suite: every method of store.Store, and the cases (names in Run)
// whose assertions depend on each of its parameters and on each field of its result. A new method,
// parameter or result field gets a case that fails when a backend ignores it (binds the wrong
// column, drops a filter, swaps a bound), and its entry here; the "Checklist" case fails while a
// method of store.Store has no entry, or an entry names a case Run does not have.
var Cases = map[string][]string{
	"CreateApplication":    {"Applications", "TimesComeBackUTC", "TenantApplications"},
	"GetApplication":       {"Applications", "TimesComeBackUTC", "TenantApplications"},
	"GetApplicationByName": {"Applications", "TenantApplications"},

	"CreateAPIKey":        {"APIKeys", "TimesComeBackUTC"},
	"GetAPIKeyByClientID": {"APIKeys", "TimesComeBackUTC"},
	"ListAPIKeys":         {"APIKeys", "APIKeySecretsAndDeletion"},

	"CreateTenant":           {"Tenants", "TenantApplications"},
	"GetTenant":              {"Tenants"},
	"CreateTenantKey":        {"Tenants"},
	"GetTenantKeyByClientID": {"Tenants"},
	"ListTenantApplications": {"TenantApplications"},
	"AttachApplication":      {"TenantApplications"},
	"SetAPIKeySecret":        {"APIKeySecretsAndDeletion"},
	"DeleteAPIKey":           {"APIKeySecretsAndDeletion"},

	"CreateOrder": {"OrderRoundTrip", "CreateOrderConflict", "CreateOrderWritesEvents", "Index", "AuditTrail"},
	"GetOrder":    {"OrderRoundTrip"},
	"UpdateOrder": {"UpdateOrder", "UpdateOrderUpdaterError", "UpdateOrderNotFound", "UpdateOrderKeepsKeys",
		"UpdateOrderRewritesColumns", "IndexConflictOnUpdate", "ConcurrentUpdates", "WebhookOutbox", "KeptAnswersGoWithDocuments",
		"AuditTrail", "AuditTrailInSameTransaction", "ConcurrentAuditEntries"},
	"FindOrderID": {"Index", "IndexConflictOnUpdate"},
	"ListOrders":  {"ListOrders", "ListOrdersStatus", "ListOrdersIsolation", "NonPositiveLimits"},
	"SweepDue": {"SweepDue", "SweepDueBoundary", "SweepDueUpdaterError", "SweepDueWritesEvents", "ConcurrentSweeps",
		"KeptAnswersGoWithDocuments", "AuditTrailInSameTransaction"},
	"PurgeOrders": {"PurgeOrders", "PurgeOrdersBoundaryAndOrphans", "WebhookOutbox", "AuditTrailGoesWithOrder"},

	"ClaimWebhookDeliveries":  {"WebhookOutbox", "WebhookClaimOrderAndLease", "WebhookClaimSkipsApplications", "ConcurrentWebhookClaims"},
	"RecordWebhookInvocation": {"WebhookOutbox", "WebhookLogs", "WebhookLogsRoundTrip", "WebhookAuditEntries", "ConcurrentAuditEntries"},
	"EnqueueWebhook":          {"EnqueueWebhook", "WebhookClaimSkipsApplications", "WebhookClaimOrderAndLease"},
	"GetWebhookDelivery":      {"EnqueueWebhook", "WebhookOutbox"},
	"ListWebhookInvocations":  {"WebhookLogs", "WebhookLogsRoundTrip", "NonPositiveLimits", "PurgeOrdersBoundaryAndOrphans"},

	"ListWebhookSecrets":          {"WebhookSecrets", "WebhookSecretsPaging"},
	"SetWebhookSecret":            {"WebhookSecrets", "WebhookSecretsPaging"},
	"ListOrdersWithWebhookSecret": {"WebhookSecrets", "WebhookSecretsPaging"},

	"BeginIdempotent":      {"Idempotency", "IdempotencyBoundaries", "IdempotencyScopes", "ConcurrentIdempotency"},
	"FinishIdempotent":     {"Idempotency", "IdempotencyScopes", "KeptAnswersGoWithDocuments", "ConcurrentKeptAnswerAndDocumentDeletion"},
	"AbandonIdempotent":    {"Idempotency", "IdempotencyScopes"},
	"PurgeIdempotencyKeys": {"Idempotency", "PurgeIdempotencyKeysBoundary"},

	"PutLoginForm":    {"LoginForms", "LoginFormsGoWithTheirOrder"},
	"TakeLoginForm":   {"LoginForms", "LoginFormsExpiryBoundary", "LoginFormsGoWithTheirOrder", "ConcurrentLoginFormTakes"},
	"PurgeLoginForms": {"LoginFormsExpiryBoundary"},

	"ListAuditEntries": {"AuditTrail", "AuditTrailInSameTransaction", "AuditTrailGoesWithOrder", "ConcurrentAuditEntries",
		"WebhookAuditEntries"},

	"CreateBatchSignatory":          {"BatchSignatories", "BatchSignatoryConflicts", "ConcurrentBatchSignatories"},
	"GetBatchSignatory":             {"BatchSignatories", "BatchSignatoryConflicts"},
	"FindBatchSignatoryByTokenHash": {"BatchSignatories", "BatchSignatoryConflicts", "ConcurrentBatchSignatories"},

	"Ping":  {"Ping", "Close"},
	"Close": {"Close"},
}

// Run runs the whole suite; open must return a new, empty store and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Applications", testApplications},
		{"APIKeys", testAPIKeys},
		{"Tenants", testTenants},
		{"TenantApplications", testTenantApplications},
		{"APIKeySecretsAndDeletion", testAPIKeySecretsAndDeletion},
		{"OrderRoundTrip", testOrderRoundTrip},
		{"CreateOrderConflict", testCreateOrderConflict},
		{"UpdateOrder", testUpdateOrder},
		{"UpdateOrderUpdaterError", testUpdateOrderUpdaterError},
		{"UpdateOrderNotFound", testUpdateOrderNotFound},
		{"UpdateOrderKeepsKeys", testUpdateOrderKeepsKeys},
		{"Index", testIndex},
		{"IndexConflictOnUpdate", testIndexConflictOnUpdate},
		{"ListOrders", testListOrders},
		{"ListOrdersStatus", testListOrdersStatus},
		{"ListOrdersIsolation", testListOrdersIsolation},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"SweepDue", testSweepDue},
		{"SweepDueUpdaterError", testSweepDueUpdaterError},
		{"ConcurrentSweeps", testConcurrentSweeps},
		{"PurgeOrders", testPurgeOrders},
		{"WebhookOutbox", testWebhookOutbox},
		{"WebhookLogs", testWebhookLogs},
		{"ConcurrentWebhookClaims", testConcurrentWebhookClaims},
		{"WebhookClaimSkipsApplications", testWebhookClaimSkipsApplications},
		{"WebhookSecrets", testWebhookSecrets},
		{"Idempotency", testIdempotency},
		{"ConcurrentIdempotency", testConcurrentIdempotency},
		{"KeptAnswersGoWithDocuments", testKeptAnswersGoWithDocuments},
		{"ConcurrentKeptAnswerAndDocumentDeletion", testConcurrentKeptAnswerAndDocumentDeletion},
		{"Ping", testPing},
		{"TimesComeBackUTC", testTimesComeBackUTC},
		{"CreateOrderWritesEvents", testCreateOrderWritesEvents},
		{"UpdateOrderRewritesColumns", testUpdateOrderRewritesColumns},
		{"SweepDueBoundary", testSweepDueBoundary},
		{"SweepDueWritesEvents", testSweepDueWritesEvents},
		{"PurgeOrdersBoundaryAndOrphans", testPurgeOrdersBoundaryAndOrphans},
		{"EnqueueWebhook", testEnqueueWebhook},
		{"WebhookClaimOrderAndLease", testWebhookClaimOrderAndLease},
		{"WebhookLogsRoundTrip", testWebhookLogsRoundTrip},
		{"NonPositiveLimits", testNonPositiveLimits},
		{"IdempotencyBoundaries", testIdempotencyBoundaries},
		{"IdempotencyScopes", testIdempotencyScopes},
		{"PurgeIdempotencyKeysBoundary", testPurgeIdempotencyKeysBoundary},
		{"WebhookSecretsPaging", testWebhookSecretsPaging},
		{"LoginForms", testLoginForms},
		{"LoginFormsExpiryBoundary", testLoginFormsExpiryBoundary},
		{"LoginFormsGoWithTheirOrder", testLoginFormsGoWithTheirOrder},
		{"ConcurrentLoginFormTakes", testConcurrentLoginFormTakes},
		{"AuditTrail", testAuditTrail},
		{"AuditTrailInSameTransaction", testAuditTrailInSameTransaction},
		{"AuditTrailGoesWithOrder", testAuditTrailGoesWithOrder},
		{"ConcurrentAuditEntries", testConcurrentAuditEntries},
		{"WebhookAuditEntries", testWebhookAuditEntries},
		{"BatchSignatories", testBatchSignatories},
		{"BatchSignatoryConflicts", testBatchSignatoryConflicts},
		{"ConcurrentBatchSignatories", testConcurrentBatchSignatories},
		{"Close", testClose},
	}
	t.Run("Checklist", func(t *testing.T) {
		names := map[string]bool{}
		for _, tc := range tests {
			names[tc.name] = true
		}
		checkCases(t, reflect.TypeFor[store.Store](), names)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// base is a time with microseconds, in UTC: what callers hand the store.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func ptr[T any](v T) *T { return &v }

// NewOrder returns an order with every field set, pointers and nested parts included, so that a
// round trip through a store shows whether anything is lost. Ids of its parts derive from id.
func NewOrder(applicationID, id string, createdAt time.Time) *order.SignatureOrder {
	closed := createdAt.Add(90 * time.Minute)
	retain := createdAt.Add(7 * 24 * time.Hour)
	template := []order.SignatureAppearanceTemplate{{Template: "{{name}}", Replacements: []order.SignatureAppearanceReplacement{
		{Placeholder: "name", FromEvidence: []string{"name", "given_name"}}}}}
	return &order.SignatureOrder{
		ID:                   id,
		ApplicationID:        applicationID,
		Title:                ptr("Kontrakt \x00 ✓ \"quoted\" <b>&</b> \u2028"),
		Status:               order.StatusOpen,
		CreatedAt:            createdAt,
		ExpiresAt:            createdAt.Add(90 * 24 * time.Hour),
		ClosedAt:             &closed,
		CancelledAt:          ptr(createdAt.Add(time.Microsecond)),
		RetainDocumentsUntil: &retain,
		DocumentsDeletedAt:   ptr(retain.Add(time.Second)),
		MaxSignatories:       14,
		Timezone:             "Europe/Copenhagen",
		TraceID:              id + "-trace",

		DisableVerifyEvidenceProvider: true,
		FixDocumentFormattingErrors:   true,
		EvidenceValidationStages:      []string{order.EvidenceStageSign, order.EvidenceStageView},
		SignatureAppearance: &order.SignatureAppearance{IdentifierFromEvidence: []string{"sub"},
			HeaderLeft: template, DisplayName: template, Footer: template},
		UI: order.UI{SignatoryRedirectURI: ptr("https://example.com/done"), Language: "DA_DK",
			Logo:       &order.Logo{Src: "https://example.com/logo.png", Href: ptr("https://example.com")},
			Stylesheet: ptr("https://example.com/s.css"), DisableRejection: true, EnableCancel: true,
			RenderPdfAnnotationLayer: true},
		Webhook: &order.Webhook{URL: "https://example.com/hook", ValidateConnectivity: true,
			Secret: []byte{0, 1, 2, 254, 255}},
		EvidenceProviders: []order.EvidenceProvider{
			{ID: id + "-ep1", Kind: order.ProviderOIDC, EnabledByDefault: true, OIDC: &order.OIDCProvider{
				Name: "idp", Domain: "idp.example.com", ClientID: "c", Audience: "a", AcrValues: []string{"x"},
				AlwaysRedirect: true, UniqueEvidenceKey: ptr("sub")}},
			{ID: id + "-ep2", Kind: order.ProviderCriiptoVerify, CriiptoVerify: &order.CriiptoVerifyProvider{
				Domain: "v.example.com", ClientID: "c", Audiences: []string{"a"}, AcrValues: []string{"y"},
				UniqueEvidenceKey: ptr("k"), Message: ptr("m"), LoginHint: ptr("h"), Scope: ptr("s"), Version: "V2"}},
			{ID: id + "-ep3", Kind: order.ProviderAllOf, AllOf: []order.EvidenceProvider{
				{ID: id + "-ep4", Kind: order.ProviderNoop, EnabledByDefault: true, Noop: &order.NoopProvider{Name: "n"}},
				{ID: id + "-ep5", Kind: order.ProviderDrawable, EnabledByDefault: true, Drawable: &order.DrawableProvider{
					RequireName: true, MinimumWidth: ptr(10), MinimumHeight: ptr(20)}},
			}},
		},
		Documents: []order.Document{
			{ID: id + "-doc1", Kind: order.DocumentPDF, Title: "One", Reference: ptr("ref1"), DocumentID: id + "-d1",
				DisplayDocumentID: ptr("D-1"), FormEnabled: ptr(false), RemoveBookmarks: true,
				Versions: []order.DocumentVersion{
					{Number: 0, BlobKey: id + "/doc1/0", Size: 1234, Fingerprint: strings.Repeat("ab", 32),
						Keys:      order.Keys{InnerKeyID: "inner-1", Inner: []byte{1, 2}, OuterKeyID: "outer-1", Outer: []byte{3}},
						CreatedAt: createdAt},
					{Number: 1, BlobKey: id + "/doc1/1", Size: 5678, Fingerprint: strings.Repeat("cd", 32),
						Keys:      order.Keys{InnerKeyID: "inner-1", Inner: []byte{4}, OuterKeyID: "outer-2", Outer: []byte{5, 6}},
						CreatedAt: createdAt.Add(time.Hour)},
				}},
			{ID: id + "-doc2", Kind: order.DocumentPDF, Title: "Two", DocumentID: id + "-d2",
				DeletedAt: ptr(createdAt.Add(2 * time.Hour))},
		},
		Signatories: []order.Signatory{
			NewSignatory(id + "-sig1"),
			{ID: id + "-sig2", Reference: ptr("r"), Role: ptr("CEO"), SigningAs: ptr("Acme"),
				SignatoryRole: order.RoleApprover, Status: order.SignatorySigned, StatusReason: ptr("done"),
				CooldownExpiresAt: ptr(createdAt.Add(time.Minute)), SigningSequence: 1, SpanID: "span2",
				Documents: []order.SignatoryDocument{{ID: id + "-doc1", Preapproved: true, SealPositions: []order.SealPosition{
					{Page: 1, X: 0.1, Y: 72.25, Scale: ptr(0.5)}, {Page: 2, X: 1e-7, Y: 3}}}},
				EvidenceProviders:   []string{id + "-ep1"},
				EvidenceValidation:  []order.EvidenceValidation{{Key: "k", Value: ptr("v")}, {Key: "b", Boolean: ptr(false)}},
				SignatureAppearance: &order.SignatureAppearance{IdentifierFromEvidence: []string{"name"}},
				UI:                  &order.UI{Language: "EN_US"},
				DocumentStatus:      map[string]order.DocumentStatus{id + "-doc1": order.DocumentSigned},
				TokenHash:           TokenHash(id + "-sig2")},
		},
		AuditKey: newAuditKey(),
	}
}

// fixturePublicAuditKey is one public audit key for every NewOrder, so that two NewOrder calls
// compare equal (the private half is dropped: these orders' entries are only counted).
var fixturePublicAuditKey = sync.OnceValue(func() []byte {
	public, _, err := auditlog.NewKey()
	if err != nil {
		panic(err) // only when the system's randomness fails
	}
	return public
})

// newAuditKey is a real public audit key (entries the order records are sealed to it) and
// stand-ins for the encrypted private key and its wrapped keys.
func newAuditKey() *order.AuditKey {
	return &order.AuditKey{Public: slices.Clone(fixturePublicAuditKey()), Private: []byte{9, 8, 7},
		Keys: order.Keys{InnerKeyID: "inner-a", Inner: []byte{1}, OuterKeyID: "outer-a", Outer: []byte{2}}}
}

// NewSignatory returns a plain open signatory with a token hash derived from its id.
func NewSignatory(id string) order.Signatory {
	return order.Signatory{ID: id, SignatoryRole: order.RoleSigner, Status: order.SignatoryOpen,
		SigningSequence: order.DefaultSigningSequence, SpanID: "span-" + id, TokenHash: TokenHash(id)}
}

// TokenHash is a stand-in for a signatory token's hash: hex SHA-256 of s.
func TokenHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mustEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func mustIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func createOrder(t *testing.T, s store.Store, o *order.SignatureOrder) {
	t.Helper()
	mustNil(t, "create order "+o.ID, s.CreateOrder(context.Background(), o))
}

func getOrder(t *testing.T, s store.Store, id string) *order.SignatureOrder {
	t.Helper()
	o, err := s.GetOrder(context.Background(), id)
	mustNil(t, "get order "+id, err)
	return o
}

func testApplications(t *testing.T, s store.Store) {
	ctx := context.Background()
	app := tenant.Application{ID: "app-1", Name: "Acme", Environment: tenant.EnvironmentTest, CreatedAt: base}
	mustNil(t, "create", s.CreateApplication(ctx, app))
	other := tenant.Application{ID: "app-2", Name: "Other", Environment: tenant.EnvironmentProduction, CreatedAt: base.Add(time.Second)}
	mustNil(t, "create other", s.CreateApplication(ctx, other))

	got, err := s.GetApplication(ctx, app.ID)
	mustNil(t, "get", err)
	mustEqual(t, "get", got, app)
	got, err = s.GetApplicationByName(ctx, other.Name)
	mustNil(t, "get by name", err)
	mustEqual(t, "get by name", got, other)

	_, err = s.GetApplication(ctx, "nope")
	mustIs(t, "get missing", err, store.ErrNotFound)
	_, err = s.GetApplicationByName(ctx, "acme") // names are case-sensitive
	mustIs(t, "get by missing name", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		app  tenant.Application
	}{
		{"same id", tenant.Application{ID: app.ID, Name: "New name", Environment: tenant.EnvironmentTest, CreatedAt: base}},
		{"same name", tenant.Application{ID: "app-3", Name: app.Name, Environment: tenant.EnvironmentTest, CreatedAt: base}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustIs(t, "create", s.CreateApplication(ctx, tc.app), store.ErrConflict)
		})
	}
	got, err = s.GetApplication(ctx, app.ID)
	mustNil(t, "get after conflicts", err)
	mustEqual(t, "get after conflicts", got, app)
	_, err = s.GetApplication(ctx, "app-3")
	mustIs(t, "conflicting application saved anyway", err, store.ErrNotFound)
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant.Application{ID: "app-a", Name: "A", Environment: tenant.EnvironmentTest, CreatedAt: base}
	b := tenant.Application{ID: "app-b", Name: "B", Environment: tenant.EnvironmentProduction, CreatedAt: base}
	mustNil(t, "create app a", s.CreateApplication(ctx, a))
	mustNil(t, "create app b", s.CreateApplication(ctx, b))

	// Created out of order, and two in the same microsecond: listing is by time, then id.
	k1 := tenant.APIKey{ID: "key-1", ApplicationID: a.ID, ClientID: "client-1", SecretHash: []byte{1, 2, 3},
		Mode: tenant.KeyReadWrite, Note: ptr("ci"), CreatedAt: base.Add(2 * time.Second)}
	k2 := tenant.APIKey{ID: "key-2", ApplicationID: a.ID, ClientID: "client-2", SecretHash: []byte{0, 255},
		Mode: tenant.KeyReadOnly, CreatedAt: base.Add(time.Second)}
	k0 := tenant.APIKey{ID: "key-0", ApplicationID: a.ID, ClientID: "client-0", SecretHash: []byte{9},
		Mode: tenant.KeyReadOnly, CreatedAt: base.Add(time.Second)}
	kb := tenant.APIKey{ID: "key-b", ApplicationID: b.ID, ClientID: "client-b", SecretHash: []byte{7},
		Mode: tenant.KeyReadWrite, Note: ptr(""), CreatedAt: base}
	for _, k := range []tenant.APIKey{k1, k2, k0, kb} {
		mustNil(t, "create "+k.ID, s.CreateAPIKey(ctx, k))
	}

	for _, k := range []tenant.APIKey{k1, k2, k0, kb} {
		got, err := s.GetAPIKeyByClientID(ctx, k.ClientID)
		mustNil(t, "get "+k.ClientID, err)
		mustEqual(t, "get "+k.ClientID, got, k)
	}
	_, err := s.GetAPIKeyByClientID(ctx, "client-x")
	mustIs(t, "get missing", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		app  string
		want []tenant.APIKey
	}{
		{"several", a.ID, []tenant.APIKey{k0, k2, k1}},
		{"one", b.ID, []tenant.APIKey{kb}},
		{"none", "app-x", nil},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			got, err := s.ListAPIKeys(ctx, tc.app)
			mustNil(t, "list", err)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			mustEqual(t, "list", got, tc.want)
		})
	}

	for _, tc := range []struct {
		name string
		key  tenant.APIKey
		want error
	}{
		{"same id", tenant.APIKey{ID: k1.ID, ApplicationID: a.ID, ClientID: "client-new", SecretHash: []byte{1},
			Mode: tenant.KeyReadWrite, CreatedAt: base}, store.ErrConflict},
		{"same client id", tenant.APIKey{ID: "key-new", ApplicationID: b.ID, ClientID: k1.ClientID, SecretHash: []byte{1},
			Mode: tenant.KeyReadWrite, CreatedAt: base}, store.ErrConflict},
		{"unknown application", tenant.APIKey{ID: "key-new", ApplicationID: "app-x", ClientID: "client-new",
			SecretHash: []byte{1}, Mode: tenant.KeyReadWrite, CreatedAt: base}, store.ErrNotFound},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			mustIs(t, "create", s.CreateAPIKey(ctx, tc.key), tc.want)
		})
	}
	_, err = s.GetAPIKeyByClientID(ctx, "client-new")
	mustIs(t, "rejected key saved anyway", err, store.ErrNotFound)
}

func testOrderRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		new  func() *order.SignatureOrder // called twice: what is stored, what is expected
	}{
		{"full", func() *order.SignatureOrder { return NewOrder("app-1", "order-full", base) }},
		{"minimal", func() *order.SignatureOrder {
			return &order.SignatureOrder{ID: "order-min", ApplicationID: "app-1", Status: order.StatusOpen,
				CreatedAt: base, ExpiresAt: base.Add(time.Hour), UI: order.UI{Language: "EN_US"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, want := tc.new(), tc.new()
			createOrder(t, s, o)
			got := getOrder(t, s, o.ID)
			mustEqual(t, "round trip", got, want)
			// What GetOrder returns is the caller's own: changing it changes nothing stored.
			got.Title = ptr("changed")
			got.Documents = append(got.Documents, order.Document{ID: "x"})
			got.UI.Language = "SV_SE"
			mustEqual(t, "second read", getOrder(t, s, o.ID), want)
		})
	}
	_, err := s.GetOrder(ctx, "order-x")
	mustIs(t, "get missing", err, store.ErrNotFound)
}

func testCreateOrderConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := NewOrder("app-1", "order-1", base)
	createOrder(t, s, first)

	sharesSignatory := NewOrder("app-1", "order-2", base)
	sharesSignatory.Signatories[1].ID = first.Signatories[1].ID
	sharesDocument := NewOrder("app-1", "order-3", base)
	sharesDocument.Documents[0].ID = first.Documents[0].ID
	sharesToken := NewOrder("app-1", "order-4", base)
	sharesToken.Signatories[0].TokenHash = first.Signatories[0].TokenHash

	for _, tc := range []struct {
		name string
		o    *order.SignatureOrder
	}{
		{"same id", NewOrder("app-2", first.ID, base.Add(time.Hour))},
		{"signatory id taken", sharesSignatory},
		{"document id taken", sharesDocument},
		{"token hash taken", sharesToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustIs(t, "create", s.CreateOrder(ctx, tc.o), store.ErrConflict)
			if tc.o.ID != first.ID {
				_, err := s.GetOrder(ctx, tc.o.ID)
				mustIs(t, "rejected order saved anyway", err, store.ErrNotFound)
				// Its other keys were not indexed either: the transaction was rolled back whole.
				_, err = s.FindOrderID(ctx, store.IndexDocument, tc.o.Documents[1].ID)
				mustIs(t, "rejected order indexed anyway", err, store.ErrNotFound)
			}
		})
	}
	mustEqual(t, "first order", getOrder(t, s, first.ID), NewOrder("app-1", "order-1", base))
	for _, e := range store.IndexEntries(first) {
		id, err := s.FindOrderID(ctx, e.Kind, e.Key)
		mustNil(t, "find "+string(e.Kind), err)
		mustEqual(t, "find "+string(e.Kind), id, first.ID)
	}
}

func testUpdateOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	createOrder(t, s, NewOrder("app-1", "order-2", base))

	closed := base.Add(3 * time.Hour)
	change := func(o *order.SignatureOrder) {
		o.Title = ptr("New title")
		o.Status = order.StatusClosed
		o.ClosedAt = &closed
		o.RetainDocumentsUntil = nil
		o.ExpiresAt = base.Add(24 * time.Hour)
		o.Signatories[0].Status = order.SignatorySigned
		o.Signatories[0].DocumentStatus = map[string]order.DocumentStatus{"order-1-doc2": order.DocumentApproved}
		o.Webhook = nil
	}
	want := NewOrder("app-1", "order-1", base)
	change(want)

	saved, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
		change(o)
		return nil
	})
	mustNil(t, "update", err)
	mustEqual(t, "returned order", saved, want)
	mustEqual(t, "stored order", getOrder(t, s, "order-1"), want)
	mustEqual(t, "other order", getOrder(t, s, "order-2"), NewOrder("app-1", "order-2", base))

	// The copied columns follow the aggregate: the order now lists as CLOSED.
	page, err := s.ListOrders(ctx, store.ListOrdersQuery{ApplicationID: "app-1", Status: ptr(order.StatusClosed), Limit: 10})
	mustNil(t, "list closed", err)
	if len(page.Orders) != 1 || page.Orders[0].ID != "order-1" || page.TotalCount != 1 {
		t.Fatalf("closed orders: got %d (total %d), want order-1 only", len(page.Orders), page.TotalCount)
	}
}

func testUpdateOrderUpdaterError(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	errBoom := errors.New("boom")
	removed := "order-1-sig1"

	saved, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
		o.Status = order.StatusCancelled
		o.Signatories = o.Signatories[1:]
		o.MaxSignatories = 99
		return fmt.Errorf("checking the order: %w", errBoom)
	})
	mustIs(t, "update", err, errBoom)
	if saved != nil {
		t.Errorf("update returned an order with its error")
	}
	mustEqual(t, "stored order", getOrder(t, s, "order-1"), NewOrder("app-1", "order-1", base))
	id, err := s.FindOrderID(ctx, store.IndexSignatory, removed)
	mustNil(t, "index after failed update", err)
	mustEqual(t, "index after failed update", id, "order-1")

	// A coded error type stays reachable with errors.As.
	_, err = s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
		return fmt.Errorf("wrapped: %w", &codedError{code: "NOPE"})
	})
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != "NOPE" {
		t.Fatalf("update: got %v, want the updater's *codedError", err)
	}
}

type codedError struct{ code string }

func (e *codedError) Error() string { return e.code }

func testUpdateOrderNotFound(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateOrder(context.Background(), "order-x", func(o *order.SignatureOrder) error {
		called = true
		return nil
	})
	mustIs(t, "update", err, store.ErrNotFound)
	if called {
		t.Fatal("updater called for a missing order")
	}
}

func testUpdateOrderKeepsKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	for _, tc := range []struct {
		name   string
		change func(o *order.SignatureOrder)
	}{
		{"id", func(o *order.SignatureOrder) { o.ID = "order-2" }},
		{"application", func(o *order.SignatureOrder) { o.ApplicationID = "app-2" }},
		{"creation time", func(o *order.SignatureOrder) { o.CreatedAt = o.CreatedAt.Add(time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
				tc.change(o)
				o.Title = ptr("changed")
				return nil
			})
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("update: got %v, want an error saying the updater changed the %s", err, tc.name)
			}
			mustEqual(t, "stored order", getOrder(t, s, "order-1"), NewOrder("app-1", "order-1", base))
			_, err = s.GetOrder(ctx, "order-2")
			mustIs(t, "get order-2", err, store.ErrNotFound)
		})
	}
}

func testIndex(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := NewOrder("app-1", "order-1", base)
	o.Signatories = append(o.Signatories, order.Signatory{ID: "order-1-sig-notoken", SignatoryRole: order.RoleViewer,
		Status: order.SignatoryOpen, SpanID: "s"})
	createOrder(t, s, o)
	createOrder(t, s, NewOrder("app-2", "order-2", base))

	find := func(t *testing.T, kind store.IndexKind, key, want string) {
		t.Helper()
		id, err := s.FindOrderID(ctx, kind, key)
		if want == "" {
			mustIs(t, fmt.Sprintf("find %s %q", kind, key), err, store.ErrNotFound)
			return
		}
		mustNil(t, fmt.Sprintf("find %s %q", kind, key), err)
		mustEqual(t, fmt.Sprintf("find %s %q", kind, key), id, want)
	}
	for _, tc := range []struct {
		kind      store.IndexKind
		key, want string
	}{
		{store.IndexSignatory, "order-1-sig1", "order-1"},
		{store.IndexSignatory, "order-1-sig2", "order-1"},
		{store.IndexSignatory, "order-1-sig-notoken", "order-1"},
		{store.IndexSignatory, "order-2-sig1", "order-2"},
		{store.IndexDocument, "order-1-doc1", "order-1"},
		{store.IndexDocument, "order-1-doc2", "order-1"},
		{store.IndexDocument, "order-2-doc2", "order-2"},
		{store.IndexSignatoryToken, TokenHash("order-1-sig1"), "order-1"},
		{store.IndexSignatoryToken, TokenHash("order-2-sig2"), "order-2"},
		// Not found: unknown keys, a key under another kind, the empty token hash, the order id itself.
		{store.IndexSignatory, "order-1-sig9", ""},
		{store.IndexDocument, "order-1-sig1", ""},
		{store.IndexSignatory, "order-1-doc1", ""},
		{store.IndexSignatoryToken, "order-1-sig1", ""},
		{store.IndexSignatoryToken, "", ""},
		{store.IndexSignatory, "order-1", ""},
	} {
		t.Run(fmt.Sprintf("%s %.16s", tc.kind, tc.key), func(t *testing.T) { find(t, tc.kind, tc.key, tc.want) })
	}

	// Remove a signatory and a document, add a signatory: the index follows.
	_, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
		o.Signatories = slices.DeleteFunc(o.Signatories, func(sig order.Signatory) bool { return sig.ID == "order-1-sig1" })
		o.Signatories = append(o.Signatories, NewSignatory("order-1-sig3"))
		o.Documents = o.Documents[1:]
		return nil
	})
	mustNil(t, "update", err)
	t.Run("after update", func(t *testing.T) {
		find(t, store.IndexSignatory, "order-1-sig1", "")
		find(t, store.IndexSignatoryToken, TokenHash("order-1-sig1"), "")
		find(t, store.IndexDocument, "order-1-doc1", "")
		find(t, store.IndexSignatory, "order-1-sig3", "order-1")
		find(t, store.IndexSignatoryToken, TokenHash("order-1-sig3"), "order-1")
		find(t, store.IndexSignatory, "order-1-sig2", "order-1")
		find(t, store.IndexSignatoryToken, TokenHash("order-1-sig2"), "order-1")
		find(t, store.IndexDocument, "order-1-doc2", "order-1")
		find(t, store.IndexSignatory, "order-2-sig1", "order-2")
	})

	// A removed key is free again for another order.
	reuse := NewOrder("app-1", "order-3", base)
	reuse.Signatories[0] = NewSignatory("order-1-sig1")
	createOrder(t, s, reuse)
	find(t, store.IndexSignatory, "order-1-sig1", "order-3")
}

func testIndexConflictOnUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	createOrder(t, s, NewOrder("app-1", "order-2", base))
	_, err := s.UpdateOrder(ctx, "order-2", func(o *order.SignatureOrder) error {
		o.Title = ptr("changed")
		o.Signatories = append(o.Signatories, NewSignatory("order-1-sig1"))
		return nil
	})
	mustIs(t, "update", err, store.ErrConflict)
	mustEqual(t, "order-2 after conflict", getOrder(t, s, "order-2"), NewOrder("app-1", "order-2", base))
	id, err := s.FindOrderID(ctx, store.IndexSignatory, "order-2-sig1")
	mustNil(t, "index of order-2 after conflict", err)
	mustEqual(t, "index of order-2 after conflict", id, "order-2")
	id, err = s.FindOrderID(ctx, store.IndexSignatory, "order-1-sig1")
	mustNil(t, "index of order-1 after conflict", err)
	mustEqual(t, "index of order-1 after conflict", id, "order-1")
}

// createMany creates n orders of an application whose creation times come in threes (so ties are
// broken by id) and whose ids do not follow creation order. closed says which become CLOSED. It
// returns them newest first, as ListOrders must.
func createMany(t *testing.T, s store.Store, app string, n int, offset time.Duration, closed func(i int) bool) []*order.SignatureOrder {
	t.Helper()
	var all []*order.SignatureOrder
	for i := range n {
		o := NewOrder(app, fmt.Sprintf("%s-order-%02d", app, (i*7)%n), base.Add(offset+time.Duration(i/3)*time.Second))
		if closed(i) {
			o.Status = order.StatusClosed
		}
		createOrder(t, s, o)
		all = append(all, o)
	}
	slices.SortFunc(all, func(a, b *order.SignatureOrder) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return all
}

// listAll pages through a query and checks every page's TotalCount and HasNext.
func listAll(t *testing.T, s store.Store, q store.ListOrdersQuery, wantTotal int) (orders []*order.SignatureOrder, pages int) {
	t.Helper()
	for {
		page, err := s.ListOrders(context.Background(), q)
		mustNil(t, "list", err)
		pages++
		if page.TotalCount != wantTotal {
			t.Fatalf("page %d: TotalCount %d, want %d", pages, page.TotalCount, wantTotal)
		}
		if len(page.Orders) > q.Limit {
			t.Fatalf("page %d: %d orders, more than the limit %d", pages, len(page.Orders), q.Limit)
		}
		orders = append(orders, page.Orders...)
		if wantNext := len(orders) < wantTotal; page.HasNext != wantNext {
			t.Fatalf("page %d: HasNext %v after %d of %d orders", pages, page.HasNext, len(orders), wantTotal)
		}
		if !page.HasNext {
			return orders, pages
		}
		if len(page.Orders) != q.Limit {
			t.Fatalf("page %d: %d orders and HasNext, want a full page of %d", pages, len(page.Orders), q.Limit)
		}
		last := page.Orders[len(page.Orders)-1]
		q.After = &store.OrderCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		if pages > wantTotal+1 {
			t.Fatal("pagination does not end")
		}
	}
}

func ids(orders []*order.SignatureOrder) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o.ID
	}
	return out
}

func testListOrders(t *testing.T, s store.Store) {
	ctx := context.Background()
	all := createMany(t, s, "app-1", 25, 0, func(int) bool { return false })

	got, pages := listAll(t, s, store.ListOrdersQuery{ApplicationID: "app-1", Limit: 10}, 25)
	if pages != 3 {
		t.Errorf("got %d pages, want 3", pages)
	}
	mustEqual(t, "ids newest first", ids(got), ids(all))
	mustEqual(t, "orders", got, all) // whole aggregates, not just ids

	for _, tc := range []struct {
		name      string
		after     *store.OrderCursor
		limit     int
		wantIDs   []string
		wantNext  bool
		wantTotal int
	}{
		{"exact fit", nil, 25, ids(all), false, 25},
		{"one short", nil, 24, ids(all[:24]), true, 25},
		{"cursor is exclusive", &store.OrderCursor{CreatedAt: all[4].CreatedAt, ID: all[4].ID}, 3, ids(all[5:8]), true, 25},
		{"cursor between ties", &store.OrderCursor{CreatedAt: all[1].CreatedAt, ID: all[1].ID}, 1, ids(all[2:3]), true, 25},
		{"cursor at the end", &store.OrderCursor{CreatedAt: all[24].CreatedAt, ID: all[24].ID}, 10, nil, false, 25},
		{"cursor of a missing order", &store.OrderCursor{CreatedAt: all[10].CreatedAt, ID: all[10].ID + "x"}, 2,
			ids(all[10:12]), true, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListOrders(ctx, store.ListOrdersQuery{ApplicationID: "app-1", After: tc.after, Limit: tc.limit})
			mustNil(t, "list", err)
			if len(page.Orders) != 0 || len(tc.wantIDs) != 0 {
				mustEqual(t, "ids", ids(page.Orders), tc.wantIDs)
			}
			mustEqual(t, "HasNext", page.HasNext, tc.wantNext)
			mustEqual(t, "TotalCount", page.TotalCount, tc.wantTotal)
		})
	}
}

func testListOrdersStatus(t *testing.T, s store.Store) {
	closed := func(i int) bool { return i%4 == 1 } // 1, 5, 9, 13, 17, 21: six of 25
	all := createMany(t, s, "app-1", 25, 0, closed)
	byStatus := map[order.Status][]*order.SignatureOrder{}
	for _, o := range all {
		byStatus[o.Status] = append(byStatus[o.Status], o)
	}
	for _, tc := range []struct {
		status order.Status
		limit  int
		want   []*order.SignatureOrder
		pages  int
	}{
		{order.StatusClosed, 4, byStatus[order.StatusClosed], 2},
		{order.StatusOpen, 10, byStatus[order.StatusOpen], 2},
		{order.StatusCancelled, 10, nil, 1},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			got, pages := listAll(t, s, store.ListOrdersQuery{ApplicationID: "app-1", Status: &tc.status, Limit: tc.limit}, len(tc.want))
			mustEqual(t, "ids", ids(got), ids(tc.want))
			mustEqual(t, "pages", pages, tc.pages)
		})
	}
}

func testListOrdersIsolation(t *testing.T, s store.Store) {
	a := createMany(t, s, "app-a", 12, 0, func(int) bool { return false })
	// b's orders interleave a's in time, and one has a's newest timestamp.
	b := createMany(t, s, "app-b", 5, 1500*time.Millisecond, func(int) bool { return false })
	newest := NewOrder("app-b", "app-b-order-zz", a[0].CreatedAt)
	createOrder(t, s, newest)
	b = append([]*order.SignatureOrder{newest}, b...)

	for _, tc := range []struct {
		app  string
		want []*order.SignatureOrder
	}{
		{"app-a", a},
		{"app-b", b},
		{"app-c", nil},
	} {
		t.Run(tc.app, func(t *testing.T) {
			got, _ := listAll(t, s, store.ListOrdersQuery{ApplicationID: tc.app, Limit: 5}, len(tc.want))
			mustEqual(t, "ids", ids(got), ids(tc.want))
			for _, o := range got {
				if o.ApplicationID != tc.app {
					t.Fatalf("order %s of %s listed for %s", o.ID, o.ApplicationID, tc.app)
				}
			}
		})
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := NewOrder("app-1", "order-1", base)
	o.MaxSignatories = 0
	createOrder(t, s, o)

	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
		errs []error
	)
	for range n {
		wg.Go(func() {
			saved, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error {
				o.MaxSignatories++
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			seen[saved.MaxSignatories] = true
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent updates: %v", err)
	}
	mustEqual(t, "final counter", getOrder(t, s, "order-1").MaxSignatories, n)
	// Each update saw the one before it: the saved values are exactly 1..n.
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Fatalf("no update saved the value %d (saw %v): updates overlapped", i, seen)
		}
	}
}

// sweepOrder is an order the sweeper sees as described: status, expiry, retention, and whether its
// documents are still stored.
func sweepOrder(id string, status order.Status, expires time.Time, retain *time.Time, stored bool) *order.SignatureOrder {
	o := NewOrder("app-1", id, base)
	o.Status, o.ExpiresAt, o.RetainDocumentsUntil = status, expires, retain
	o.DocumentsDeletedAt = nil
	if !stored {
		o.Documents[0].Versions = nil
		o.DocumentsDeletedAt = ptr(base)
	}
	return o
}

// sweep is the updater the sweeper runs: order.Sweep at now, recording what each order gave up.
func sweep(now time.Time, mu *sync.Mutex, results map[string][]order.SweepResult) store.Updater {
	return func(o *order.SignatureOrder) error {
		r := o.Sweep(now)
		mu.Lock()
		defer mu.Unlock()
		results[o.ID] = append(results[o.ID], r)
		return nil
	}
}

func testSweepDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, o := range []*order.SignatureOrder{
		sweepOrder("open-expired", order.StatusOpen, base.Add(time.Hour), nil, true),
		sweepOrder("open-later", order.StatusOpen, base.Add(3*time.Hour), nil, true),
		sweepOrder("closed-retention-over", order.StatusClosed, base.Add(90*time.Hour), ptr(base.Add(2*time.Hour)), true),
		sweepOrder("closed-retained", order.StatusClosed, base.Add(90*time.Hour), ptr(base.Add(4*time.Hour)), true),
		sweepOrder("cancelled-left-documents", order.StatusCancelled, base.Add(90*time.Hour), nil, true),
		sweepOrder("cancelled-clean", order.StatusCancelled, base.Add(90*time.Hour), nil, false),
	} {
		createOrder(t, s, o)
	}
	now := base.Add(150 * time.Minute)
	var mu sync.Mutex
	results := map[string][]order.SweepResult{}

	first, err := s.SweepDue(ctx, now, 1, sweep(now, &mu, results))
	mustNil(t, "sweep one", err)
	mustEqual(t, "the earliest due order first", ids(first), []string{"cancelled-left-documents"})
	rest, err := s.SweepDue(ctx, now, 100, sweep(now, &mu, results))
	mustNil(t, "sweep the rest", err)
	mustEqual(t, "due orders by sweep time", ids(rest), []string{"open-expired", "closed-retention-over"})
	again, err := s.SweepDue(ctx, now, 100, sweep(now, &mu, results))
	mustNil(t, "sweep again", err)
	mustEqual(t, "nothing left at the same time", len(again), 0)

	expired := getOrder(t, s, "open-expired")
	mustEqual(t, "status after expiry", expired.Status, order.StatusExpired)
	if expired.DocumentsDeletedAt == nil || expired.Documents[0].Versions != nil {
		t.Errorf("the expired order kept its documents: %+v", expired.Documents[0].Versions)
	}
	mustEqual(t, "dropped versions of the expired order", len(results["open-expired"][0].Dropped), 2)
	mustEqual(t, "open order not yet due", getOrder(t, s, "open-later").Status, order.StatusOpen)
	mustEqual(t, "retained documents stay", len(getOrder(t, s, "closed-retained").Documents[0].Versions), 2)

	// Later, what was not due before is.
	later := base.Add(5 * time.Hour)
	swept, err := s.SweepDue(ctx, later, 100, sweep(later, &mu, results))
	mustNil(t, "sweep later", err)
	mustEqual(t, "due later", ids(swept), []string{"open-later", "closed-retained"})
}

func testSweepDueUpdaterError(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		createOrder(t, s, sweepOrder(id, order.StatusOpen, base.Add(time.Hour), nil, true))
	}
	boom := &codedError{code: "boom"}
	now := base.Add(2 * time.Hour)
	saved, err := s.SweepDue(ctx, now, 10, func(o *order.SignatureOrder) error {
		if o.ID == "b" {
			return boom
		}
		o.Sweep(now)
		return nil
	})
	mustIs(t, "updater error", err, boom)
	mustEqual(t, "the other orders are saved", ids(saved), []string{"a", "c"})
	mustEqual(t, "the failing order is unchanged", getOrder(t, s, "b").Status, order.StatusOpen)
	retry, err := s.SweepDue(ctx, now, 10, func(o *order.SignatureOrder) error { o.Sweep(now); return nil })
	mustNil(t, "retry", err)
	mustEqual(t, "the failed order is still due", ids(retry), []string{"b"})
}

// Three sweepers on one store expire each order exactly once.
func testConcurrentSweeps(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 60
	for i := range n {
		createOrder(t, s, sweepOrder(fmt.Sprintf("o%02d", i), order.StatusOpen, base.Add(time.Duration(i)*time.Second), nil, true))
	}
	now := base.Add(time.Hour)
	var mu sync.Mutex
	results := map[string][]order.SweepResult{}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			for {
				saved, err := s.SweepDue(ctx, now, 7, sweep(now, &mu, results))
				if err != nil {
					errs <- err
					return
				}
				if len(saved) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("sweeper: %v", err)
	}
	expired, dropped := 0, 0
	for id, rs := range results {
		for _, r := range rs {
			if r.Expired {
				expired++
			}
			dropped += len(r.Dropped)
		}
		mustEqual(t, "status of "+id, getOrder(t, s, id).Status, order.StatusExpired)
	}
	mustEqual(t, "orders expired", expired, n)
	mustEqual(t, "versions dropped (two per order, once)", dropped, 2*n)
}

func testPurgeOrders(t *testing.T, s store.Store) {
	ctx := context.Background()
	ended := func(id string, status order.Status, at time.Time, stored bool) *order.SignatureOrder {
		o := sweepOrder(id, status, base.Add(90*time.Hour), nil, stored)
		o.ClosedAt, o.CancelledAt, o.ExpiredAt = &at, &at, &at
		return o
	}
	for _, o := range []*order.SignatureOrder{
		ended("old-closed", order.StatusClosed, base, false),
		ended("old-cancelled", order.StatusCancelled, base.Add(time.Hour), false),
		ended("old-with-documents", order.StatusClosed, base, true), // the sweeper deletes documents first
		ended("recent", order.StatusExpired, base.Add(48*time.Hour), false),
		sweepOrder("open", order.StatusOpen, base, nil, false),
	} {
		createOrder(t, s, o)
	}
	cutoff := base.Add(24 * time.Hour)
	n, err := s.PurgeOrders(ctx, cutoff, 1)
	mustNil(t, "purge one", err)
	mustEqual(t, "purged with limit 1", n, 1)
	n, err = s.PurgeOrders(ctx, cutoff, 100)
	mustNil(t, "purge the rest", err)
	mustEqual(t, "purged in total", n+1, 2)
	for id, want := range map[string]bool{"old-closed": false, "old-cancelled": false, "old-with-documents": true, "recent": true, "open": true} {
		_, err := s.GetOrder(ctx, id)
		if exists := err == nil; exists != want {
			t.Errorf("%s exists: %v, want %v (%v)", id, exists, want, err)
		}
	}
	if _, err := s.FindOrderID(ctx, store.IndexSignatory, "old-closed-sig1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("index of a purged order: %v, want not found", err)
	}
}

// Events raised by an update reach the outbox with it, and only with it; claims lease them.
func testWebhookOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sweepOrder("hooked", order.StatusOpen, base.Add(time.Hour), nil, true)
	createOrder(t, s, o)
	sig := o.Signatories[0].ID
	refused := &codedError{"refused"}
	_, err := s.UpdateOrder(ctx, o.ID, func(o *order.SignatureOrder) error {
		if err := o.Track(sig, false, base); err != nil {
			return err
		}
		return refused // the change is abandoned: so is its event
	})
	mustIs(t, "abandoned update", err, refused)
	claimed, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(time.Minute), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim", err)
	mustEqual(t, "deliveries after an abandoned update", len(claimed), 0)

	_, err = s.UpdateOrder(ctx, o.ID, func(o *order.SignatureOrder) error { return o.Track(sig, false, base) })
	mustNil(t, "update", err)
	claimed, err = s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(time.Minute), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim", err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(claimed))
	}
	d := claimed[0]
	mustEqual(t, "delivery", [6]string{d.ApplicationID, d.OrderID, d.Event, d.URL, string(d.Secret), string(d.Body)},
		[6]string{"app-1", "hooked", order.EventSignLinkOpened, o.Webhook.URL, string(o.Webhook.Secret),
			`{"event":"SIGNATORY_SIGN_LINK_OPENED","signatureOrderId":"hooked","signatoryId":"` + sig + `"}`})
	mustEqual(t, "first attempt", d.Attempt, 1)
	if !d.CreatedAt.Equal(base) || d.ID == "" {
		t.Errorf("delivery id %q created %v", d.ID, d.CreatedAt)
	}
	again, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(90 * time.Second), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim during the lease", err)
	mustEqual(t, "claimable during the lease", len(again), 0)
	again, err = s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(3 * time.Minute), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim after the lease", err)
	if len(again) != 1 || again[0].ID != d.ID || again[0].Attempt != 2 {
		t.Fatalf("after the lease: %+v, want the same delivery as attempt 2", again)
	}
	retry := base.Add(10 * time.Minute)
	mustNil(t, "record", s.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: "inv-1", DeliveryID: d.ID, ApplicationID: d.ApplicationID,
		OrderID: d.OrderID, Event: d.Event, URL: d.URL, RequestBody: string(d.Body), StatusCode: ptr(500), ResponseBody: ptr("down"),
		Outcome: order.InvocationHTTPError, At: base.Add(3 * time.Minute), RetryingAt: &retry}))
	early, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: retry.Add(-time.Second), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim before the retry", err)
	mustEqual(t, "due before the retry", len(early), 0)
	due, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: retry, Lease: time.Minute, Limit: 10})
	mustNil(t, "claim at the retry", err)
	mustEqual(t, "due at the retry", len(due), 1)
	mustNil(t, "record success", s.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: "inv-2", DeliveryID: d.ID, ApplicationID: d.ApplicationID,
		OrderID: d.OrderID, Event: d.Event, URL: d.URL, RequestBody: string(d.Body), StatusCode: ptr(200), Outcome: order.InvocationSuccess, At: retry}))
	done, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: retry.Add(time.Hour), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim after success", err)
	mustEqual(t, "due after success", len(done), 0)

	got, err := s.GetWebhookDelivery(ctx, d.ID)
	mustNil(t, "get delivery", err)
	mustEqual(t, "stored body", string(got.Body), string(d.Body))
	_, err = s.GetWebhookDelivery(ctx, "nope")
	mustIs(t, "missing delivery", err, store.ErrNotFound)
	resend := got
	resend.ID, resend.CreatedAt = "retry-1", base.Add(2*time.Hour)
	mustNil(t, "enqueue", s.EnqueueWebhook(ctx, resend, resend.CreatedAt))
	requeued, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(2 * time.Hour), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim the enqueued", err)
	if len(requeued) != 1 || requeued[0].ID != "retry-1" || string(requeued[0].Secret) != string(o.Webhook.Secret) {
		t.Errorf("enqueued delivery: %+v", requeued)
	}

	// Purging the order takes its webhook rows along.
	_, err = s.UpdateOrder(ctx, o.ID, func(o *order.SignatureOrder) error {
		o.Sweep(base.Add(time.Hour))
		return nil
	})
	mustNil(t, "expire", err)
	n, err := s.PurgeOrders(ctx, base.Add(48*time.Hour), 10)
	mustNil(t, "purge", err)
	mustEqual(t, "purged", n, 1)
	_, err = s.GetWebhookDelivery(ctx, d.ID)
	mustIs(t, "delivery of a purged order", err, store.ErrNotFound)
	logs, err := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", From: base, To: base.Add(72 * time.Hour), Limit: 10})
	mustNil(t, "logs", err)
	mustEqual(t, "invocations of a purged order", len(logs), 0)
}

// testWebhookSecrets: the listings that find stored webhook secrets (to seal the ones stored
// before sealing), page by id, and a secret is replaced only while it is still the old one.
func testWebhookSecrets(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"c-hooked", "a-hooked", "b-plain", "d-nosecret"} {
		o := sweepOrder(id, order.StatusOpen, base.Add(time.Hour), nil, true)
		o.Documents[0].ID = "doc-" + id
		o.Signatories = []order.Signatory{NewSignatory("sig-" + id)}
		switch id {
		case "b-plain":
			o.Webhook = nil
		case "d-nosecret":
			o.Webhook.Secret = nil
		default:
			o.Webhook.Secret = []byte("secret of " + id)
		}
		createOrder(t, s, o)
		_, err := s.UpdateOrder(ctx, id, func(o *order.SignatureOrder) error { return o.Track("sig-"+id, false, base) })
		mustNil(t, "track", err)
	}
	first, err := s.ListOrdersWithWebhookSecret(ctx, "", 1)
	mustNil(t, "orders with a secret", err)
	rest, err := s.ListOrdersWithWebhookSecret(ctx, "a-hooked", 10)
	mustNil(t, "orders with a secret, next page", err)
	mustEqual(t, "orders with a secret", fmt.Sprint(first, rest), "[a-hooked] [c-hooked]")

	deliveries, err := s.ListWebhookSecrets(ctx, "", 10)
	mustNil(t, "deliveries with a secret", err)
	if len(deliveries) != 2 || deliveries[0].ID >= deliveries[1].ID {
		t.Fatalf("deliveries with a secret: %+v, want 2 by id", deliveries)
	}
	for _, d := range deliveries {
		mustEqual(t, "delivery secret of "+d.OrderID, string(d.Secret), "secret of "+d.OrderID)
		mustEqual(t, "delivery application", d.ApplicationID, "app-1")
	}
	page, err := s.ListWebhookSecrets(ctx, deliveries[0].ID, 10)
	mustNil(t, "deliveries with a secret, next page", err)
	if len(page) != 1 || page[0].ID != deliveries[1].ID {
		t.Errorf("next page: %+v", page)
	}

	d := deliveries[0]
	ok, err := s.SetWebhookSecret(ctx, d.ID, d.Secret, []byte("sealed"))
	mustNil(t, "set secret", err)
	mustEqual(t, "replaced", ok, true)
	ok, err = s.SetWebhookSecret(ctx, d.ID, d.Secret, []byte("again"))
	mustNil(t, "set secret again", err)
	mustEqual(t, "replaced though no longer old", ok, false)
	ok, err = s.SetWebhookSecret(ctx, "nope", d.Secret, []byte("x"))
	mustNil(t, "set secret of a missing delivery", err)
	mustEqual(t, "replaced a missing delivery's", ok, false)
	got, err := s.GetWebhookDelivery(ctx, d.ID)
	mustNil(t, "get delivery", err)
	mustEqual(t, "secret after the replacement", string(got.Secret), "sealed")
}

// The secret listings span every application and honour their limits; a delivery in the listing
// carries only its id, application, order and secret.
func testWebhookSecretsPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	apps := map[string]string{"o-1": "app-1", "o-2": "app-2", "o-3": "app-3"}
	for _, id := range []string{"o-3", "o-1", "o-2"} {
		o := sweepOrder(id, order.StatusOpen, base.Add(time.Hour), nil, true)
		o.ApplicationID, o.Documents[0].ID, o.Signatories = apps[id], "doc-"+id, []order.Signatory{NewSignatory("sig-" + id)}
		o.Webhook.Secret = []byte("secret of " + id)
		mustNil(t, "track", o.Track("sig-"+id, false, base))
		createOrder(t, s, o)
	}
	mustNil(t, "enqueue", s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: "0-no-secret", ApplicationID: "app-1", OrderID: "o-1",
		Event: "E", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: base}, base))

	for _, tc := range []struct {
		after string
		want  []string
	}{
		{"", []string{"o-1", "o-2"}},
		{"o-1", []string{"o-2", "o-3"}},
		{"o-2", []string{"o-3"}},
		{"o-3", nil},
	} {
		got, err := s.ListOrdersWithWebhookSecret(ctx, tc.after, 2)
		mustNil(t, "orders with a secret after "+tc.after, err)
		mustEqual(t, "orders with a secret after "+tc.after, fmt.Sprint(got), fmt.Sprint(tc.want))
	}

	all, err := s.ListWebhookSecrets(ctx, "", 10)
	mustNil(t, "deliveries with a secret", err)
	if len(all) != 3 {
		t.Fatalf("deliveries with a secret: %+v, want one per order", all)
	}
	for i, d := range all {
		want := store.WebhookDelivery{ID: d.ID, ApplicationID: apps[d.OrderID], OrderID: d.OrderID, Secret: []byte("secret of " + d.OrderID)}
		mustEqual(t, "listed delivery", d, want)
		if i > 0 && all[i-1].ID >= d.ID {
			t.Fatalf("deliveries with a secret not by id: %+v", all)
		}
	}
	first, err := s.ListWebhookSecrets(ctx, "", 2)
	mustNil(t, "first page", err)
	mustEqual(t, "first page", first, all[:2])
	rest, err := s.ListWebhookSecrets(ctx, first[1].ID, 2)
	mustNil(t, "next page", err)
	mustEqual(t, "next page", rest, all[2:])

	ok, err := s.SetWebhookSecret(ctx, all[0].ID, all[1].Secret, []byte("x"))
	mustNil(t, "set with another delivery's secret as old", err)
	mustEqual(t, "replaced with another delivery's secret as old", ok, false)
}

func testWebhookLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	for i, inv := range []order.WebhookInvocation{
		{ApplicationID: "app-1", OrderID: "o1", Outcome: order.InvocationSuccess, StatusCode: ptr(200), At: at(1)},
		{ApplicationID: "app-1", OrderID: "o1", Outcome: order.InvocationTimeout, TimeoutMillis: ptr(10000), At: at(2), RetryingAt: ptr(at(3))},
		{ApplicationID: "app-1", OrderID: "o2", Outcome: order.InvocationException, Exception: ptr("connection refused"), At: at(3)},
		{ApplicationID: "app-2", OrderID: "o3", Outcome: order.InvocationSuccess, StatusCode: ptr(200), At: at(2)},
	} {
		inv.ID, inv.DeliveryID, inv.Event, inv.URL, inv.RequestBody = fmt.Sprintf("inv-%d", i), fmt.Sprintf("del-%d", i), "SIGNATORY_SIGNED", "https://example.com/h", "{}"
		mustNil(t, "record", s.RecordWebhookInvocation(ctx, inv))
	}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    store.WebhookLogQuery
		want []string
	}{
		{"application", store.WebhookLogQuery{ApplicationID: "app-1", From: at(0), To: at(10)}, []string{"inv-0", "inv-1", "inv-2"}},
		{"order", store.WebhookLogQuery{ApplicationID: "app-1", OrderID: "o1", From: at(0), To: at(10)}, []string{"inv-0", "inv-1"}},
		{"window is half open", store.WebhookLogQuery{ApplicationID: "app-1", From: at(2), To: at(3)}, []string{"inv-1"}},
		{"succeeded", store.WebhookLogQuery{ApplicationID: "app-1", From: at(0), To: at(10), Succeeded: &yes}, []string{"inv-0"}},
		{"failed", store.WebhookLogQuery{ApplicationID: "app-1", From: at(0), To: at(10), Succeeded: &no}, []string{"inv-1", "inv-2"}},
		{"other application's order", store.WebhookLogQuery{ApplicationID: "app-1", OrderID: "o3", From: at(0), To: at(10)}, nil},
	} {
		tc.q.Limit = 10
		got, err := s.ListWebhookInvocations(ctx, tc.q)
		mustNil(t, tc.name, err)
		var ids []string
		for _, inv := range got {
			ids = append(ids, inv.ID)
		}
		mustEqual(t, tc.name, ids, tc.want)
	}
	got, err := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", OrderID: "o1", From: at(2), To: at(3), Limit: 1})
	mustNil(t, "one", err)
	if len(got) != 1 || got[0].Outcome != order.InvocationTimeout || *got[0].TimeoutMillis != 10000 || !got[0].RetryingAt.Equal(at(3)) ||
		got[0].StatusCode != nil || got[0].ResponseBody != nil || !got[0].At.Equal(at(2)) {
		t.Errorf("round trip of an invocation: %+v", got)
	}
}

// Three workers claiming at once get each delivery once.
func testConcurrentWebhookClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 30
	for i := range n {
		mustNil(t, "enqueue", s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: fmt.Sprintf("d%02d", i), ApplicationID: "app-1",
			OrderID: "o", Event: "SIGNATORY_SIGNED", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: base}, base))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				got, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(time.Second), Lease: time.Hour, Limit: 4})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	mustEqual(t, "deliveries claimed", len(seen), n)
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

// A claim that skips an application gets past its deliveries, however many are due first: with 50
// of app-a's due and one of app-b's due after them, a claim of 10 takes app-a's only, one that
// skips app-a takes app-b's. A delivery is due when EnqueueWebhook says, not when it was created.
func testWebhookClaimSkipsApplications(t *testing.T, s store.Store) {
	ctx := context.Background()
	enqueue := func(id, app string, due time.Time) {
		t.Helper()
		mustNil(t, "enqueue "+id, s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: id, ApplicationID: app, OrderID: "o-" + app,
			Event: "SIGNATORY_SIGNED", URL: "https://example.com/" + app, Body: []byte("{}"), CreatedAt: base}, due))
	}
	for i := range 50 {
		enqueue(fmt.Sprintf("a%02d", i), "app-a", base.Add(time.Duration(i)*time.Millisecond))
	}
	enqueue("b", "app-b", base.Add(time.Second))
	claim := func(what string, now time.Time, limit int, skip ...string) (ids []string, apps map[string]int) {
		t.Helper()
		got, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: now, Lease: time.Hour, Limit: limit, SkipApplications: skip})
		mustNil(t, what, err)
		apps = map[string]int{}
		for _, d := range got {
			ids, apps[d.ApplicationID] = append(ids, d.ID), apps[d.ApplicationID]+1
		}
		slices.Sort(ids)
		return ids, apps
	}

	ids, _ := claim("before b is due", base.Add(500*time.Millisecond), 10, "app-a")
	mustEqual(t, "claimed, skipping app-a, before b is due", len(ids), 0)
	now := base.Add(2 * time.Second)
	ids, _ = claim("earliest first", now, 10)
	mustEqual(t, "claimed without skipping", ids, []string{"a00", "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09"})
	ids, _ = claim("skipping app-a", now, 10, "app-a", "app-c")
	mustEqual(t, "claimed, skipping app-a and app-c", ids, []string{"b"})
	_, apps := claim("skipping app-b", now, 100, "app-b")
	mustEqual(t, "claimed, skipping app-b", apps, map[string]int{"app-a": 40})
}

func idempotencyClaim(key, request string, now time.Time) store.IdempotencyClaim {
	h := sha256.Sum256([]byte(request))
	return store.IdempotencyClaim{Scope: "app-1", Key: key, RequestHash: h[:], Now: now,
		ExpiresAt: now.Add(24 * time.Hour), StaleBefore: now.Add(-5 * time.Minute)}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	begin := func(what string, c store.IdempotencyClaim, want idempotency.State, wantResponse string) {
		t.Helper()
		state, resp, err := s.BeginIdempotent(ctx, c)
		mustNil(t, what, err)
		mustEqual(t, what, state, want)
		mustEqual(t, what+": response", string(resp), wantResponse)
	}
	begin("new key", idempotencyClaim("k1", "close A", base), idempotency.Started, "")
	begin("same request while running", idempotencyClaim("k1", "close A", base.Add(time.Second)), idempotency.InFlight, "")
	begin("other request while running", idempotencyClaim("k1", "close B", base.Add(time.Second)), idempotency.Mismatch, "")
	other := idempotencyClaim("k1", "close A", base)
	other.Scope = "app-2"
	begin("same key in another scope", other, idempotency.Started, "")
	mustNil(t, "finish", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "app-1", Key: "k1", Response: []byte(`{"data":1}`)}))
	mustNil(t, "abandon after finishing changes nothing", s.AbandonIdempotent(ctx, "app-1", "k1"))
	begin("same request again", idempotencyClaim("k1", "close A", base.Add(time.Hour)), idempotency.Replay, `{"data":1}`)
	begin("other request after the answer", idempotencyClaim("k1", "close B", base.Add(time.Hour)), idempotency.Mismatch, "")
	begin("after expiry the key is fresh", idempotencyClaim("k1", "close B", base.Add(25*time.Hour)), idempotency.Started, "")

	// A run whose process died: after the lease the same request takes over, another does not.
	begin("run that dies", idempotencyClaim("k2", "cancel", base), idempotency.Started, "")
	begin("other request on a stale run", idempotencyClaim("k2", "sign", base.Add(10*time.Minute)), idempotency.Mismatch, "")
	begin("same request on a stale run", idempotencyClaim("k2", "cancel", base.Add(10*time.Minute)), idempotency.Started, "")

	// A failure worth retrying forgets the key.
	begin("run that fails", idempotencyClaim("k3", "create", base), idempotency.Started, "")
	mustNil(t, "abandon", s.AbandonIdempotent(ctx, "app-1", "k3"))
	begin("retry after abandon", idempotencyClaim("k3", "create", base.Add(time.Second)), idempotency.Started, "")

	n, err := s.PurgeIdempotencyKeys(ctx, base.Add(24*time.Hour+time.Second))
	mustNil(t, "purge", err)
	mustEqual(t, "keys expired by then", n, 2) // app-2/k1 and k3; k1 was renewed at +25 h, k2 taken over at +10 min
	begin("after the purge", idempotencyClaim("k3", "other", base.Add(25*time.Hour)), idempotency.Started, "")
}

// A kept answer that holds an order's documents is deleted in the transaction that deletes them
// (UpdateOrder and SweepDue alike), and is not kept at all once they are gone; answers holding
// nothing of the order stay.
func testKeptAnswersGoWithDocuments(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"order-1", "order-2", "order-3"} {
		createOrder(t, s, NewOrder("app-1", id, base))
	}
	state := func(key string) idempotency.State {
		t.Helper()
		st, _, err := s.BeginIdempotent(ctx, idempotencyClaim(key, "close", base.Add(time.Hour)))
		mustNil(t, "begin "+key, err)
		return st
	}
	keep := func(key string, orders ...string) error {
		t.Helper()
		st, _, err := s.BeginIdempotent(ctx, idempotencyClaim(key, "close", base))
		mustNil(t, "begin "+key, err)
		mustEqual(t, "begin "+key, st, idempotency.Started)
		return s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "app-1", Key: key, Response: []byte(`{"blob":"…"}`), OrderIDs: orders})
	}
	mustNil(t, "keep k1", keep("k1", "order-1"))
	mustNil(t, "keep k2", keep("k2", "order-2", "order-3"))
	mustNil(t, "keep k3", keep("k3")) // holds no documents
	mustNil(t, "keep k4", keep("k4", "order-3"))

	dropDocuments := func(o *order.SignatureOrder) error { o.DropDocuments(base.Add(2 * time.Hour)); return nil }
	_, err := s.UpdateOrder(ctx, "order-2", func(o *order.SignatureOrder) error { o.Title = ptr("renamed"); return nil })
	mustNil(t, "update keeping the documents", err)
	mustEqual(t, "k2 after an update keeping the documents", state("k2"), idempotency.Replay)

	_, err = s.UpdateOrder(ctx, "order-1", dropDocuments)
	mustNil(t, "drop the documents of order-1", err)
	mustEqual(t, "k1 after its documents were dropped: a fresh key", state("k1"), idempotency.Started)
	mustEqual(t, "k2 holds nothing of order-1", state("k2"), idempotency.Replay)
	mustEqual(t, "k3 holds no documents", state("k3"), idempotency.Replay)

	// The sweep (expiry, end of retention) drops order-3's documents: k2 and k4 go, in its transaction.
	_, err = s.SweepDue(ctx, base.Add(365*24*time.Hour), 10, func(o *order.SignatureOrder) error {
		if o.ID == "order-3" {
			return dropDocuments(o)
		}
		return nil
	})
	mustNil(t, "sweep", err)
	mustEqual(t, "k2 after the sweep dropped order-3's documents", state("k2"), idempotency.Started)
	mustEqual(t, "k4 after the sweep dropped order-3's documents", state("k4"), idempotency.Started)
	mustEqual(t, "k3 after the sweep", state("k3"), idempotency.Replay)

	// An answer holding documents that are gone already is not kept; the key stays claimed, so
	// the caller can keep another answer instead.
	mustIs(t, "keep an answer holding deleted documents", keep("k5", "order-1"), store.ErrDocumentsDeleted)
	mustIs(t, "keep an answer holding an order that is not there", keep("k6", "no-such-order"), store.ErrDocumentsDeleted)
	st, _, err := s.BeginIdempotent(ctx, idempotencyClaim("k5", "close", base.Add(time.Second)))
	mustNil(t, "begin k5", err)
	mustEqual(t, "k5 after the refused answer", st, idempotency.InFlight)
	mustNil(t, "keep another answer for k5", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "app-1", Key: "k5", Response: []byte(`{"gone":true}`)}))
	_, resp, err := s.BeginIdempotent(ctx, idempotencyClaim("k5", "close", base.Add(time.Hour)))
	mustNil(t, "replay k5", err)
	mustEqual(t, "k5 answer", string(resp), `{"gone":true}`)

	// A key taken over after it expired forgets the orders of its earlier answer.
	createOrder(t, s, NewOrder("app-1", "order-4", base))
	mustNil(t, "keep k7", keep("k7", "order-4"))
	later := idempotencyClaim("k7", "other", base.Add(25*time.Hour))
	st, _, err = s.BeginIdempotent(ctx, later)
	mustNil(t, "take over k7", err)
	mustEqual(t, "take over k7", st, idempotency.Started)
	mustNil(t, "keep k7 again", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "app-1", Key: "k7", Response: []byte(`{}`)}))
	_, err = s.UpdateOrder(ctx, "order-4", dropDocuments)
	mustNil(t, "drop the documents of order-4", err)
	later.Now = later.Now.Add(time.Minute)
	st, _, err = s.BeginIdempotent(ctx, later)
	mustNil(t, "replay k7", err)
	mustEqual(t, "k7's new answer held nothing of order-4", st, idempotency.Replay)

	// ... and forgets them at the takeover already: dropping the earlier answer's documents while the
	// new request still runs must not delete the running claim (a retry would run it twice).
	createOrder(t, s, NewOrder("app-1", "order-5", base))
	mustNil(t, "keep k8", keep("k8", "order-5"))
	rerun := idempotencyClaim("k8", "other", base.Add(25*time.Hour))
	st, _, err = s.BeginIdempotent(ctx, rerun)
	mustNil(t, "take over k8", err)
	mustEqual(t, "take over k8", st, idempotency.Started)
	_, err = s.UpdateOrder(ctx, "order-5", dropDocuments)
	mustNil(t, "drop the documents of order-5", err)
	rerun.Now = rerun.Now.Add(time.Second)
	st, _, err = s.BeginIdempotent(ctx, rerun)
	mustNil(t, "begin k8 again", err)
	mustEqual(t, "k8 while its new request runs", st, idempotency.InFlight)
}

// Keeping an answer and dropping the documents it holds at the same time never leaves the answer
// kept beside deleted documents.
func testConcurrentKeptAnswerAndDocumentDeletion(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 10 {
		id, key := fmt.Sprintf("order-%d", i), fmt.Sprintf("k%d", i)
		createOrder(t, s, NewOrder("app-1", id, base))
		st, _, err := s.BeginIdempotent(ctx, idempotencyClaim(key, "close", base))
		mustNil(t, "begin", err)
		mustEqual(t, "begin", st, idempotency.Started)
		var wg sync.WaitGroup
		var finishErr error
		wg.Go(func() {
			finishErr = s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "app-1", Key: key, Response: []byte(`{}`), OrderIDs: []string{id}})
		})
		wg.Go(func() {
			_, err := s.UpdateOrder(ctx, id, func(o *order.SignatureOrder) error { o.DropDocuments(base); return nil })
			if err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if finishErr != nil && !errors.Is(finishErr, store.ErrDocumentsDeleted) {
			t.Fatalf("finish %s: %v", key, finishErr)
		}
		st, _, err = s.BeginIdempotent(ctx, idempotencyClaim(key, "close", base.Add(time.Hour)))
		mustNil(t, "begin again", err)
		if st == idempotency.Replay {
			t.Fatalf("%s: the answer is kept although the documents it holds are deleted", key)
		}
	}
}

// Ten requests with one key at once: one runs.
func testConcurrentIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	var mu sync.Mutex
	states := map[idempotency.State]int{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			state, _, err := s.BeginIdempotent(ctx, idempotencyClaim("k", "cleanup", base))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			states[state]++
			mu.Unlock()
		})
	}
	wg.Wait()
	mustEqual(t, "started", states[idempotency.Started], 1)
	mustEqual(t, "in flight", states[idempotency.InFlight], 9)
}

func testPing(t *testing.T, s store.Store) {
	mustNil(t, "ping", s.Ping(context.Background()))
}

// checkCases fails for every method of iface without an entry in Cases, for every entry that is
// not a method, and for every case name an entry lists that is not in names.
func checkCases(t *testing.T, iface reflect.Type, names map[string]bool) {
	t.Helper()
	methods := map[string]bool{}
	for i := range iface.NumMethod() {
		m := iface.Method(i).Name
		methods[m] = true
		if len(Cases[m]) == 0 {
			t.Errorf("store.Store.%s has no conformance case: add one to Run and list it in storetest.Cases", m)
		}
	}
	for m, cases := range Cases {
		if !methods[m] {
			t.Errorf("storetest.Cases lists %s, which store.Store does not have", m)
		}
		for _, c := range cases {
			if !names[c] {
				t.Errorf("storetest.Cases lists case %q for %s, which Run does not have", c, m)
			}
		}
	}
}

// Whatever zone a caller's time is in, what comes back is the same instant, in UTC.
func testTimesComeBackUTC(t *testing.T, s store.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	at := base.In(zone)
	mustNil(t, "create application", s.CreateApplication(ctx, tenant.Application{ID: "app-1", Name: "A",
		Environment: tenant.EnvironmentTest, CreatedAt: at}))
	mustNil(t, "create api key", s.CreateAPIKey(ctx, tenant.APIKey{ID: "key-1", ApplicationID: "app-1", ClientID: "client-1",
		SecretHash: []byte{1}, Mode: tenant.KeyReadOnly, CreatedAt: at}))
	mustNil(t, "enqueue", s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: "d", ApplicationID: "app-1", OrderID: "o",
		Event: "E", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: at}, at))
	mustNil(t, "record", s.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: "i", DeliveryID: "d", ApplicationID: "app-1",
		OrderID: "o", Event: "E", URL: "https://example.com/h", RequestBody: "{}", Outcome: order.InvocationSuccess,
		At: at, RetryingAt: ptr(at.Add(time.Minute))}))

	app, err := s.GetApplication(ctx, "app-1")
	mustNil(t, "get application", err)
	key, err := s.GetAPIKeyByClientID(ctx, "client-1")
	mustNil(t, "get api key", err)
	keys, err := s.ListAPIKeys(ctx, "app-1")
	mustNil(t, "list api keys", err)
	delivery, err := s.GetWebhookDelivery(ctx, "d")
	mustNil(t, "get delivery", err)
	invs, err := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", From: base, To: base.Add(time.Hour), Limit: 1})
	mustNil(t, "list invocations", err)
	if len(keys) != 1 || len(invs) != 1 || invs[0].RetryingAt == nil {
		t.Fatalf("got %d keys and invocations %+v, want one of each with RetryingAt", len(keys), invs)
	}
	for _, c := range []struct {
		what      string
		got, want time.Time
	}{
		{"Application.CreatedAt", app.CreatedAt, base},
		{"APIKey.CreatedAt", key.CreatedAt, base},
		{"ListAPIKeys: CreatedAt", keys[0].CreatedAt, base},
		{"WebhookDelivery.CreatedAt", delivery.CreatedAt, base},
		{"WebhookInvocation.At", invs[0].At, base},
		{"WebhookInvocation.RetryingAt", *invs[0].RetryingAt, base.Add(time.Minute)},
	} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			t.Errorf("%s: got %v, want %v in UTC", c.what, c.got, c.want)
		}
	}
}

// The events an order raised before it was created go to the outbox with it.
func testCreateOrderWritesEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sweepOrder("hooked", order.StatusOpen, base.Add(time.Hour), nil, true)
	mustNil(t, "track", o.Track(o.Signatories[0].ID, true, base.Add(time.Second)))
	createOrder(t, s, o)
	silent := sweepOrder("silent", order.StatusOpen, base.Add(time.Hour), nil, true)
	silent.Webhook = nil
	mustNil(t, "track", silent.Track(silent.Signatories[0].ID, true, base.Add(time.Second)))
	createOrder(t, s, silent)

	claimed, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(time.Second), Lease: time.Minute, Limit: 10})
	mustNil(t, "claim", err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %+v, want the one event of the hooked order", claimed)
	}
	d := claimed[0]
	mustEqual(t, "delivery", [6]string{d.ApplicationID, d.OrderID, d.Event, d.URL, string(d.Secret), string(d.Body)},
		[6]string{"app-1", "hooked", order.EventDownloadLinkOpened, o.Webhook.URL, string(o.Webhook.Secret),
			`{"event":"SIGNATORY_DOWNLOAD_LINK_OPENED","signatureOrderId":"hooked","signatoryId":"` + o.Signatories[0].ID + `"}`})
	if !d.CreatedAt.Equal(base.Add(time.Second)) || d.Attempt != 1 {
		t.Errorf("delivery created %v attempt %d, want %v and 1", d.CreatedAt, d.Attempt, base.Add(time.Second))
	}
}

// The columns copied from the aggregate (sweep_at, retired_at) follow an update both ways: an
// earlier expiry makes the order due sooner, a later one later, and an order that ended and lost
// its documents is no longer swept but purged.
func testUpdateOrderRewritesColumns(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, sweepOrder("sooner", order.StatusOpen, base.Add(3*time.Hour), nil, true))
	createOrder(t, s, sweepOrder("later", order.StatusOpen, base.Add(time.Hour), nil, true))
	createOrder(t, s, sweepOrder("retired", order.StatusOpen, base.Add(time.Hour), nil, true))
	for id, fn := range map[string]store.Updater{
		"sooner": func(o *order.SignatureOrder) error { o.ExpiresAt = base.Add(time.Hour); return nil },
		"later":  func(o *order.SignatureOrder) error { o.ExpiresAt = base.Add(5 * time.Hour); return nil },
		"retired": func(o *order.SignatureOrder) error {
			o.Status, o.ClosedAt = order.StatusClosed, &base
			o.DropDocuments(base)
			return nil
		},
	} {
		_, err := s.UpdateOrder(ctx, id, fn)
		mustNil(t, "update "+id, err)
	}
	swept, err := s.SweepDue(ctx, base.Add(2*time.Hour), 10, func(*order.SignatureOrder) error { return nil })
	mustNil(t, "sweep", err)
	mustEqual(t, "due after the updates", ids(swept), []string{"sooner"})
	n, err := s.PurgeOrders(ctx, base.Add(time.Second), 10)
	mustNil(t, "purge", err)
	mustEqual(t, "purged after the updates", n, 1)
	_, err = s.GetOrder(ctx, "retired")
	mustIs(t, "the retired order", err, store.ErrNotFound)
}

// An order is due at its sweep time, not a microsecond before.
func testSweepDueBoundary(t *testing.T, s store.Store) {
	ctx := context.Background()
	expires := base.Add(time.Hour)
	createOrder(t, s, sweepOrder("o", order.StatusOpen, expires, nil, true))
	none := func(*order.SignatureOrder) error { return nil }
	early, err := s.SweepDue(ctx, expires.Add(-time.Microsecond), 10, none)
	mustNil(t, "sweep just before", err)
	mustEqual(t, "due just before its time", len(early), 0)
	due, err := s.SweepDue(ctx, expires, 10, none)
	mustNil(t, "sweep at its time", err)
	mustEqual(t, "due at its time", ids(due), []string{"o"})
	zero, err := s.SweepDue(ctx, expires, 0, none)
	mustNil(t, "sweep none", err)
	mustEqual(t, "swept with limit 0", len(zero), 0)
}

// The events a sweep raises reach the outbox with the swept order; an updater that fails takes its
// events along.
func testSweepDueWritesEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, sweepOrder("swept", order.StatusOpen, base.Add(time.Hour), nil, true))
	createOrder(t, s, sweepOrder("failed", order.StatusOpen, base.Add(time.Hour), nil, true))
	now := base.Add(2 * time.Hour)
	boom := &codedError{"boom"}
	saved, err := s.SweepDue(ctx, now, 10, func(o *order.SignatureOrder) error {
		o.Sweep(now)
		if o.ID == "failed" {
			return boom
		}
		return nil
	})
	mustIs(t, "sweep", err, boom)
	mustEqual(t, "swept", ids(saved), []string{"swept"})
	claimed, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: now, Lease: time.Minute, Limit: 10})
	mustNil(t, "claim", err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %+v, want the expiry of the swept order only", claimed)
	}
	d := claimed[0]
	mustEqual(t, "delivery", [3]string{d.OrderID, d.Event, string(d.Body)},
		[3]string{"swept", order.EventSignatureOrderExpired, `{"event":"SIGNATURE_ORDER_EXPIRED","signatureOrderId":"swept"}`})
	if !d.CreatedAt.Equal(now) {
		t.Errorf("delivery created %v, want %v", d.CreatedAt, now)
	}
}

// PurgeOrders deletes orders retired strictly before its time, up to its limit, and the webhook rows
// of exactly those orders.
func testPurgeOrdersBoundaryAndOrphans(t *testing.T, s store.Store) {
	ctx := context.Background()
	retiredAt := base.Add(time.Hour)
	for _, id := range []string{"gone-1", "gone-2", "kept"} {
		o := sweepOrder(id, order.StatusOpen, base.Add(90*time.Hour), nil, false)
		o.Documents[0].ID, o.Signatories = "doc-"+id, []order.Signatory{NewSignatory("sig-" + id)}
		if id != "kept" {
			o.Status, o.ClosedAt = order.StatusClosed, &retiredAt
		}
		createOrder(t, s, o)
		mustNil(t, "enqueue", s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: "d-" + id, ApplicationID: "app-1", OrderID: id,
			Event: "E", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: base}, base))
		mustNil(t, "record", s.RecordWebhookInvocation(ctx, order.WebhookInvocation{ID: "i-" + id, DeliveryID: "d-" + id,
			ApplicationID: "app-1", OrderID: id, Event: "E", URL: "https://example.com/h", RequestBody: "{}",
			Outcome: order.InvocationSuccess, At: base}))
	}
	exists := func(id string) bool {
		t.Helper()
		_, err := s.GetOrder(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get %s: %v", id, err)
		}
		_, derr := s.GetWebhookDelivery(ctx, "d-"+id)
		logs, lerr := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", OrderID: id,
			From: base, To: base.Add(time.Hour), Limit: 10})
		mustNil(t, "logs of "+id, lerr)
		if want := err == nil; (derr == nil) != want || (len(logs) == 1) != want {
			t.Fatalf("order %s exists: %v, but its delivery: %v, its invocations: %d", id, want, derr, len(logs))
		}
		return err == nil
	}

	n, err := s.PurgeOrders(ctx, retiredAt, 10)
	mustNil(t, "purge at the retirement", err)
	mustEqual(t, "purged at the retirement", n, 0)
	n, err = s.PurgeOrders(ctx, retiredAt.Add(time.Microsecond), 1)
	mustNil(t, "purge one", err)
	mustEqual(t, "purged with limit 1", n, 1)
	if exists("gone-1") == exists("gone-2") {
		t.Fatal("purged with limit 1: want exactly one of gone-1 and gone-2 gone")
	}
	mustEqual(t, "kept exists", exists("kept"), true)
	n, err = s.PurgeOrders(ctx, retiredAt.Add(time.Microsecond), 10)
	mustNil(t, "purge the rest", err)
	mustEqual(t, "purged the rest", n, 1)
	mustEqual(t, "gone-1 exists", exists("gone-1"), false)
	mustEqual(t, "gone-2 exists", exists("gone-2"), false)
	mustEqual(t, "kept exists", exists("kept"), true)
}

// EnqueueWebhook stores the delivery as given (no attempt yet), a secret or none; an id is taken once.
func testEnqueueWebhook(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, d := range []store.WebhookDelivery{
		{ID: "with-secret", ApplicationID: "app-1", OrderID: "o-1", Event: order.EventSignatorySigned, URL: "https://example.com/1",
			Secret: []byte{0, 1, 255}, Body: []byte(`{"a":"\u0000✓"}`), CreatedAt: base},
		{ID: "without-secret", ApplicationID: "app-2", OrderID: "o-2", Event: order.EventSignatoryRejected, URL: "https://example.com/2",
			Body: []byte(`{}`), CreatedAt: base.Add(time.Second)},
	} {
		t.Run(d.ID, func(t *testing.T) {
			sent := d
			sent.Attempt = 7 // not stored: attempts are counted by claims
			mustNil(t, "enqueue", s.EnqueueWebhook(ctx, sent, base.Add(time.Hour)))
			got, err := s.GetWebhookDelivery(ctx, d.ID)
			mustNil(t, "get", err)
			mustEqual(t, "stored delivery", got, d)
			mustIs(t, "enqueue the same id", s.EnqueueWebhook(ctx, d, base), store.ErrConflict)
		})
	}
	claimed, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: base.Add(time.Hour), Lease: time.Minute, Limit: 1})
	mustNil(t, "claim", err)
	mustEqual(t, "claimed", len(claimed), 1)
	got, err := s.GetWebhookDelivery(ctx, claimed[0].ID)
	mustNil(t, "get claimed", err)
	mustEqual(t, "attempt of the claimed delivery, as stored", got.Attempt, 1)
}

// A claim takes the earliest due deliveries up to its limit, returns them by creation time, and
// leases them for exactly c.Lease.
func testWebhookClaimOrderAndLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, d := range []struct {
		id           string
		created, due time.Duration
	}{
		{"due-1st", 3 * time.Second, 0},
		{"due-2nd", time.Second, time.Millisecond},
		{"due-3rd", 2 * time.Second, 2 * time.Millisecond},
		{"due-4th", 0, 3 * time.Millisecond},
		{"not-due", 0, time.Hour},
	} {
		mustNil(t, "enqueue "+d.id, s.EnqueueWebhook(ctx, store.WebhookDelivery{ID: d.id, ApplicationID: "app-1", OrderID: "o",
			Event: "E", URL: "https://example.com/h", Body: []byte("{}"), CreatedAt: base.Add(d.created)}, base.Add(d.due)))
	}
	claim := func(what string, now time.Time, limit int) []string {
		t.Helper()
		got, err := s.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: now, Lease: time.Minute, Limit: limit})
		mustNil(t, what, err)
		var out []string
		for _, d := range got {
			out = append(out, fmt.Sprintf("%s#%d", d.ID, d.Attempt))
		}
		return out
	}
	now := base.Add(time.Second)
	mustEqual(t, "the three due first, by creation", claim("claim three", now, 3), []string{"due-2nd#1", "due-3rd#1", "due-1st#1"})
	mustEqual(t, "the fourth", claim("claim the rest", now, 10), []string{"due-4th#1"})
	mustEqual(t, "just before the lease ends", len(claim("claim in the lease", now.Add(time.Minute-time.Microsecond), 10)), 0)
	mustEqual(t, "when the lease ends", claim("claim after the lease", now.Add(time.Minute), 10),
		[]string{"due-4th#2", "due-2nd#2", "due-3rd#2", "due-1st#2"})
}

// Every field of an invocation comes back as recorded, a nil pointer as nil and a pointer to the
// zero value as that; the logs are oldest first, whatever order they were recorded in, and
// Limit cuts the newest.
func testWebhookLogsRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	invs := []order.WebhookInvocation{
		{ID: "inv-b", DeliveryID: "del-1", ApplicationID: "app-1", OrderID: "o1", Event: "E1", URL: "https://example.com/1",
			RequestBody: `{"x":"\u0000"}`, ResponseBody: ptr(""), StatusCode: ptr(0), Outcome: order.InvocationHTTPError,
			Exception: ptr(""), TimeoutMillis: ptr(0), At: base.Add(2 * time.Second), RetryingAt: ptr(base.Add(time.Hour))},
		{ID: "inv-a", DeliveryID: "del-2", ApplicationID: "app-1", OrderID: "o2", Event: "E2", URL: "https://example.com/2",
			RequestBody: "{}", ResponseBody: ptr("ok ✓"), StatusCode: ptr(200), Outcome: order.InvocationSuccess, At: base.Add(time.Second)},
		{ID: "inv-c", DeliveryID: "del-3", ApplicationID: "app-1", OrderID: "o1", Event: "E3", URL: "https://example.com/3",
			RequestBody: "{}", Outcome: order.InvocationException, Exception: ptr("refused"), At: base.Add(3 * time.Second)},
		{ID: "inv-0", DeliveryID: "del-4", ApplicationID: "app-1", OrderID: "o3", Event: "E4", URL: "https://example.com/4",
			RequestBody: "{}", Outcome: order.InvocationTimeout, TimeoutMillis: ptr(5000), At: base.Add(time.Second)},
	}
	for _, inv := range invs {
		mustNil(t, "record "+inv.ID, s.RecordWebhookInvocation(ctx, inv))
	}
	for _, tc := range []struct {
		limit int
		want  []order.WebhookInvocation
	}{
		{10, []order.WebhookInvocation{invs[3], invs[1], invs[0], invs[2]}}, // by At, then id
		{3, []order.WebhookInvocation{invs[3], invs[1], invs[0]}},
		{1, []order.WebhookInvocation{invs[3]}},
	} {
		t.Run(fmt.Sprintf("limit %d", tc.limit), func(t *testing.T) {
			got, err := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", From: base, To: base.Add(time.Hour),
				Limit: tc.limit})
			mustNil(t, "list", err)
			mustEqual(t, "invocations", got, tc.want)
		})
	}
}

// Listing with a limit that is not positive is an error, not everything.
func testNonPositiveLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	for _, limit := range []int{0, -1} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			if _, err := s.ListOrders(ctx, store.ListOrdersQuery{ApplicationID: "app-1", Limit: limit}); err == nil {
				t.Errorf("ListOrders with limit %d: no error", limit)
			}
			if _, err := s.ListWebhookInvocations(ctx, store.WebhookLogQuery{ApplicationID: "app-1", From: base,
				To: base.Add(time.Hour), Limit: limit}); err == nil {
				t.Errorf("ListWebhookInvocations with limit %d: no error", limit)
			}
		})
	}
}

// A key expires at ExpiresAt, not a microsecond later; a run is stale when it started strictly
// before StaleBefore.
func testIdempotencyBoundaries(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		finished bool
		then     func(c store.IdempotencyClaim) store.IdempotencyClaim
		want     idempotency.State
	}{
		{"answered, just before expiry", true, func(c store.IdempotencyClaim) store.IdempotencyClaim {
			c.Now = c.ExpiresAt.Add(-time.Microsecond)
			return c
		}, idempotency.Replay},
		{"answered, at expiry", true, func(c store.IdempotencyClaim) store.IdempotencyClaim {
			c.Now = c.ExpiresAt
			return c
		}, idempotency.Started},
		{"running, at expiry", false, func(c store.IdempotencyClaim) store.IdempotencyClaim {
			c.Now, c.StaleBefore = c.ExpiresAt, c.Now
			return c
		}, idempotency.Started},
		{"running, started at StaleBefore", false, func(c store.IdempotencyClaim) store.IdempotencyClaim {
			c.StaleBefore, c.Now = c.Now, c.Now.Add(time.Minute)
			return c
		}, idempotency.InFlight},
		{"running, started just before StaleBefore", false, func(c store.IdempotencyClaim) store.IdempotencyClaim {
			c.StaleBefore, c.Now = c.Now.Add(time.Microsecond), c.Now.Add(time.Minute)
			return c
		}, idempotency.Started},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := idempotencyClaim(tc.name, "request", base)
			st, _, err := s.BeginIdempotent(ctx, c)
			mustNil(t, "begin", err)
			mustEqual(t, "begin", st, idempotency.Started)
			if tc.finished {
				mustNil(t, "finish", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: c.Scope, Key: c.Key, Response: []byte("answer")}))
			}
			st, _, err = s.BeginIdempotent(ctx, tc.then(c))
			mustNil(t, "begin again", err)
			mustEqual(t, "begin again", st, tc.want)
		})
	}
}

// Keys of one scope are not another's: abandoning, answering and replaying stay in the scope.
// An answer kept after the key was abandoned is dropped; an empty answer is an answer.
func testIdempotencyScopes(t *testing.T, s store.Store) {
	ctx := context.Background()
	claim := func(scope, request string, now time.Time) store.IdempotencyClaim {
		c := idempotencyClaim("k", request, now)
		c.Scope = scope
		return c
	}
	begin := func(what string, c store.IdempotencyClaim, want idempotency.State, wantAnswer string) {
		t.Helper()
		st, answer, err := s.BeginIdempotent(ctx, c)
		mustNil(t, what, err)
		mustEqual(t, what, st, want)
		mustEqual(t, what+": answer", string(answer), wantAnswer)
	}
	begin("s1", claim("apikey:1", "r", base), idempotency.Started, "")
	begin("s2", claim("apikey:2", "r", base), idempotency.Started, "")
	mustNil(t, "abandon s2", s.AbandonIdempotent(ctx, "apikey:2", "k"))
	begin("s1 after s2 was abandoned", claim("apikey:1", "r", base.Add(time.Second)), idempotency.InFlight, "")
	begin("s2 after it was abandoned", claim("apikey:2", "r", base.Add(time.Second)), idempotency.Started, "")
	mustNil(t, "finish s1", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "apikey:1", Key: "k", Response: []byte("one")}))
	begin("s1 after its answer", claim("apikey:1", "r", base.Add(time.Minute)), idempotency.Replay, "one")
	begin("s2 after s1's answer", claim("apikey:2", "r", base.Add(time.Minute)), idempotency.InFlight, "")

	begin("s3", claim("apikey:3", "r", base), idempotency.Started, "")
	mustNil(t, "abandon s3", s.AbandonIdempotent(ctx, "apikey:3", "k"))
	mustNil(t, "finish s3 after abandoning it", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "apikey:3", Key: "k", Response: []byte("late")}))
	begin("s3 after a late answer", claim("apikey:3", "r", base.Add(time.Minute)), idempotency.Started, "")

	begin("s4", claim("apikey:4", "r", base), idempotency.Started, "")
	mustNil(t, "finish s4 with an empty answer", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "apikey:4", Key: "k", Response: []byte{}}))
	begin("s4 after its empty answer", claim("apikey:4", "r", base.Add(time.Minute)), idempotency.Replay, "")

	// The same order named twice is kept once, and the answer goes with its documents.
	createOrder(t, s, NewOrder("app-1", "order-1", base))
	begin("s5", claim("apikey:5", "r", base), idempotency.Started, "")
	mustNil(t, "finish s5", s.FinishIdempotent(ctx, store.KeptAnswer{Scope: "apikey:5", Key: "k", Response: []byte("five"),
		OrderIDs: []string{"order-1", "order-1"}}))
	begin("s5 after its answer", claim("apikey:5", "r", base.Add(time.Minute)), idempotency.Replay, "five")
	_, err := s.UpdateOrder(ctx, "order-1", func(o *order.SignatureOrder) error { o.DropDocuments(base); return nil })
	mustNil(t, "drop the documents", err)
	begin("s5 after the documents were dropped", claim("apikey:5", "r", base.Add(time.Minute)), idempotency.Started, "")
	begin("s1 holds nothing of order-1", claim("apikey:1", "r", base.Add(time.Minute)), idempotency.Replay, "one")
}

// PurgeIdempotencyKeys deletes the keys whose ExpiresAt is at or before now, of every scope.
func testPurgeIdempotencyKeysBoundary(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, scope := range []string{"apikey:1", "apikey:2", "signatory:3"} {
		c := idempotencyClaim("k", "r", base)
		c.Scope, c.ExpiresAt = scope, base.Add(time.Duration(i/2+1)*time.Hour) // 1 h, 1 h, 2 h
		st, _, err := s.BeginIdempotent(ctx, c)
		mustNil(t, "begin "+scope, err)
		mustEqual(t, "begin "+scope, st, idempotency.Started)
	}
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{base.Add(time.Hour - time.Microsecond), 0},
		{base.Add(time.Hour), 2},
		{base.Add(time.Hour), 0},
		{base.Add(2 * time.Hour), 1},
	} {
		n, err := s.PurgeIdempotencyKeys(ctx, tc.now)
		mustNil(t, "purge", err)
		mustEqual(t, fmt.Sprintf("purged at %v", tc.now), n, tc.want)
	}
}

// After Close the store answers no more (and closing again is harmless: Run's cleanup does).
func testClose(t *testing.T, s store.Store) {
	mustNil(t, "ping", s.Ping(context.Background()))
	mustNil(t, "close", s.Close())
	if err := s.Ping(context.Background()); err == nil {
		t.Error("ping after close: no error")
	}
}

// BenchmarkCreateGet measures creating a full order and reading it back.
func BenchmarkCreateGet(b *testing.B, s store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("bench-%d", i)
		if err := s.CreateOrder(ctx, NewOrder("app-1", id, base)); err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetOrder(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// A login form is taken once, by its id, order and signatory only: a take that names another
// order or signatory finds nothing and leaves it; the right take gets the bytes; the next finds
// nothing. Put refuses a taken id and an order that does not exist.
func testLoginForms(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "lf-order", base))
	createOrder(t, s, NewOrder("app-1", "lf-other", base))
	f := store.LoginForm{ID: "form-1", OrderID: "lf-order", SignatoryID: "lf-order-sig1", Data: []byte("sealed values"), ExpiresAt: base.Add(15 * time.Minute)}
	mustNil(t, "put", s.PutLoginForm(ctx, f))
	mustIs(t, "put a taken id", s.PutLoginForm(ctx, f), store.ErrConflict)
	other := f
	other.ID, other.OrderID = "form-2", "no-such-order"
	mustIs(t, "put for a missing order", s.PutLoginForm(ctx, other), store.ErrNotFound)
	second := f
	second.ID, second.Data = "form-3", []byte("other values")
	mustNil(t, "put another", s.PutLoginForm(ctx, second))

	for _, tc := range []struct{ what, orderID, signatoryID, id string }{
		{"another order", "lf-other", f.SignatoryID, f.ID},
		{"another signatory", f.OrderID, "lf-order-sig2", f.ID},
		{"another id", f.OrderID, f.SignatoryID, "form-9"},
	} {
		_, err := s.TakeLoginForm(ctx, tc.orderID, tc.signatoryID, tc.id, base)
		mustIs(t, "take for "+tc.what, err, store.ErrNotFound)
	}
	data, err := s.TakeLoginForm(ctx, f.OrderID, f.SignatoryID, f.ID, base)
	mustNil(t, "take", err)
	mustEqual(t, "taken data", string(data), "sealed values")
	_, err = s.TakeLoginForm(ctx, f.OrderID, f.SignatoryID, f.ID, base)
	mustIs(t, "take again", err, store.ErrNotFound)
	data, err = s.TakeLoginForm(ctx, second.OrderID, second.SignatoryID, second.ID, base)
	mustNil(t, "take the other", err)
	mustEqual(t, "the other's data", string(data), "other values")
}

// A form is good until just before ExpiresAt: a take at ExpiresAt finds nothing (and the row is
// gone); the purge deletes those at or before now and no others.
func testLoginFormsExpiryBoundary(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "lfe", base))
	exp := base.Add(15 * time.Minute)
	put := func(id string, expires time.Time) {
		t.Helper()
		mustNil(t, "put "+id, s.PutLoginForm(ctx, store.LoginForm{ID: id, OrderID: "lfe", SignatoryID: "lfe-sig1", Data: []byte(id), ExpiresAt: expires}))
	}
	put("live", exp)
	put("dead", exp)
	data, err := s.TakeLoginForm(ctx, "lfe", "lfe-sig1", "live", exp.Add(-time.Microsecond))
	mustNil(t, "take a microsecond before expiry", err)
	mustEqual(t, "data", string(data), "live")
	_, err = s.TakeLoginForm(ctx, "lfe", "lfe-sig1", "dead", exp)
	mustIs(t, "take at expiry", err, store.ErrNotFound)
	_, err = s.TakeLoginForm(ctx, "lfe", "lfe-sig1", "dead", base)
	mustIs(t, "take after an expired take (deleted)", err, store.ErrNotFound)

	put("a", exp)
	put("b", exp.Add(time.Microsecond))
	put("c", exp.Add(time.Hour))
	n, err := s.PurgeLoginForms(ctx, exp.Add(-time.Microsecond))
	mustNil(t, "purge before any expired", err)
	mustEqual(t, "purged before any expired", n, 0)
	n, err = s.PurgeLoginForms(ctx, exp.Add(time.Microsecond))
	mustNil(t, "purge", err)
	mustEqual(t, "purged at the boundary", n, 2)
	_, err = s.TakeLoginForm(ctx, "lfe", "lfe-sig1", "a", base)
	mustIs(t, "take a purged form", err, store.ErrNotFound)
	data, err = s.TakeLoginForm(ctx, "lfe", "lfe-sig1", "c", base)
	mustNil(t, "take the one not purged", err)
	mustEqual(t, "data of the one not purged", string(data), "c")
}

// Purging an order deletes its login forms with it (nothing of the signatory's typed values
// outlives the order's metadata).
func testLoginFormsGoWithTheirOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := base
	o := sweepOrder("lfo", order.StatusClosed, base.Add(90*time.Hour), nil, false)
	o.ClosedAt, o.CancelledAt, o.ExpiredAt = &at, &at, &at
	createOrder(t, s, o)
	createOrder(t, s, NewOrder("app-1", "lfo-kept", base))
	for _, id := range []string{"lfo", "lfo-kept"} {
		mustNil(t, "put "+id, s.PutLoginForm(ctx, store.LoginForm{ID: "form-" + id, OrderID: id, SignatoryID: "sig", Data: []byte(id),
			ExpiresAt: base.Add(100 * time.Hour)}))
	}
	n, err := s.PurgeOrders(ctx, base.Add(time.Hour), 10)
	mustNil(t, "purge orders", err)
	mustEqual(t, "orders purged", n, 1)
	_, err = s.TakeLoginForm(ctx, "lfo", "sig", "form-lfo", base)
	mustIs(t, "take the form of a purged order", err, store.ErrNotFound)
	n, err = s.PurgeLoginForms(ctx, base.Add(200*time.Hour))
	mustNil(t, "purge login forms", err)
	mustEqual(t, "login forms left to purge (the kept order's)", n, 1)
}

// Of many concurrent takes of one form exactly one gets it.
func testConcurrentLoginFormTakes(t *testing.T, s store.Store) {
	ctx := context.Background()
	createOrder(t, s, NewOrder("app-1", "lfc", base))
	mustNil(t, "put", s.PutLoginForm(ctx, store.LoginForm{ID: "f", OrderID: "lfc", SignatoryID: "s", Data: []byte("x"), ExpiresAt: base.Add(time.Hour)}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	got, notFound := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := s.TakeLoginForm(ctx, "lfc", "s", "f", base)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got++
			case errors.Is(err, store.ErrNotFound):
				notFound++
			default:
				t.Errorf("take: %v", err)
			}
		})
	}
	wg.Wait()
	if got != 1 || notFound != 7 {
		t.Errorf("%d takes got the form, %d found nothing; want 1 and 7", got, notFound)
	}
}
