package signing

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/tenant"
)

// TenantPrincipal is a caller authenticated with a tenant key. It is a type of its own rather than a
// kind of Principal so the compiler keeps the two apart: no application operation takes one, and no
// tenant operation takes a Principal. A tenant key has no mode: it may do everything at the tenant
// level and nothing at the application level.
type TenantPrincipal struct {
	Tenant   tenant.Tenant
	ClientID string
}

// TenantCredentials are a new tenant key as shown once to its owner; only a hash of the secret is kept.
type TenantCredentials struct {
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// IssuedKey is an application key with its secret: the answer of the one request that made or
// refreshed it, and never again.
type IssuedKey struct {
	Key          tenant.APIKey
	ClientSecret string
}

// NewApplication is createApplication's input.
type NewApplication struct {
	TenantID     string
	Name         string
	Environment  tenant.Environment
	VerifyDomain string
	VerifyRealm  string
}

// VerifyApplication is the eID broker an application's criiptoVerify providers log in at.
type VerifyApplication struct {
	Domain      string
	Realm       string // the broker's client id
	Environment tenant.Environment
}

// VerifyApplicationQuery finds an application by the Verify application createApplication named.
type VerifyApplicationQuery struct {
	TenantID, Domain, Realm string
}

func newSecret() (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(secret), nil
}

// CreateTenant creates a tenant and its first key (the CLI's `esign tenant create`).
func (s *Service) CreateTenant(ctx context.Context, name string, note *string) (TenantCredentials, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return TenantCredentials{}, fault.Invalid("name", "must not be empty")
	}
	t := tenant.Tenant{ID: s.NewID(), Name: name, CreatedAt: s.Now()}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return TenantCredentials{}, fmt.Errorf("create tenant %q: %w", name, err)
	}
	return s.CreateTenantKey(ctx, t.ID, note)
}

// CreateTenantKey gives an existing tenant another key (the CLI's `esign tenant key create`).
func (s *Service) CreateTenantKey(ctx context.Context, tenantID string, note *string) (TenantCredentials, error) {
	if _, err := s.store.GetTenant(ctx, tenantID); errors.Is(err, store.ErrNotFound) {
		return TenantCredentials{}, fault.NotFoundf("tenant: no tenant with id %q", tenantID)
	} else if err != nil {
		return TenantCredentials{}, fmt.Errorf("load tenant %s: %w", tenantID, err)
	}
	secret, err := newSecret()
	if err != nil {
		return TenantCredentials{}, err
	}
	creds := TenantCredentials{TenantID: tenantID, ClientID: tenant.TenantClientIDPrefix + s.NewID(), ClientSecret: secret}
	key := tenant.TenantKey{ID: s.NewID(), TenantID: tenantID, ClientID: creds.ClientID,
		SecretHash: hashSecret(secret), Note: note, CreatedAt: s.Now()}
	if err := s.store.CreateTenantKey(ctx, key); err != nil {
		return TenantCredentials{}, fmt.Errorf("store tenant key: %w", err)
	}
	return creds, nil
}

// AttachApplication puts an application made before tenants (by `esign apikey create`) into a
// tenant (the CLI's `esign tenant attach`).
func (s *Service) AttachApplication(ctx context.Context, tenantID, applicationID string) error {
	err := s.store.AttachApplication(ctx, applicationID, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFoundf("no tenant %q or no application %q", tenantID, applicationID)
	case errors.Is(err, store.ErrConflict):
		return fault.Conflictf("application %q belongs to another tenant", applicationID)
	case err != nil:
		return fmt.Errorf("attach application %s to tenant %s: %w", applicationID, tenantID, err)
	}
	return nil
}

// AuthenticateTenant checks HTTP Basic credentials of a tenant key. Any failure is the same
// "Unauthorized access", as for application keys.
func (s *Service) AuthenticateTenant(ctx context.Context, clientID, clientSecret string) (TenantPrincipal, error) {
	if !tenant.IsTenantClientID(clientID) || clientSecret == "" {
		return TenantPrincipal{}, fault.Unauthorized()
	}
	key, err := s.store.GetTenantKeyByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return TenantPrincipal{}, fault.Unauthorized()
	}
	if err != nil {
		return TenantPrincipal{}, fmt.Errorf("look up tenant key: %w", err)
	}
	if subtle.ConstantTimeCompare(key.SecretHash, hashSecret(clientSecret)) != 1 {
		return TenantPrincipal{}, fault.Unauthorized()
	}
	t, err := s.store.GetTenant(ctx, key.TenantID)
	if err != nil {
		return TenantPrincipal{}, fmt.Errorf("load tenant %s: %w", key.TenantID, err)
	}
	return TenantPrincipal{Tenant: t, ClientID: key.ClientID}, nil
}

// Tenant returns the caller's tenant when id names it, else nil: another tenant's id answers as an
// unknown one.
func (s *Service) Tenant(tp TenantPrincipal, id string) *tenant.Tenant {
	if id != tp.Tenant.ID {
		return nil
	}
	t := tp.Tenant
	return &t
}

// CreateApplication creates an application in the caller's tenant with its first (READ_WRITE) key.
// Names are unique across the service (the CLI finds applications by name).
func (s *Service) CreateApplication(ctx context.Context, tp TenantPrincipal, in NewApplication) (tenant.Application, IssuedKey, error) {
	if in.TenantID != tp.Tenant.ID {
		return tenant.Application{}, IssuedKey{}, fault.NotFoundf("tenantId: no tenant with id %q", in.TenantID)
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return tenant.Application{}, IssuedKey{}, fault.Invalid("name", "must not be empty")
	}
	if in.Environment != tenant.EnvironmentTest && in.Environment != tenant.EnvironmentProduction {
		return tenant.Application{}, IssuedKey{}, fault.Invalid("verifyApplicationEnvironment", "must be TEST or PRODUCTION")
	}
	app := tenant.Application{ID: s.NewID(), Name: name, TenantID: tp.Tenant.ID, Environment: in.Environment,
		VerifyDomain: in.VerifyDomain, VerifyRealm: in.VerifyRealm, CreatedAt: s.Now()}
	err := s.store.CreateApplication(ctx, app)
	if errors.Is(err, store.ErrConflict) {
		return tenant.Application{}, IssuedKey{}, fault.Conflictf("name: an application named %q exists already", name)
	}
	if err != nil {
		return tenant.Application{}, IssuedKey{}, fmt.Errorf("create application %q: %w", name, err)
	}
	issued, err := s.issueKey(ctx, app.ID, tenant.KeyReadWrite, nil)
	if err != nil {
		return tenant.Application{}, IssuedKey{}, err
	}
	return app, issued, nil
}

// CreateApplicationKey gives one of the caller's applications a new key (READ_WRITE unless mode says
// otherwise); the secret is in this answer only.
func (s *Service) CreateApplicationKey(ctx context.Context, tp TenantPrincipal, applicationID string, mode *tenant.KeyMode, note *string) (tenant.Application, IssuedKey, error) {
	m := tenant.KeyReadWrite
	if mode != nil {
		m = *mode
	}
	if m != tenant.KeyReadWrite && m != tenant.KeyReadOnly {
		return tenant.Application{}, IssuedKey{}, fault.Invalid("mode", "must be READ_WRITE or READ_ONLY")
	}
	app, err := s.ownApplication(ctx, tp, applicationID)
	if err != nil {
		return tenant.Application{}, IssuedKey{}, err
	}
	issued, err := s.issueKey(ctx, app.ID, m, note)
	if err != nil {
		return tenant.Application{}, IssuedKey{}, err
	}
	return app, issued, nil
}

// RefreshApplicationKey gives a key of one of the caller's applications a new secret; the client id
// stays, and the old secret stops working with this call.
func (s *Service) RefreshApplicationKey(ctx context.Context, tp TenantPrincipal, applicationID, keyID string) (tenant.Application, IssuedKey, error) {
	app, err := s.ownApplication(ctx, tp, applicationID)
	if err != nil {
		return tenant.Application{}, IssuedKey{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return tenant.Application{}, IssuedKey{}, err
	}
	key, err := s.store.SetAPIKeySecret(ctx, app.ID, keyID, hashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Application{}, IssuedKey{}, fault.NotFoundf("apiKeyId: no api key with id %q", keyID)
	}
	if err != nil {
		return tenant.Application{}, IssuedKey{}, fmt.Errorf("refresh api key %s: %w", keyID, err)
	}
	return app, IssuedKey{Key: key, ClientSecret: secret}, nil
}

// DeleteApplicationKey deletes a key of one of the caller's applications; it stops working with this call.
func (s *Service) DeleteApplicationKey(ctx context.Context, tp TenantPrincipal, applicationID, keyID string) (tenant.Application, error) {
	app, err := s.ownApplication(ctx, tp, applicationID)
	if err != nil {
		return tenant.Application{}, err
	}
	err = s.store.DeleteAPIKey(ctx, app.ID, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Application{}, fault.NotFoundf("apiKeyId: no api key with id %q", keyID)
	}
	if err != nil {
		return tenant.Application{}, fmt.Errorf("delete api key %s: %w", keyID, err)
	}
	return app, nil
}

// TenantApplications lists the applications of the caller's tenant (none for another tenant's id),
// oldest first; domain, when given, keeps those whose Verify domain it is.
func (s *Service) TenantApplications(ctx context.Context, tp TenantPrincipal, tenantID string, domain *string) ([]tenant.Application, error) {
	if tenantID != tp.Tenant.ID {
		return nil, nil
	}
	apps, err := s.store.ListTenantApplications(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, err)
	}
	if domain != nil {
		apps = slices.DeleteFunc(apps, func(a tenant.Application) bool { return a.VerifyDomain != *domain })
	}
	return apps, nil
}

// TenantApplication returns one of the caller's applications, or nil when the id names none of them.
func (s *Service) TenantApplication(ctx context.Context, tp TenantPrincipal, id string) (*tenant.Application, error) {
	app, err := s.store.GetApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load application %s: %w", id, err)
	}
	if app.TenantID == "" || app.TenantID != tp.Tenant.ID {
		return nil, nil
	}
	return &app, nil
}

// TenantApplicationByVerify returns the caller's application that createApplication linked to the
// Verify application q names, or nil. Several match only if they were created so; the oldest wins.
func (s *Service) TenantApplicationByVerify(ctx context.Context, tp TenantPrincipal, q VerifyApplicationQuery) (*tenant.Application, error) {
	apps, err := s.TenantApplications(ctx, tp, q.TenantID, &q.Domain)
	if err != nil {
		return nil, err
	}
	for _, app := range apps {
		if app.VerifyRealm == q.Realm {
			return &app, nil
		}
	}
	return nil, nil
}

// TenantApplicationKeys lists the keys of one of the caller's applications (secrets are never shown
// again); none for an application that is not the caller's.
func (s *Service) TenantApplicationKeys(ctx context.Context, tp TenantPrincipal, applicationID string) ([]tenant.APIKey, error) {
	app, err := s.TenantApplication(ctx, tp, applicationID)
	if err != nil || app == nil {
		return nil, err
	}
	return s.APIKeys(ctx, Principal{Application: *app})
}

// TenantWebhookLogs lists the webhook invocations of every application of the caller's tenant (of
// one when applicationID is set), as WebhookLogs does for an application: oldest first, at most
// 1,000 in all.
func (s *Service) TenantWebhookLogs(ctx context.Context, tp TenantPrincipal, tenantID, applicationID string, in WebhookLogQuery) ([]order.WebhookInvocation, error) {
	apps, err := s.TenantApplications(ctx, tp, tenantID, nil)
	if err != nil {
		return nil, err
	}
	if applicationID != "" {
		apps = slices.DeleteFunc(apps, func(a tenant.Application) bool { return a.ID != applicationID })
	}
	if len(apps) == 0 {
		// Still check the bounds: a bad query is refused whether or not there is anything to list.
		_, err := s.WebhookLogs(ctx, Principal{}, WebhookLogQuery{From: in.From, To: in.To, Succeeded: in.Succeeded})
		return nil, err
	}
	var out []order.WebhookInvocation
	for _, app := range apps {
		// The application's own query, as its key would run it: the same bounds, rules and limit.
		invs, err := s.WebhookLogs(ctx, Principal{Application: app}, WebhookLogQuery{From: in.From, To: in.To, Succeeded: in.Succeeded})
		if err != nil {
			return nil, err
		}
		out = append(out, invs...)
	}
	slices.SortStableFunc(out, func(a, b order.WebhookInvocation) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
	if len(out) > maxWebhookLogs {
		out = out[:maxWebhookLogs]
	}
	return out, nil
}

// VerifyApplicationOf is the eID broker the application's criiptoVerify providers use: the one this
// service is configured with (every application shares it), in the application's environment. A
// service without a broker reports the Verify application createApplication was given.
func (s *Service) VerifyApplicationOf(app tenant.Application) VerifyApplication {
	if v := s.cfg.Verify; v != nil {
		return VerifyApplication{Domain: v.Domain, Realm: v.ClientID, Environment: app.Environment}
	}
	return VerifyApplication{Domain: app.VerifyDomain, Realm: app.VerifyRealm, Environment: app.Environment}
}

// ownApplication loads one of the caller's applications; another tenant's answers as an unknown id.
func (s *Service) ownApplication(ctx context.Context, tp TenantPrincipal, applicationID string) (tenant.Application, error) {
	app, err := s.TenantApplication(ctx, tp, applicationID)
	if err != nil {
		return tenant.Application{}, err
	}
	if app == nil {
		return tenant.Application{}, fault.NotFoundf("applicationId: no application with id %q", applicationID)
	}
	return *app, nil
}

// issueKey creates an application key and returns it with its secret.
func (s *Service) issueKey(ctx context.Context, applicationID string, mode tenant.KeyMode, note *string) (IssuedKey, error) {
	secret, err := newSecret()
	if err != nil {
		return IssuedKey{}, err
	}
	key := tenant.APIKey{ID: s.NewID(), ApplicationID: applicationID, ClientID: s.NewID(),
		SecretHash: hashSecret(secret), Mode: mode, Note: note, CreatedAt: s.Now()}
	if err := s.store.CreateAPIKey(ctx, key); err != nil {
		return IssuedKey{}, fmt.Errorf("store api key: %w", err)
	}
	return IssuedKey{Key: key, ClientSecret: secret}, nil
}
