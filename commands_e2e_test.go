package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsWriteNoKeys: only `serve` (embedded) and `keys init` create keys or certificates.
// `apikey create` needs the database alone, so on a fresh data folder it creates no key; and neither
// it nor `webhooks encrypt-secrets` re-issues the certificates a running server seals with when its
// PUBLIC_URL differs from the server's (the certificates name the OCSP and CRL URLs).
func TestCommandsWriteNoKeys(t *testing.T) {
	env := serverEnv(t, embedded, nil)
	createKey(t, env, "fresh", "READ_WRITE")
	for _, dir := range []string{"keys", "pki"} {
		if _, err := os.Stat(filepath.Join(env["DATA_DIR"], dir)); !os.IsNotExist(err) {
			t.Errorf("apikey create on a fresh data folder made %s/ (%v)", dir, err)
		}
	}

	runCommand(t, env, "keys", "init")
	sealCert := filepath.Join(env["DATA_DIR"], "pki", "seal.crt")
	before, err := os.ReadFile(sealCert)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := map[string]string{}
	for k, v := range env {
		elsewhere[k] = v
	}
	elsewhere["PUBLIC_URL"] = "https://other.example"
	createKey(t, elsewhere, "other", "READ_WRITE")
	if out := runCommand(t, elsewhere, "webhooks", "encrypt-secrets"); !strings.Contains(out, "encrypted the webhook secrets of 0 orders and 0 deliveries") {
		t.Errorf("webhooks encrypt-secrets printed %q", out)
	}
	if after, err := os.ReadFile(sealCert); err != nil || !bytes.Equal(before, after) {
		t.Errorf("a command other than serve or keys init changed the seal certificate (%v)", err)
	}
}
