// Package tenant is who calls the service: an integrator's tenant (the organisation), its
// applications, their environment, and the credentials of each level with what each may do. The
// store persists these; the service authenticates with them.
package tenant

import "time"

// Environment of an application: TEST applications may use the test-only evidence provider.
type Environment string

const (
	EnvironmentTest       Environment = "TEST"
	EnvironmentProduction Environment = "PRODUCTION"
)

// KeyMode says what an API key may do.
type KeyMode string

const (
	KeyReadWrite KeyMode = "READ_WRITE"
	KeyReadOnly  KeyMode = "READ_ONLY"
)

// Application is an integrator's account; orders belong to exactly one.
type Application struct {
	ID   string
	Name string
	// TenantID is the tenant the application belongs to; "" for an application made before tenants
	// existed (the CLI attaches it to one).
	TenantID    string
	Environment Environment
	// VerifyDomain and VerifyRealm are the Criipto Verify application createApplication named, kept
	// as given: application(verifyApplication:) and Tenant.applications(domain:) look them up.
	VerifyDomain string
	VerifyRealm  string
	CreatedAt    time.Time
}

// APIKey is one credential of an application. Only a hash of the secret is stored.
type APIKey struct {
	ID            string
	ApplicationID string
	ClientID      string
	SecretHash    []byte
	Mode          KeyMode
	Note          *string
	CreatedAt     time.Time
}
