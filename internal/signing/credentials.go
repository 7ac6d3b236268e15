package signing

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"esign/internal/fault"
	"esign/internal/store"
	"esign/internal/tenant"
)

// Principal is an authenticated API caller.
type Principal struct {
	Application tenant.Application
	Mode        tenant.KeyMode
	// ClientID names the API key: Idempotency-Key answers are kept per key, so one key (a
	// READ_ONLY one, say) cannot fetch what another key's request answered.
	ClientID string
}

// CanWrite reports whether the caller may run mutations.
func (p Principal) CanWrite() bool { return p.Mode == tenant.KeyReadWrite }

// Credentials are a new API key as shown once to its owner; only a hash of the secret is kept.
type Credentials struct {
	ApplicationID string `json:"applicationId"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
}

// CreateAPIKey creates an API key for the application named name, creating the application (with the
// given environment) if it does not exist yet.
func (s *Service) CreateAPIKey(ctx context.Context, name string, env tenant.Environment, mode tenant.KeyMode, note *string) (Credentials, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Credentials{}, fault.Invalid("application", "must not be empty")
	}
	if env != tenant.EnvironmentTest && env != tenant.EnvironmentProduction {
		return Credentials{}, fault.Invalid("environment", "must be TEST or PRODUCTION")
	}
	if mode != tenant.KeyReadWrite && mode != tenant.KeyReadOnly {
		return Credentials{}, fault.Invalid("mode", "must be READ_WRITE or READ_ONLY")
	}
	app, err := s.store.GetApplicationByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		app = tenant.Application{ID: s.NewID(), Name: name, Environment: env, CreatedAt: s.Now()}
		err = s.store.CreateApplication(ctx, app)
		if errors.Is(err, store.ErrConflict) { // created concurrently by someone else
			app, err = s.store.GetApplicationByName(ctx, name)
		}
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("find or create application %q: %w", name, err)
	}
	secret, err := newSecret()
	if err != nil {
		return Credentials{}, err
	}
	creds := Credentials{ApplicationID: app.ID, ClientID: s.NewID(), ClientSecret: secret}
	key := tenant.APIKey{ID: s.NewID(), ApplicationID: app.ID, ClientID: creds.ClientID,
		SecretHash: hashSecret(creds.ClientSecret), Mode: mode, Note: note, CreatedAt: s.Now()}
	if err := s.store.CreateAPIKey(ctx, key); err != nil {
		return Credentials{}, fmt.Errorf("store api key: %w", err)
	}
	return creds, nil
}

// hashSecret hashes a 256-bit random secret. A fast hash is right here: the secret has full entropy,
// so there is nothing for a slow password hash to protect, and it runs on every request.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Authenticate checks HTTP Basic credentials of an application key. Any failure is the same
// "Unauthorized access"; so is a tenant key's client id (AuthenticateTenant takes those), which
// never makes an application principal.
func (s *Service) Authenticate(ctx context.Context, clientID, clientSecret string) (Principal, error) {
	if clientID == "" || clientSecret == "" || tenant.IsTenantClientID(clientID) {
		return Principal{}, fault.Unauthorized()
	}
	key, err := s.store.GetAPIKeyByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fault.Unauthorized()
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	if subtle.ConstantTimeCompare(key.SecretHash, hashSecret(clientSecret)) != 1 {
		return Principal{}, fault.Unauthorized()
	}
	app, err := s.store.GetApplication(ctx, key.ApplicationID)
	if err != nil {
		return Principal{}, fmt.Errorf("load application %s: %w", key.ApplicationID, err)
	}
	return Principal{Application: app, Mode: key.Mode, ClientID: key.ClientID}, nil
}

// APIKeys lists the application's keys (secrets are never shown again).
func (s *Service) APIKeys(ctx context.Context, p Principal) ([]tenant.APIKey, error) {
	keys, err := s.store.ListAPIKeys(ctx, p.Application.ID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}
