// Package tenant is who calls the service: an integrator's application, its environment, and its
// API keys with what each may do. The store persists these; the service authenticates with them.
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
	ID          string
	Name        string
	Environment Environment
	CreatedAt   time.Time
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
