package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// mode is how a test server is wired.
type mode string

const (
	embedded   mode = "embedded"   // SQLite + local folder + key files
	production mode = "production" // PostgreSQL + Azurite + SoftHSM2 inner key
)

// testServer is a real esign process (in this test process) listening on loopback.
type testServer struct {
	URL      string
	env      map[string]string
	cancel   context.CancelFunc
	done     chan error
	readKey  credentials
	writeKey credentials
	logs     *testenv.SyncBuffer
}

type credentials struct {
	ApplicationID string `json:"applicationId"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
}

func (c credentials) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ClientID+":"+c.ClientSecret))
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serverEnv is the configuration of a server in the given mode, all state in fresh temp folders.
func serverEnv(t testing.TB, m mode, extra map[string]string) map[string]string {
	t.Helper()
	addr := freeAddr(t)
	env := map[string]string{
		"ADDR":       addr,
		"PUBLIC_URL": "http://" + addr,
		"DATA_DIR":   t.TempDir(),
		"LOG_LEVEL":  "warn",
	}
	if m == production {
		hsm := testenv.SoftHSM(t)
		keys := t.TempDir()
		for k, v := range map[string]string{
			"DATABASE_URL":                    testenv.PostgresURL(t),
			"AZURE_STORAGE_CONNECTION_STRING": testenv.AzuriteConnectionString(t),
			"AZURE_STORAGE_CONTAINER":         fmt.Sprintf("e2e-%d", time.Now().UnixNano()),
			"PKCS11_MODULE":                   hsm.ModulePath,
			"PKCS11_TOKEN_LABEL":              hsm.TokenLabel,
			"PKCS11_PIN":                      hsm.PIN,
			"PKCS11_KEY_LABEL":                hsm.KeyLabel,
			"PKCS11_SEAL_KEY_LABEL":           hsm.KeyLabel + "-seal",
			"OUTER_KEY_FILE":                  filepath.Join(keys, "outer.json"),
			"TOKEN_KEY_FILE":                  filepath.Join(keys, "token.key"),
		} {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// runCommand runs one esign subcommand in-process and returns its standard output.
func runCommand(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("esign %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func createKey(t testing.TB, env map[string]string, app, keyMode string) credentials {
	t.Helper()
	var c credentials
	out := runCommand(t, env, "apikey", "create", "--application", app, "--mode", keyMode)
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		t.Fatalf("apikey create printed %q (%v)", out, err)
	}
	return c
}

// startServer starts a server, with a READ_WRITE and a READ_ONLY key of application "e2e", and stops
// it when the test ends (checking that it shut down cleanly).
func startServer(t testing.TB, m mode, extra map[string]string) *testServer {
	t.Helper()
	env := serverEnv(t, m, extra)
	if m == production {
		runCommand(t, env, "keys", "init")
	}
	s := &testServer{URL: env["PUBLIC_URL"], env: env, done: make(chan error, 1),
		writeKey: createKey(t, env, "e2e", "READ_WRITE"), readKey: createKey(t, env, "e2e", "READ_ONLY")}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	logs := &testenv.SyncBuffer{}
	s.logs = logs
	go func() { s.done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, logs) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server shutdown: %v\n%s", err, logs.String())
		}
	})
	return s
}

func (s *testServer) stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("server did not stop within 30 s")
	}
}

// gqlResponse is a GraphQL answer.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) firstError() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// graphql posts one operation and decodes the answer; HTTP status is returned for transport checks.
func (s *testServer) graphql(t testing.TB, auth, query string, variables map[string]any) (gqlResponse, int) {
	t.Helper()
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	out, status, _ := s.graphqlWith(t, h, query, variables)
	return out, status
}

// graphqlWith posts one operation with extra headers and returns the answer's headers too.
func (s *testServer) graphqlWith(t testing.TB, headers http.Header, query string, variables map[string]any) (gqlResponse, int, http.Header) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", bytes.NewReader(body))
	req.Header = headers.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %.300s", resp.StatusCode, raw)
	}
	return out, resp.StatusCode, resp.Header
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
