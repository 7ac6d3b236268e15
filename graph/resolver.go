// Package graph is the GraphQL edge: gqlgen's generated executor, thin resolvers that call
// signing.Service, the conversions between GraphQL models and domain types, and the one place where
// errors are translated for clients.
package graph

import (
	"log/slog"

	"esign/internal/signing"
)

// Resolver holds the resolvers' dependencies and nothing else.
type Resolver struct {
	Service       *signing.Service
	TimezoneNames []string
	Log           *slog.Logger
}
