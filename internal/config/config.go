// Package config is the service's configuration: every environment variable, its default and its
// rule, parsed once into a Config. It is the one package that names an environment variable; the
// others take the parts of Config they need (envelope.PKCS11Config, sweeper.Config, ...), and the
// composition root wraps an error found only when a setting is used with the names below.
package config

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"esign/internal/envelope"
	"esign/internal/keyring"
	"esign/internal/limits"
	"esign/internal/netguard"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pki"
	"esign/internal/signing"
	"esign/internal/sweeper"
	"esign/internal/telemetry"
	"esign/internal/webhook"
)

// The variables behind settings whose errors show up only when they are used (a schedule the cron
// refuses, an address another process holds): the composition root names them in those errors.
const (
	SweeperVars    = "SWEEP_SCHEDULE, SWEEP_ORPHAN_SCHEDULE, SWEEP_ORPHAN_GRACE, SWEEP_BATCH_SIZE"
	MetricsAddrVar = "METRICS_ADDR"
)

// Config is every setting, parsed once from the environment.
type Config struct {
	Addr             string
	DataDir          string
	PublicURL        string
	DatabaseURL      string
	AzureConnection  string
	AzureContainer   string
	MaxDocumentBytes int
	MaxRequestBytes  int64
	InnerKeyFile     string
	PKCS11           envelope.PKCS11Config
	OuterKeyFile     string
	TokenKeyFile     string
	PKIDir           string
	SealKeyLabel     string
	Seal             pki.SealSource // SEAL_*: the operator's own seal certificate; unset, the local PKI seals
	TSAURL           string
	TSAUsername      string // TSA_USERNAME, TSA_PASSWORD: HTTP basic auth at TSA_URL
	TSAPassword      string
	TSABearerToken   string
	TSATimeout       time.Duration
	TSAPolicy        asn1.ObjectIdentifier // TSA_POLICY_OID: the built-in TSA's policy
	LogLevel         slog.Level
	ShutdownTimeout  time.Duration
	MaxComplexity    int
	MaxDepth         int
	MaxParserTokens  int
	GraphQLLimits    limits.GraphQL // the rest of the GraphQL edge's limits (GRAPHQL_*, AUTH_FAILURE_*, TRUSTED_PROXIES)
	OIDCAllowHTTP    bool
	Outbound         netguard.Config // OUTBOUND_*: every request made on a caller's behalf
	Verify           *signing.VerifyConfig
	Sweeper          sweeper.Config
	Webhooks         webhook.Config
	Metrics          telemetry.MetricsListener
	PDF              pdf.AdmissionConfig // PDF_MEMORY_BUDGET, PDF_ADMISSION_WAIT
}

// Embedded reports whether the service runs on its embedded default (no external database); only
// then may it create missing keys by itself: replicas sharing a database must share keys.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// Keys is where the keys and the local PKI are.
func (c Config) Keys() keyring.Config {
	return keyring.Config{PKCS11: c.PKCS11, SealKeyLabel: c.SealKeyLabel, InnerKeyFile: c.InnerKeyFile,
		OuterKeyFile: c.OuterKeyFile, TokenKeyFile: c.TokenKeyFile, PKIDir: c.PKIDir, PublicURL: c.PublicURL, Seal: c.Seal}
}

// Parse reads every setting through getenv (os.Getenv in production) and validates it. The error
// joins one error per setting that is wrong, each naming the variable and its rule.
func Parse(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	num := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be a positive whole number, got %q", name, v))
		}
		return n
	}
	c := Config{
		Addr:             str("ADDR", ":8080"),
		DataDir:          str("DATA_DIR", "./data"),
		PublicURL:        strings.TrimRight(str("PUBLIC_URL", "http://localhost:8080"), "/"),
		DatabaseURL:      getenv("DATABASE_URL"),
		AzureConnection:  getenv("AZURE_STORAGE_CONNECTION_STRING"),
		AzureContainer:   str("AZURE_STORAGE_CONTAINER", "esign-documents"),
		MaxDocumentBytes: num("MAX_DOCUMENT_BYTES", 20<<20),
		MaxComplexity:    num("GRAPHQL_MAX_COMPLEXITY", limits.DefaultGraphQL.MaxComplexity),
		MaxDepth:         num("GRAPHQL_MAX_DEPTH", 15),
		MaxParserTokens:  num("GRAPHQL_MAX_TOKENS", 15000),
		OIDCAllowHTTP:    getenv("OIDC_ALLOW_HTTP_ISSUERS") == "true",
		PKCS11: envelope.PKCS11Config{
			ModulePath: getenv("PKCS11_MODULE"),
			TokenLabel: getenv("PKCS11_TOKEN_LABEL"),
			PIN:        getenv("PKCS11_PIN"),
			KeyLabel:   str("PKCS11_KEY_LABEL", "esign-inner-kek"),
		},
	}
	// Room for two maximum-size documents in base64 plus the rest of the request.
	c.MaxRequestBytes = int64(num("MAX_REQUEST_BYTES", 2*(c.MaxDocumentBytes/3+1)*4+1<<20))
	c.InnerKeyFile = str("INNER_KEY_FILE", filepath.Join(c.DataDir, "keys", "inner-kek.json"))
	c.OuterKeyFile = str("OUTER_KEY_FILE", filepath.Join(c.DataDir, "keys", "outer-kek.json"))
	c.TokenKeyFile = str("TOKEN_KEY_FILE", filepath.Join(c.DataDir, "keys", "token.key"))
	c.PKIDir = str("PKI_DIR", filepath.Join(c.DataDir, "pki"))
	c.SealKeyLabel = str("PKCS11_SEAL_KEY_LABEL", "esign-seal")
	c.TSAURL = getenv("TSA_URL")
	errs = append(errs, c.parseSeal(getenv)...)
	errs = append(errs, c.parseTSA(getenv)...)
	if err := c.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	timeout, err := time.ParseDuration(str("SHUTDOWN_TIMEOUT", "30s"))
	if err != nil {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT: %w", err))
	}
	c.ShutdownTimeout = timeout
	if c.PKCS11.ModulePath != "" && (c.PKCS11.TokenLabel == "" || c.PKCS11.PIN == "") {
		errs = append(errs, errors.New("PKCS11_MODULE is set: PKCS11_TOKEN_LABEL and PKCS11_PIN are required too"))
	}
	if d, id := getenv("VERIFY_DOMAIN"), getenv("VERIFY_CLIENT_ID"); d != "" || id != "" {
		if d == "" || id == "" {
			errs = append(errs, errors.New("VERIFY_DOMAIN and VERIFY_CLIENT_ID go together"))
		}
		c.Verify = &signing.VerifyConfig{Domain: d, ClientID: id, ClientSecret: getenv("VERIFY_CLIENT_SECRET")}
	}
	duration := func(name, def string) time.Duration {
		d, err := time.ParseDuration(str(name, def))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be a duration such as 1h or 2160h, got %q", name, getenv(name)))
		}
		return d
	}
	d := limits.DefaultGraphQL
	c.GraphQLLimits = limits.GraphQL{
		MaxBodyBytesAnonymous:  int64(num("GRAPHQL_MAX_ANONYMOUS_BODY_BYTES", int(d.MaxBodyBytesAnonymous))),
		MaxComplexityAnonymous: num("GRAPHQL_MAX_ANONYMOUS_COMPLEXITY", d.MaxComplexityAnonymous),
		MaxFields:              num("GRAPHQL_MAX_FIELDS", d.MaxFields),
		MaxFieldsAnonymous:     num("GRAPHQL_MAX_ANONYMOUS_FIELDS", d.MaxFieldsAnonymous),
		MaxJSONValues:          num("GRAPHQL_MAX_JSON_VALUES", d.MaxJSONValues),
		MaxJSONValuesAnonymous: num("GRAPHQL_MAX_ANONYMOUS_JSON_VALUES", d.MaxJSONValuesAnonymous),
		MaxResponseBytes:       int64(num("GRAPHQL_MAX_RESPONSE_BYTES", int(d.MaxResponseBytes))),
		MaxDocumentBytes:       c.MaxDocumentBytes,
		PerAppConcurrency:      num("GRAPHQL_APP_CONCURRENCY", d.PerAppConcurrency),
		ConcurrencyWait:        duration("GRAPHQL_APP_CONCURRENCY_WAIT", d.ConcurrencyWait.String()),
		HeavyComplexity:        num("GRAPHQL_HEAVY_COMPLEXITY", d.HeavyComplexity),
		AuthFailureBurst:       num("AUTH_FAILURE_BURST", d.AuthFailureBurst),
		AuthFailureEvery:       duration("AUTH_FAILURE_INTERVAL", d.AuthFailureEvery.String()),
	}
	for _, p := range strings.FieldsFunc(getenv("TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR prefix", p))
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.GraphQLLimits.TrustedProxies = append(c.GraphQLLimits.TrustedProxies, prefix.Masked())
	}
	c.Sweeper = sweeper.Config{
		Schedule:          str("SWEEP_SCHEDULE", "@every 1m"),
		OrphanSchedule:    str("SWEEP_ORPHAN_SCHEDULE", "@every 1h"),
		OrphanGrace:       duration("SWEEP_ORPHAN_GRACE", "1h"),
		MetadataRetention: duration("METADATA_RETENTION", "0s"),
		BatchSize:         num("SWEEP_BATCH_SIZE", 200),
	}
	c.Metrics = telemetry.MetricsListener{Addr: str("METRICS_ADDR", telemetry.DefaultMetricsAddr), DefaultAddr: getenv("METRICS_ADDR") == "",
		Token: getenv("METRICS_TOKEN")}
	if t := c.Metrics.Token; t != "" && len(t) < telemetry.MinMetricsTokenBytes {
		errs = append(errs, fmt.Errorf("METRICS_TOKEN: must be at least %d characters, got %d", telemetry.MinMetricsTokenBytes, len(t)))
	}
	c.PDF = pdf.AdmissionConfig{Budget: int64(num("PDF_MEMORY_BUDGET", pdf.DefaultBudget)), Wait: duration("PDF_ADMISSION_WAIT", "10s")}
	c.Webhooks = webhook.Config{
		Workers:             num("WEBHOOK_WORKERS", 16),
		Timeout:             duration("WEBHOOK_TIMEOUT", "10s"),
		PollInterval:        duration("WEBHOOK_POLL_INTERVAL", "1s"),
		AllowPrivateTargets: getenv("WEBHOOK_ALLOW_PRIVATE_TARGETS") == "true",
	}
	c.Webhooks.PerHost = num("WEBHOOK_MAX_PER_HOST", 4)
	c.Webhooks.PerApplication = num("WEBHOOK_MAX_PER_APPLICATION", max(1, c.Webhooks.Workers/2))
	c.Outbound = netguard.Config{AllowPrivate: getenv("OUTBOUND_ALLOW_PRIVATE") == "true",
		ConnectTimeout: duration("OUTBOUND_CONNECT_TIMEOUT", "3s")}
	if c.Verify != nil {
		// The issuer ends up in redirects and in the signing page's CSP: it obeys the URL rules of
		// every URL an API caller gives (http only where OIDC_ALLOW_HTTP_ISSUERS says so).
		issuer := c.Verify.Domain
		if !strings.Contains(issuer, "://") {
			issuer = "https://" + issuer
		}
		if c.OIDCAllowHTTP {
			issuer = strings.Replace(issuer, "http://", "https://", 1)
		}
		if _, err := order.ParseWebURL(issuer); err != nil {
			errs = append(errs, fmt.Errorf("VERIFY_DOMAIN: must be an https issuer URL or a host name: %v", err))
		}
		// The operator's own identity provider may live on an internal network; a provider domain
		// an API caller gives may not.
		if hp, err := netguard.HostPort(c.Verify.Domain); err == nil {
			c.Outbound.TrustedHosts = []string{hp}
		} else {
			errs = append(errs, fmt.Errorf("VERIFY_DOMAIN: %w", err))
		}
	}
	if c.Webhooks.Timeout <= 0 || c.Webhooks.PollInterval <= 0 {
		errs = append(errs, errors.New("WEBHOOK_TIMEOUT and WEBHOOK_POLL_INTERVAL must be positive"))
	}
	if hp, err := netguard.HostPort(c.TSAURL); c.TSAURL != "" && err == nil {
		// The operator's TSA, like its identity provider, may live on an internal network.
		c.Outbound.TrustedHosts = append(c.Outbound.TrustedHosts, hp)
	}
	if c.AzureConnection == "" && getenv("AZURE_STORAGE_CONTAINER") != "" {
		errs = append(errs, errors.New("AZURE_STORAGE_CONTAINER is set without AZURE_STORAGE_CONNECTION_STRING"))
	}
	return c, errors.Join(errs...)
}
