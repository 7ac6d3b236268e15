// Command esign is a self-hostable e-signature service that speaks the Criipto (Idura) Signatures
// GraphQL API. Subcommands: serve (the default), apikey create, keys init. Configuration comes from
// environment variables, parsed once here into a config struct (see README.md for the table).
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"esign/graph"
	"esign/internal/blob"
	"esign/internal/blob/azure"
	blobfs "esign/internal/blob/fs"
	"esign/internal/envelope"
	"esign/internal/evidence"
	"esign/internal/graphiql"
	"esign/internal/netguard"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/seal"
	"esign/internal/pki"
	"esign/internal/signing"
	"esign/internal/signui"
	"esign/internal/store"
	"esign/internal/store/postgres"
	"esign/internal/store/sqlite"
	"esign/internal/sweeper"
	"esign/internal/telemetry"
	"esign/internal/tsa"
	"esign/internal/webhook"
	"esign/schema"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "esign:", err)
		os.Exit(1)
	}
}

// config is every setting, parsed once from the environment.
type config struct {
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
	TSAURL           string
	LogLevel         slog.Level
	ShutdownTimeout  time.Duration
	MaxComplexity    int
	MaxDepth         int
	MaxParserTokens  int
	GraphQLLimits    graph.Limits // the rest of the GraphQL edge's limits (GRAPHQL_*, AUTH_FAILURE_*, TRUSTED_PROXIES)
	OIDCAllowHTTP    bool
	Outbound         netguard.Config // OUTBOUND_*: every request made on a caller's behalf
	Verify           *signing.VerifyConfig
	Sweeper          sweeper.Config
	Webhooks         webhook.Config
	Metrics          telemetry.MetricsListener
	PDF              pdf.AdmissionConfig // PDF_MEMORY_BUDGET, PDF_ADMISSION_WAIT
}

// embedded reports whether the service runs on its embedded default (no external database); only
// then may it create missing keys by itself: replicas sharing a database must share keys.
func (c config) embedded() bool { return c.DatabaseURL == "" }

func parseConfig(getenv func(string) string) (config, error) {
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
	c := config{
		Addr:             str("ADDR", ":8080"),
		DataDir:          str("DATA_DIR", "./data"),
		PublicURL:        strings.TrimRight(str("PUBLIC_URL", "http://localhost:8080"), "/"),
		DatabaseURL:      getenv("DATABASE_URL"),
		AzureConnection:  getenv("AZURE_STORAGE_CONNECTION_STRING"),
		AzureContainer:   str("AZURE_STORAGE_CONTAINER", "esign-documents"),
		MaxDocumentBytes: num("MAX_DOCUMENT_BYTES", 20<<20),
		MaxComplexity:    num("GRAPHQL_MAX_COMPLEXITY", graph.DefaultLimits.MaxComplexity),
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
	d := graph.DefaultLimits
	c.GraphQLLimits = graph.Limits{
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
	if c.AzureConnection == "" && getenv("AZURE_STORAGE_CONTAINER") != "" {
		errs = append(errs, errors.New("AZURE_STORAGE_CONTAINER is set without AZURE_STORAGE_CONNECTION_STRING"))
	}
	return c, errors.Join(errs...)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := telemetry.NewLogger(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "apikey":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: esign apikey create --application NAME [--mode READ_WRITE|READ_ONLY] [--environment TEST|PRODUCTION] [--note TEXT]")
		}
		return createAPIKey(ctx, cfg, log, args[1:], stdout)
	case "keys":
		if len(args) == 0 || args[0] != "init" {
			return errors.New("usage: esign keys init")
		}
		return initKeys(ctx, cfg)
	case "webhooks":
		if len(args) == 0 || args[0] != "encrypt-secrets" {
			return errors.New("usage: esign webhooks encrypt-secrets")
		}
		return encryptWebhookSecrets(ctx, cfg, log, stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, apikey create, keys init, webhooks encrypt-secrets)", cmd)
	}
}

// app is the wired service and what must be closed after it.
type app struct {
	service   *signing.Service
	webhooks  *webhook.Dispatcher
	responder *pki.Responder // OCSP and CRL of the local CA
	store     store.Store
	closers   []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// openStore opens the database (SQLite in DATA_DIR for the embedded default, created if missing).
func openStore(ctx context.Context, cfg config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		st, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "esign.db"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

func open(ctx context.Context, cfg config, log *slog.Logger, observer signing.Observer) (*app, error) {
	a := &app{}
	fail := func(err error) (*app, error) { a.close(); return nil, err }
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	a.store = st
	a.closers = append(a.closers, func() { _ = st.Close() })

	var blobs blob.Store
	if cfg.AzureConnection != "" {
		blobs, err = azure.New(ctx, cfg.AzureConnection, cfg.AzureContainer)
	} else {
		blobs, err = blobfs.New(filepath.Join(cfg.DataDir, "blobs"))
	}
	if err != nil {
		return fail(fmt.Errorf("open blob store: %w", err))
	}

	sealer, closeKeys, err := openKeys(cfg, cfg.embedded())
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, closeKeys)
	tokenKey, err := loadTokenKey(cfg.TokenKeyFile, cfg.embedded())
	if err != nil {
		return fail(err)
	}
	sealKey, closeSealKey, err := openSealKey(cfg)
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, closeSealKey)
	local, err := pki.LoadOrCreateLocal(cfg.PKIDir, cfg.embedded(), time.Now(), sealKey, cfg.PublicURL)
	if err != nil {
		return fail(err)
	}
	if local.Created {
		log.Warn("created a local PKI: documents are sealed with a certificate that is NOT publicly trusted",
			"pki_dir", cfg.PKIDir, "ca", local.CA.Cert.Subject.String())
	}
	a.responder = local.Responder()
	var stamper pades.Timestamper = &tsa.Server{Signer: local.TSA.Signer, Cert: local.TSA.Cert, Chain: local.TSA.Chain[1:]}
	if cfg.TSAURL != "" {
		stamper = &tsa.Client{URL: cfg.TSAURL}
	}
	// Every request made on a caller's behalf (identity providers, webhooks, certificate revocation
	// URLs) goes through this one policy.
	outbound := netguard.New(cfg.Outbound)
	jwts := evidence.NewJWTVerifierClient(outbound.Client(netguard.Options{Timeout: 5 * time.Second}), 10*time.Second, cfg.OIDCAllowHTTP)
	cfg.Webhooks.Net = outbound
	login, err := evidence.NewLogin(jwts, tokenKey)
	if err != nil {
		return fail(err)
	}
	if a.webhooks, err = webhook.New(st, cfg.Webhooks, log); err != nil {
		return fail(fmt.Errorf("configuration: %w", err))
	}
	// One budget for all PDF work in the process: intake, validation, seals and closes.
	pdfAdmission := pdf.NewAdmission(cfg.PDF)
	a.service = signing.New(st, blobs, sealer, pdf.Inspector{Admission: pdfAdmission}.Inspect, signing.Config{
		PublicURL: cfg.PublicURL, MaxDocumentBytes: cfg.MaxDocumentBytes, TokenKey: tokenKey, Observer: observer,
		JWT: jwts, Login: login, Verify: cfg.Verify, Webhooks: a.webhooks, PDFAdmission: pdfAdmission,
		Sealer:    &seal.Sealer{Key: pades.Key{Signer: local.Seal.Signer, Chain: local.Seal.Chain}, TSA: stamper, Admission: pdfAdmission},
		Finalizer: &seal.Finalizer{TSA: stamper, Revocation: &pki.Revocation{Local: a.responder, HTTP: outbound.Client(netguard.Options{Timeout: 10 * time.Second, MaxResponseBytes: 10 << 20})}, Admission: pdfAdmission},
	}, log)
	// Secrets are sealed at rest; the dispatcher opens each one only to sign a request.
	a.webhooks.DecryptSecret = a.service.DecryptWebhookSecret
	return a, nil
}

// openKeys builds the two envelope layers: the inner key in the HSM (PKCS#11) when configured, else a
// key file; the outer key in a second, separate key file.
func openKeys(cfg config, create bool) (*envelope.Envelope, func(), error) {
	var inner envelope.KeyWrapper
	closeInner := func() {}
	if cfg.PKCS11.ModulePath != "" {
		p11cfg := cfg.PKCS11
		p11cfg.CreateKey = true // the key is generated inside the HSM and never leaves it
		hsm, err := envelope.NewPKCS11KeyWrapper(p11cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("open HSM inner key: %w", err)
		}
		inner, closeInner = hsm, func() { _ = hsm.Close() }
	} else {
		fileKey, err := envelope.NewFileKeyWrapper(cfg.InnerKeyFile, create)
		if err != nil {
			return nil, nil, fmt.Errorf("open inner key file: %w", err)
		}
		inner = fileKey
	}
	outer, err := envelope.NewFileKeyWrapper(cfg.OuterKeyFile, create)
	if err != nil {
		closeInner()
		return nil, nil, fmt.Errorf("open outer key file: %w", err)
	}
	return envelope.New(inner, outer), closeInner, nil
}

// openSealKey returns the HSM sealing key when PKCS#11 is configured (generated inside the HSM on
// first use), or nil: the local PKI then keeps the sealing key in a file.
func openSealKey(cfg config) (crypto.Signer, func(), error) {
	if cfg.PKCS11.ModulePath == "" {
		return nil, func() {}, nil
	}
	key, closer, err := pki.PKCS11Signer(pki.PKCS11KeyConfig{ModulePath: cfg.PKCS11.ModulePath,
		TokenLabel: cfg.PKCS11.TokenLabel, PIN: cfg.PKCS11.PIN, KeyLabel: cfg.SealKeyLabel, Create: true})
	if err != nil {
		return nil, nil, fmt.Errorf("open HSM sealing key: %w", err)
	}
	return key, func() { _ = closer.Close() }, nil
}

// loadTokenKey reads the key signatory tokens are derived from, creating it (0600) when allowed.
func loadTokenKey(path string, create bool) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate token key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key folder: %w", err)
		}
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write token key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read token key %s (create keys with `esign keys init`): %w", path, err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("token key %s is %d bytes; it must be at least 32", path, len(key))
	}
	return key, nil
}

func initKeys(ctx context.Context, cfg config) error {
	_, closeKeys, err := openKeys(cfg, true)
	if err != nil {
		return err
	}
	closeKeys()
	if _, err = loadTokenKey(cfg.TokenKeyFile, true); err != nil {
		return err
	}
	sealKey, closeSealKey, err := openSealKey(cfg)
	if err != nil {
		return err
	}
	defer closeSealKey()
	_, err = pki.LoadOrCreateLocal(cfg.PKIDir, true, time.Now(), sealKey, cfg.PublicURL)
	return err
}

func createAPIKey(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	name := flags.String("application", "", "application name (created if missing)")
	mode := flags.String("mode", "READ_WRITE", "READ_WRITE or READ_ONLY")
	env := flags.String("environment", "TEST", "TEST or PRODUCTION (for a new application)")
	note := flags.String("note", "", "a note to remember the key by")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--application is required")
	}
	// Credentials live in the database alone: this command opens nothing else, so it never creates or
	// re-issues keys or certificates (that is `serve` in embedded mode and `keys init`).
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var notePtr *string
	if *note != "" {
		notePtr = note
	}
	creds, err := signing.New(st, nil, nil, nil, signing.Config{}, log).CreateAPIKey(ctx, *name, store.Environment(*env), store.KeyMode(*mode), notePtr)
	if err != nil {
		if de, ok := order.AsError(err); ok {
			return errors.New(de.Message)
		}
		return err
	}
	return json.NewEncoder(stdout).Encode(creds)
}

// encryptWebhookSecrets seals the webhook secrets an older version stored in clear (run once after
// upgrading; it is safe to run again, and while servers run).
func encryptWebhookSecrets(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	// The database and the envelope keys, as they are: this command creates no key and touches no
	// certificate.
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, closeKeys, err := openKeys(cfg, false)
	if err != nil {
		return err
	}
	defer closeKeys()
	orders, deliveries, err := signing.New(st, nil, keys, nil, signing.Config{}, log).EncryptStoredWebhookSecrets(ctx)
	fmt.Fprintf(stdout, "encrypted the webhook secrets of %d orders and %d deliveries\n", orders, deliveries)
	return err
}

func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	metrics := telemetry.NewMetrics()
	a, err := open(ctx, cfg, log, metrics)
	if err != nil {
		return err
	}
	defer a.close()
	if cfg.embedded() {
		log.Info("embedded mode: SQLite and local blob folder", "data_dir", cfg.DataDir)
	}
	handler, err := newHTTPHandler(cfg, a, log, metrics)
	if err != nil {
		return err
	}
	sw, err := sweeper.New(a.service, cfg.Sweeper, log, metrics)
	if err != nil {
		return fmt.Errorf("configuration (SWEEP_SCHEDULE, SWEEP_ORPHAN_SCHEDULE, SWEEP_ORPHAN_GRACE, SWEEP_BATCH_SIZE): %w", err)
	}
	stopMetrics, err := telemetry.ServeMetrics(cfg.Metrics, log, metrics, stdout)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "esign listening on http://%s\n  GraphiQL: %s/graphiql/\n  create an API key: esign apikey create --application NAME\n",
		ln.Addr(), cfg.PublicURL)
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	sw.Start()
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); a.webhooks.Run(dispatchCtx) }()
	defer func() { // an attempt cut short is sent again by any replica once its lease ends
		stopDispatch()
		<-dispatched
	}()
	defer func() { // before the store closes: a pass cut short here is finished by the next one
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		sw.Stop(stopCtx)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newHTTPHandler is every route of the service.
func newHTTPHandler(cfg config, a *app, log *slog.Logger, metrics *telemetry.Metrics) (http.Handler, error) {
	timezones, err := order.Timezones()
	if err != nil {
		return nil, err
	}
	sdl, err := schema.SDL()
	if err != nil {
		return nil, err
	}
	limits := cfg.GraphQLLimits
	limits.MaxBodyBytes, limits.MaxComplexity, limits.MaxDepth, limits.MaxParserTokens =
		cfg.MaxRequestBytes, cfg.MaxComplexity, cfg.MaxDepth, cfg.MaxParserTokens
	gql := graph.NewHandler(&graph.Resolver{Service: a.service, TimezoneNames: timezones, Log: log}, limits, metrics)
	mux := http.NewServeMux()
	mux.Handle("POST /v1/graphql", gql)
	mux.HandleFunc("GET /v1/graphql", func(w http.ResponseWriter, r *http.Request) {
		// The SDL for code generators; operations are POST only.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, sdl)
	})
	mux.Handle("/graphiql/", graphiql.Handler("/v1/graphql"))
	page, err := signui.New(a.service, cfg.PublicURL, log)
	if err != nil {
		return nil, err
	}
	page.Register(mux)
	a.responder.Register(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/graphiql/", http.StatusFound)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := a.service.Ready(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if cfg.Metrics.Token != "" {
		// On the public port only behind the token; without one, metrics are on METRICS_ADDR alone.
		mux.Handle("GET /metrics", telemetry.RequireBearer(cfg.Metrics.Token, metrics.Handler()))
	}
	route := func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			return "unmatched"
		}
		return pattern
	}
	return telemetry.Middleware(log, metrics, route, mux), nil
}
