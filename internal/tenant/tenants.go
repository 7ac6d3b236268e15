package tenant

import (
	"strings"
	"time"
)

// Tenant is the organisation applications belong to. Its own credentials (TenantKey) manage its
// applications and their keys; they never act as an application.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// TenantKey is a credential of a tenant. It has no mode: a tenant key may do everything at the
// tenant level (create applications, issue and revoke their keys, read them) and nothing at the
// application level. Only a hash of the secret is stored.
type TenantKey struct {
	ID         string
	TenantID   string
	ClientID   string
	SecretHash []byte
	Note       *string
	CreatedAt  time.Time
}

// TenantClientIDPrefix starts the client id of every tenant key and of no application key, so a
// client id alone says which table its credential lives in.
const TenantClientIDPrefix = "tenant-"

// IsTenantClientID reports whether clientID names a tenant key.
func IsTenantClientID(clientID string) bool {
	return strings.HasPrefix(clientID, TenantClientIDPrefix)
}
