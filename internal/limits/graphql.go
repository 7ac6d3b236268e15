package limits

import (
	"net/netip"
	"runtime"
	"time"
)

// GraphQL bounds what one request to the GraphQL edge may cost. Zero fields take the values of
// DefaultGraphQL (see WithDefaults). The numbers live here, not in the edge, so configuration can
// parse them without importing the edge.
type GraphQL struct {
	MaxBodyBytes    int64 // request body, cut off while reading
	MaxComplexity   int   // fields the answer can hold at most, lists counted at their bound (graph's costModel)
	MaxDepth        int   // nesting of selection sets
	MaxParserTokens int   // tokens in the query document

	// Without valid credentials (API key or signatory token) only timezones, introspection and the
	// anonymous viewer answer, so such a request gets a small body, value count and cost budget.
	MaxBodyBytesAnonymous  int64
	MaxComplexityAnonymous int
	MaxFields              int // field selections, aliases and expanded fragments included
	MaxFieldsAnonymous     int
	MaxJSONValues          int // values in the request body's JSON (see CheckJSON)
	MaxJSONValuesAnonymous int
	MaxJSONDepth           int
	MaxResponseBytes       int64 // document bytes (base64) in one answer
	MaxDocumentBytes       int   // the largest document accepted, for the byte estimate

	// Expensive operations (document mutations, heavy queries) run at most PerAppConcurrency at once
	// per application; one more waits up to ConcurrencyWait, then gets a retryable error.
	PerAppConcurrency int
	ConcurrencyWait   time.Duration
	HeavyComplexity   int // a query priced at least this is a heavy one

	// Failed authentication: each IP address and each client id may fail AuthFailureBurst times,
	// then one more per AuthFailureEvery; past that a request is answered 429 without checking the
	// secret.
	AuthFailureBurst int
	AuthFailureEvery time.Duration
	// TrustedProxies are the addresses whose X-Forwarded-For is believed; without any, the client
	// address is the connection's.
	TrustedProxies []netip.Prefix
}

// DefaultGraphQL are the limits of a zero GraphQL field. MaxComplexity is set so the official SDK's
// operations pass (graph's TestSDKOperationsCost) and a fan-out through a back-edge does not.
var DefaultGraphQL = GraphQL{
	MaxBodyBytes:           55 << 20,
	MaxComplexity:          40_000_000, // the SDK's signatureOrders at first: 100 is 31 million
	MaxDepth:               15,
	MaxParserTokens:        15000,
	MaxBodyBytesAnonymous:  64 << 10,
	MaxComplexityAnonymous: 50_000,
	MaxFields:              1000,
	MaxFieldsAnonymous:     500,
	MaxJSONValues:          200_000,
	MaxJSONValuesAnonymous: 2000,
	MaxJSONDepth:           64,
	MaxResponseBytes:       128 << 20,
	MaxDocumentBytes:       20 << 20,
	PerAppConcurrency:      max(1, runtime.GOMAXPROCS(0)/2), // one application holds at most half the cores
	ConcurrencyWait:        5 * time.Second,
	HeavyComplexity:        1_000_000,
	AuthFailureBurst:       10,
	AuthFailureEvery:       6 * time.Second,
}

// WithDefaults returns l with every field that is not positive (unset) set to DefaultGraphQL's, and
// the anonymous body limit capped at the body limit.
func (l GraphQL) WithDefaults() GraphQL {
	d := DefaultGraphQL
	pick(&l.MaxBodyBytes, d.MaxBodyBytes)
	pick(&l.MaxComplexity, d.MaxComplexity)
	pick(&l.MaxDepth, d.MaxDepth)
	pick(&l.MaxParserTokens, d.MaxParserTokens)
	pick(&l.MaxBodyBytesAnonymous, d.MaxBodyBytesAnonymous)
	pick(&l.MaxComplexityAnonymous, d.MaxComplexityAnonymous)
	pick(&l.MaxFields, d.MaxFields)
	pick(&l.MaxFieldsAnonymous, d.MaxFieldsAnonymous)
	pick(&l.MaxJSONValues, d.MaxJSONValues)
	pick(&l.MaxJSONValuesAnonymous, d.MaxJSONValuesAnonymous)
	pick(&l.MaxJSONDepth, d.MaxJSONDepth)
	pick(&l.MaxResponseBytes, d.MaxResponseBytes)
	pick(&l.MaxDocumentBytes, d.MaxDocumentBytes)
	pick(&l.PerAppConcurrency, d.PerAppConcurrency)
	pick(&l.ConcurrencyWait, d.ConcurrencyWait)
	pick(&l.HeavyComplexity, d.HeavyComplexity)
	pick(&l.AuthFailureBurst, d.AuthFailureBurst)
	pick(&l.AuthFailureEvery, d.AuthFailureEvery)
	// A server's body limit is never raised by the anonymous one.
	l.MaxBodyBytesAnonymous = min(l.MaxBodyBytesAnonymous, l.MaxBodyBytes)
	return l
}

// pick sets a limit that is not positive (unset) to its default.
func pick[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
