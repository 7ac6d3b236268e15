// Command esign is a self-hostable e-signature service that speaks the Criipto (Idura) Signatures
// GraphQL API. Subcommands: serve (the default), apikey create, tenant create / key create / attach,
// keys init, webhooks encrypt-secrets.
// This is the composition root: configuration (internal/config: the environment parsed once, see
// README.md for the table) → store → blobs → keys (internal/keyring) → service → HTTP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"esign/graph"
	"esign/internal/blob"
	"esign/internal/blob/azure"
	blobfs "esign/internal/blob/fs"
	"esign/internal/config"
	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/graphiql"
	"esign/internal/keyring"
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
	"esign/internal/tenant"
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

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse(getenv)
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
	case "tenant":
		return tenantCommand(ctx, cfg, log, args, stdout)
	case "keys":
		if len(args) == 0 || args[0] != "init" {
			return errors.New("usage: esign keys init")
		}
		return initKeys(cfg)
	case "webhooks":
		if len(args) == 0 || args[0] != "encrypt-secrets" {
			return errors.New("usage: esign webhooks encrypt-secrets")
		}
		return encryptWebhookSecrets(ctx, cfg, log, stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, apikey create, tenant create|key create|attach, keys init, webhooks encrypt-secrets)", cmd)
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

// openStore opens the database (SQLite in the data folder for the embedded default, created if missing).
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
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

func open(ctx context.Context, cfg config.Config, log *slog.Logger, observer signing.Observer) (*app, error) {
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

	// Key files and the local PKI are made only in embedded mode, keys inside the HSM by any
	// server (its replicas share the HSM, not files); otherwise `esign keys init` makes them.
	create := keyring.CreateInHSM
	if cfg.Embedded() {
		create = keyring.CreateAll
	}
	keys, err := keyring.Open(cfg.Keys(), create, time.Now())
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, keys.Close)
	sealer, tokenKey, local := keys.Envelope, keys.TokenKey, keys.PKI
	if keys.Operator {
		log.Info("sealing with the operator's certificate", "subject", keys.Seal.Cert.Subject.String(),
			"issuer", keys.Seal.Cert.Issuer.String(), "not_after", keys.Seal.Cert.NotAfter)
	} else if local.Created {
		log.Warn("created a local PKI: documents are sealed with a certificate that is NOT publicly trusted",
			"pki_dir", cfg.PKIDir, "ca", local.CA.Cert.Subject.String())
	}
	a.responder = local.Responder()
	// Every request made on a caller's behalf (identity providers, webhooks, certificate revocation
	// URLs) goes through this one policy, and so do the TSA's.
	outbound := netguard.New(cfg.Outbound)
	var stamper pades.Timestamper = &tsa.Server{Signer: local.TSA.Signer, Cert: local.TSA.Cert, Chain: local.TSA.Chain[1:], Policy: cfg.TSAPolicy}
	if cfg.TSAURL != "" {
		stamper = &tsa.Client{URL: cfg.TSAURL, Username: cfg.TSAUsername, Password: cfg.TSAPassword, BearerToken: cfg.TSABearerToken,
			HTTP: outbound.Client(netguard.Options{Timeout: cfg.TSATimeout})}
	}
	// The local CA answers in process; other CAs' answers are fetched, cached, best effort (pki.Revocation).
	revocationHTTP := outbound.Client(netguard.Options{Timeout: 10 * time.Second, MaxResponseBytes: 10 << 20})
	revocation := &pki.Revocation{Local: a.responder, HTTP: revocationHTTP, Fetcher: pki.NewFetcher(revocationHTTP, 0, 0), Log: log}
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
		Sealer:    &seal.Sealer{Key: pades.Key{Signer: keys.Seal.Signer, Chain: keys.Seal.Chain}, TSA: stamper, Admission: pdfAdmission},
		Finalizer: &seal.Finalizer{TSA: stamper, Revocation: revocation, Admission: pdfAdmission},
		Receipts:  &signing.ReceiptKey{Signer: keys.Seal.Signer, Chain: keys.Seal.Chain},

		Certificates: &seal.Sealer{Key: pades.Key{Signer: keys.Seal.Signer, Chain: keys.Seal.Chain}, TSA: stamper, Admission: pdfAdmission},
	}, log)
	// Secrets are sealed at rest; the dispatcher opens each one only to sign a request.
	a.webhooks.DecryptSecret = a.service.DecryptWebhookSecret
	return a, nil
}

// initKeys makes every missing key file, HSM key and the local PKI (`esign keys init`).
func initKeys(cfg config.Config) error {
	keys, err := keyring.Open(cfg.Keys(), keyring.CreateAll, time.Now())
	if err != nil {
		return err
	}
	keys.Close()
	return nil
}

func createAPIKey(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
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
	creds, err := signing.New(st, nil, nil, nil, signing.Config{}, log).CreateAPIKey(ctx, *name, tenant.Environment(*env), tenant.KeyMode(*mode), notePtr)
	if err != nil {
		if de, ok := fault.As(err); ok {
			return errors.New(de.Error())
		}
		return err
	}
	return json.NewEncoder(stdout).Encode(creds)
}

const tenantUsage = `usage: esign tenant create --name NAME [--note TEXT]
       esign tenant key create --tenant ID [--note TEXT]
       esign tenant attach --tenant ID --application ID`

// tenantCommand runs `esign tenant ...`: tenants and their keys exist only through this command; a
// tenant key then manages the tenant's applications and their keys over the API.
func tenantCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	var (
		verb  string
		flags *flag.FlagSet
	)
	switch {
	case len(args) >= 1 && (args[0] == "create" || args[0] == "attach"):
		verb, flags, args = args[0], flag.NewFlagSet("tenant "+args[0], flag.ContinueOnError), args[1:]
	case len(args) >= 2 && args[0] == "key" && args[1] == "create":
		verb, flags, args = "key create", flag.NewFlagSet("tenant key create", flag.ContinueOnError), args[2:]
	default:
		return errors.New(tenantUsage)
	}
	name := flags.String("name", "", "tenant name (tenant create)")
	tenantID := flags.String("tenant", "", "tenant id (tenant key create, tenant attach)")
	applicationID := flags.String("application", "", "application id (tenant attach)")
	note := flags.String("note", "", "a note to remember the key by")
	if err := flags.Parse(args); err != nil {
		return err
	}
	missing := ""
	switch {
	case verb == "create" && *name == "":
		missing = "--name"
	case verb != "create" && *tenantID == "":
		missing = "--tenant"
	case verb == "attach" && *applicationID == "":
		missing = "--application"
	}
	if missing != "" {
		return fmt.Errorf("%s is required\n%s", missing, tenantUsage)
	}
	// Like apikey create: credentials live in the database alone, so nothing else is opened.
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var notePtr *string
	if *note != "" {
		notePtr = note
	}
	svc := signing.New(st, nil, nil, nil, signing.Config{}, log)
	var out any
	switch verb {
	case "create":
		out, err = svc.CreateTenant(ctx, *name, notePtr)
	case "key create":
		out, err = svc.CreateTenantKey(ctx, *tenantID, notePtr)
	case "attach":
		err = svc.AttachApplication(ctx, *tenantID, *applicationID)
		out = map[string]string{"tenantId": *tenantID, "applicationId": *applicationID}
	}
	if err != nil {
		if de, ok := fault.As(err); ok {
			return errors.New(de.Error())
		}
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

// encryptWebhookSecrets seals the webhook secrets an older version stored in clear (run once after
// upgrading; it is safe to run again, and while servers run).
func encryptWebhookSecrets(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	// The database and the envelope keys, as they are: this command creates no key and touches no
	// certificate.
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, closeKeys, err := keyring.OpenEnvelope(cfg.Keys(), keyring.OpenOnly)
	if err != nil {
		return err
	}
	defer closeKeys()
	orders, deliveries, err := signing.New(st, nil, keys, nil, signing.Config{}, log).EncryptStoredWebhookSecrets(ctx)
	fmt.Fprintf(stdout, "encrypted the webhook secrets of %d orders and %d deliveries\n", orders, deliveries)
	return err
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	metrics := telemetry.NewMetrics()
	a, err := open(ctx, cfg, log, metrics)
	if err != nil {
		return err
	}
	defer a.close()
	if cfg.Embedded() {
		log.Info("embedded mode: SQLite and local blob folder", "data_dir", cfg.DataDir)
	}
	handler, err := newHTTPHandler(cfg, a, log, metrics)
	if err != nil {
		return err
	}
	sw, err := sweeper.New(a.service, cfg.Sweeper, log, metrics)
	if err != nil {
		return fmt.Errorf("configuration (%s): %w", config.SweeperVars, err)
	}
	stopMetrics, err := telemetry.ServeMetrics(cfg.Metrics, log, metrics, stdout)
	if err != nil {
		return fmt.Errorf("%s: %w", config.MetricsAddrVar, err)
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
func newHTTPHandler(cfg config.Config, a *app, log *slog.Logger, metrics *telemetry.Metrics) (http.Handler, error) {
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
	page.TrustProxies(cfg.GraphQLLimits.TrustedProxies)
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
		// On the public port only behind the token; without one, metrics are on the metrics listener alone.
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
