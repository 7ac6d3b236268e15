package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"esign/internal/blob/azure"
	"esign/internal/pdf/pdftest"
)

// TestSDKEndToEnd runs the official Node SDK (@criipto/signatures 1.35.1) against a real server in both
// modes, then checks that no plaintext document byte reached a disk or the blob store.
func TestSDKEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: not in -short")
	}
	for _, m := range []mode{embedded, production} {
		t.Run(string(m), func(t *testing.T) {
			s := startServer(t, m, nil)
			outDir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "e2e/sdk-e2e.mjs", "e2e/signatory-e2e.mjs")
			cmd.Env = append(os.Environ(),
				"ESIGN_ENDPOINT="+s.URL+"/v1/graphql",
				"ESIGN_CLIENT_ID="+s.writeKey.ClientID, "ESIGN_CLIENT_SECRET="+s.writeKey.ClientSecret,
				"ESIGN_READONLY_CLIENT_ID="+s.readKey.ClientID, "ESIGN_READONLY_CLIENT_SECRET="+s.readKey.ClientSecret,
				"ESIGN_OUTPUT_DIR="+outDir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("SDK end-to-end script failed: %v\n%s", err, out)
			}
			t.Logf("SDK script:\n%s", lastLines(string(out), 12))
			assertSealedPDFs(t, outDir, 2, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))
			if m == production { // the sealing key is in the HSM: no key file beside the certificate
				pkiDir := filepath.Join(s.env["DATA_DIR"], "pki")
				if _, err := os.Stat(filepath.Join(pkiDir, "seal.key")); !os.IsNotExist(err) {
					t.Errorf("production mode keeps a seal key file (%v)", err)
				}
				if _, err := os.Stat(filepath.Join(pkiDir, "seal.crt")); err != nil {
					t.Errorf("no seal certificate: %v", err)
				}
			}
			assertNoPlaintext(t, s)
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// plaintextMarkers are what a stored PDF would show: its header, raw or base64 (as a JSON []byte).
var plaintextMarkers = [][]byte{[]byte("%PDF"), []byte("JVBERi")}

func containsPlaintext(b []byte) bool {
	for _, m := range plaintextMarkers {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// assertNoPlaintext scans every file of the data folder and every blob in Azurite.
func assertNoPlaintext(t *testing.T, s *testServer) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(s.env["DATA_DIR"], func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if containsPlaintext(b) {
			t.Errorf("plaintext PDF bytes in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if url := s.env["DATABASE_URL"]; url != "" {
		assertNoPlaintextInPostgres(t, url)
	}
	if conn := s.env["AZURE_STORAGE_CONNECTION_STRING"]; conn != "" {
		ctx := context.Background()
		blobs, err := azure.New(ctx, conn, s.env["AZURE_STORAGE_CONTAINER"])
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := blobs.List(ctx, "", func(k string) bool { keys = append(keys, k); return true }); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			b, err := blobs.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if containsPlaintext(b) {
				t.Errorf("plaintext PDF bytes in blob %s", k)
			}
		}
		t.Logf("scanned %d files and %d blobs: no plaintext", files, len(keys))
		return
	}
	t.Logf("scanned %d files: no plaintext", files)
}

// assertNoPlaintextInPostgres reads every stored row as text.
func assertNoPlaintextInPostgres(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT data::text FROM signature_orders`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		n++
		if containsPlaintext([]byte(data)) {
			t.Errorf("plaintext PDF bytes in a signature_orders row")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no orders in PostgreSQL: the scan checked nothing")
	}
}

// assertSealedPDFs checks every PDF the SDK got back from a close with independent validators:
// qpdf's structure check, poppler's pdfsig for each CMS signature, and pdfcpu for the signatures, the
// document timestamp and revocation (the DSS, and live answers from the server's responders). A
// flipped byte makes both signature validators report the document invalid.
func assertSealedPDFs(t *testing.T, dir string, signatures int, caFile string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // pdfcpu's configuration and trust store
	conf := model.NewDefaultConfiguration()
	if _, err := api.ImportCertificates([]string{caFile}); err != nil {
		t.Fatal(err)
	}
	conf.AllowedRevocationHosts = []string{"127.0.0.1"}
	nss := t.TempDir() // an NSS database trusting the server's (local, not public) CA
	for _, args := range [][]string{{"-N", "-d", "sql:" + nss, "--empty-password"}, {"-A", "-d", "sql:" + nss, "-n", "esign", "-t", "CT,C,C", "-i", caFile}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if len(files) == 0 {
		t.Fatal("the SDK script wrote no sealed PDF")
	}
	for _, f := range files {
		if out, err := exec.Command("qpdf", "--check", f).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check %s: %v\n%s", filepath.Base(f), err, out)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("/Type /DocTimeStamp")) {
			t.Errorf("%s has no document timestamp", filepath.Base(f))
		}
		out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, f).CombinedOutput()
		if n := strings.Count(string(out), "Signature is Valid."); n != signatures {
			t.Errorf("pdfsig %s: %d valid signatures, want %d\n%s", filepath.Base(f), n, signatures, out)
		}
		// poppler 22.12 reports the trust of the first signature in a file only (a stale NSS error
		// code answers "Unknown issue" for later ones: see pdftest.OpenSSLVerify); OpenSSL checks the
		// chain of every signature and of the document timestamp.
		if !strings.Contains(string(out), "Certificate is Trusted.") {
			t.Errorf("pdfsig %s: the seal certificate is not trusted\n%s", filepath.Base(f), out)
		}
		pdftest.RequireOpenSSLValid(t, data, caFile, signatures, 1)
		if !bytes.Contains(data, []byte("/DSS")) {
			t.Errorf("%s has no DSS", filepath.Base(f))
		}
		res, err := api.ValidateSignaturesRaw(bytes.NewReader(data), true, conf)
		if err != nil {
			t.Fatalf("pdfcpu %s: %v", filepath.Base(f), err)
		}
		if len(res) != signatures+1 {
			t.Errorf("pdfcpu %s: %d signatures, want %d and the document timestamp", filepath.Base(f), len(res), signatures)
		}
		for _, r := range res {
			if r.Status != model.SignatureStatusValid {
				t.Errorf("pdfcpu %s: %s", filepath.Base(f), r.Signature.String(r.Status))
			}
		}
		tampered := filepath.Join(t.TempDir(), "tampered.pdf")
		// A byte of the first stream of the original document: covered by every signature.
		data[bytes.Index(data, []byte("stream\n"))+len("stream\n")] ^= 0x01
		if err := os.WriteFile(tampered, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, tampered).CombinedOutput(); strings.Contains(string(out), "Signature is Valid.") {
			t.Errorf("pdfsig calls a signature of %s valid after a flipped byte:\n%s", filepath.Base(f), out)
		}
		pdftest.RequireOpenSSLInvalid(t, data, caFile)
		res, err = api.ValidateSignaturesRaw(bytes.NewReader(data), true, conf)
		if err != nil {
			t.Fatalf("pdfcpu %s after a flipped byte: %v", filepath.Base(f), err)
		} else {
			for _, r := range res {
				if r.Status == model.SignatureStatusValid {
					t.Errorf("pdfcpu calls %s of %s valid after a flipped byte", r.Details.FieldName, filepath.Base(f))
				}
			}
		}
	}
}
