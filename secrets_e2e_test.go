package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"esign/internal/pdf/pdftest"
)

// rawDatabase is every byte of the server's database as an attacker with a copy would read it: the
// SQLite file and its write-ahead log, or every row of every PostgreSQL table as text.
func rawDatabase(t *testing.T, s *testServer) []byte {
	t.Helper()
	if url := s.env["DATABASE_URL"]; url != "" {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, table := range tables {
			rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			if err != nil {
				t.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString(strings.Join(texts, "\n"))
		}
		return out.Bytes()
	}
	var out []byte
	for _, name := range []string{"esign.db", "esign.db-wal"} {
		b, err := os.ReadFile(filepath.Join(s.env["DATA_DIR"], name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestWebhookSecretNotInDatabase gives an order a webhook secret, has an event delivered (signed
// with that secret, checked by the receiver) and then reads the raw database (SQLite file, and every
// PostgreSQL row): the secret is in it in no form, neither in the order nor in the deliveries.
func TestWebhookSecretNotInDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: not in -short")
	}
	for _, m := range []mode{embedded, production} {
		t.Run(string(m), func(t *testing.T) {
			s := startServer(t, m, map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_POLL_INTERVAL": "100ms"})
			secret := make([]byte, 32)
			rand.Read(secret)
			hook := newHookReceiver(t, secret)
			resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
				createSignatureOrder(input: $input) { signatureOrder { signatories { token } } } }`,
				map[string]any{"input": map[string]any{
					"documents":   []any{pdfDoc("Contract", pdftest.Make(t, 1, 0))},
					"signatories": []any{map[string]any{"reference": "one"}},
					"webhook": map[string]any{"url": hook.URL + "/hook", "secret": base64.StdEncoding.EncodeToString(secret),
						"validateConnectivity": true},
				}})
			if msg := resp.firstError(); msg != "" {
				t.Fatalf("createSignatureOrder: %s", msg)
			}
			var created struct {
				CreateSignatureOrder struct {
					SignatureOrder struct{ Signatories []struct{ Token string } }
				}
			}
			if err := json.Unmarshal(resp.Data, &created); err != nil {
				t.Fatal(err)
			}
			token := created.CreateSignatureOrder.SignatureOrder.Signatories[0].Token
			if out := signatoryGraphQL(t, s, token, "", `mutation { trackSignatory(input: {event: SIGN_LINK_OPENED}) { viewer { __typename } } }`); strings.Contains(out, `"errors"`) {
				t.Fatal(out)
			}
			hook.waitFor(t, "WEBHOOK_VALIDATION", "SIGNATORY_SIGN_LINK_OPENED")
			hook.mu.Lock()
			bad := hook.badSigs
			hook.mu.Unlock()
			if bad != 0 {
				t.Errorf("%d deliveries were not signed with the caller's secret", bad)
			}
			raw := rawDatabase(t, s)
			for name, form := range map[string][]byte{
				"raw":    secret,
				"base64": []byte(base64.StdEncoding.EncodeToString(secret)),
				"hex":    []byte(hex.EncodeToString(secret)),
			} {
				if bytes.Contains(raw, form) {
					t.Errorf("the database holds the webhook secret (%s)", name)
				}
			}
			// Everything this version wrote is encrypted already: the upgrade command finds nothing to do.
			if out := runCommand(t, s.env, "webhooks", "encrypt-secrets"); !strings.Contains(out, "0 orders and 0 deliveries") {
				t.Errorf("webhooks encrypt-secrets: %s", out)
			}
		})
	}
}
