package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki/pkitest"
)

// TestOperatorSealEndToEnd: the service configured with an operator's own seal certificate (a
// second CA, made here, with its responders on loopback) as a PKCS#12 file and as PEM files, and
// an external TSA of that CA behind basic auth. A signed and closed document chains to the
// operator's root for pdfsig (an NSS db trusting that root alone) and OpenSSL, not to the local
// PKI, and its DSS holds the very OCSP answers and CRL the operator's responders gave.
func TestOperatorSealEndToEnd(t *testing.T) {
	for _, form := range []string{"PKCS#12", "PEM"} {
		t.Run(form, func(t *testing.T) {
			op := pkitest.NewOperator(t)
			files := t.TempDir()
			extra := map[string]string{"TSA_URL": op.TSAURL, "TSA_USERNAME": op.TSAUser, "TSA_PASSWORD": op.TSAPassword,
				"OUTBOUND_ALLOW_PRIVATE": "true"} // the responders are on loopback
			if form == "PKCS#12" {
				extra["SEAL_PKCS12_FILE"], extra["SEAL_PKCS12_PASSWORD"] = op.WritePKCS12(t, files, "operator pw"), "operator pw"
			} else {
				extra["SEAL_KEY_FILE"], extra["SEAL_CERT_CHAIN_FILE"] = op.WritePEM(t, files)
			}
			s := startServer(t, embedded, extra)
			orderID, signatoryID, _ := rightsOrder(t, s, s.writeKey.basic())
			q, _ := s.graphql(t, s.writeKey.basic(), `query($o: ID!) { signatureOrder(id: $o) { evidenceProviders { id } } }`, map[string]any{"o": orderID})
			var providers struct {
				SignatureOrder struct{ EvidenceProviders []struct{ ID string } }
			}
			if err := json.Unmarshal(q.Data, &providers); err != nil || len(providers.SignatureOrder.EvidenceProviders) != 1 {
				t.Fatalf("evidence providers: %s %q", q.Data, q.firstError())
			}
			if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: $p, noop: true}}) { signatory { status } } }`,
				map[string]any{"s": signatoryID, "p": providers.SignatureOrder.EvidenceProviders[0].ID}); r.firstError() != "" {
				t.Fatalf("sign: %s", r.firstError())
			}
			r, _ := s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o, retainDocumentsForDays: 1}) {
				signatureOrder { status documents { ... on PdfDocument { blob } } } } }`, map[string]any{"o": orderID})
			var out struct {
				CloseSignatureOrder struct {
					SignatureOrder struct {
						Status    string
						Documents []struct{ Blob string }
					}
				}
			}
			if err := json.Unmarshal(r.Data, &out); err != nil || r.firstError() != "" || len(out.CloseSignatureOrder.SignatureOrder.Documents) != 1 {
				t.Fatalf("close: %.300s %q", r.Data, r.firstError())
			}
			data, err := base64.StdEncoding.DecodeString(out.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)
			if err != nil {
				t.Fatal(err)
			}
			pdfFile := filepath.Join(t.TempDir(), "closed.pdf")
			if err := os.WriteFile(pdfFile, data, 0o600); err != nil {
				t.Fatal(err)
			}

			// The signature and its timestamp are the operator's, read back from the PDF.
			sigs, err := pades.ReadSignatures(context.Background(), data)
			if err != nil || len(sigs) != 2 || sigs[0].SigningCertificate == nil || !sigs[0].SigningCertificate.Equal(op.Seal.Cert) ||
				sigs[0].TimestampCertificate == nil || !sigs[0].TimestampCertificate.Equal(op.TSA.Cert) || !sigs[1].DocumentTimestamp {
				t.Fatalf("signatures %+v (%v): want the operator's seal with its TSA's timestamp, then a document timestamp", sigs, err)
			}

			// pdfsig trusts the signature with the operator's root alone, and not with the local CA.
			rootFile := filepath.Join(t.TempDir(), "operator-root.pem")
			pkitest.WriteFile(t, rootFile, pkitest.CertsPEM(op.Root.Cert))
			trusting := func(caFile string) string {
				nss := t.TempDir()
				for _, args := range [][]string{{"-N", "-d", "sql:" + nss, "--empty-password"}, {"-A", "-d", "sql:" + nss, "-n", "ca", "-t", "CT,C,C", "-i", caFile}} {
					if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
						t.Fatalf("certutil %v: %v\n%s", args, err, out)
					}
				}
				out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, pdfFile).CombinedOutput()
				return string(out)
			}
			got := trusting(rootFile)
			for _, want := range []string{"Signature is Valid.", "Certificate is Trusted.", "Signer Certificate Common Name: Operator Test Document Seal",
				"Total document signed"} {
				if !strings.Contains(got, want) {
					t.Errorf("pdfsig with the operator's root: no %q\n%s", want, got)
				}
			}
			if local := trusting(filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt")); strings.Contains(local, "Certificate is Trusted.") {
				t.Errorf("pdfsig trusts the seal with the local PKI's root:\n%s", local)
			}
			pdftest.RequireOpenSSLValid(t, data, rootFile, 1, 1)

			// The DSS holds what the operator's responders answered: OCSP for the seal and the TSA
			// certificates, and the root's CRL for the intermediate (whose OCSP responder is down).
			// Answers are cached; the down responder is asked again for each PDF the close finalizes
			// (the document and the completion certificate): a failure is not cached.
			ocsps, crls := op.Served()
			if len(ocsps) != 2 || len(crls) != 1 || op.Hits("/root-down/ocsp") != 2 {
				t.Errorf("the responders gave %d OCSP answers and %d CRLs (root OCSP asked %d times); want 2, 1 and 2",
					len(ocsps), len(crls), op.Hits("/root-down/ocsp"))
			}
			for i, der := range append(ocsps, crls...) {
				if !bytes.Contains(data, der) {
					t.Errorf("answer %d of the operator's responders is not in the PDF", i+1)
				}
			}
			if !bytes.Contains(data, []byte("/DSS")) || !bytes.Contains(data, op.Intermediate.Cert.Raw) || !bytes.Contains(data, op.Root.Cert.Raw) {
				t.Error("the DSS lacks the operator's chain")
			}
			logs := s.logs.String()
			if strings.Contains(logs, "the DSS goes without it") || strings.Contains(logs, op.TSAPassword) || strings.Contains(logs, "operator pw") {
				t.Errorf("the logs report missing revocation data or show a password:\n%s", logs)
			}
		})
	}
}

// TestOperatorSealRefusedAtStart: a broken seal setting stops `serve` and `keys init` before
// anything listens, with the variable and the problem.
func TestOperatorSealRefusedAtStart(t *testing.T) {
	op := pkitest.NewOperator(t)
	files := t.TempDir()
	p12 := op.WritePKCS12(t, files, "right")
	key, _ := op.WritePEM(t, files)
	rootOnly := filepath.Join(files, "root-only.pem")
	pkitest.WriteFile(t, rootOnly, pkitest.CertsPEM(op.Seal.Cert, op.Root.Cert))
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "wrong password", env: map[string]string{"SEAL_PKCS12_FILE": p12, "SEAL_PKCS12_PASSWORD": "wrong"},
			want: "SEAL_PKCS12_PASSWORD: wrong PKCS#12 password"},
		{name: "incomplete chain", env: map[string]string{"SEAL_KEY_FILE": key, "SEAL_CERT_CHAIN_FILE": rootOnly},
			want: "SEAL_CERT_CHAIN_FILE: the certificate chain is incomplete"},
		{name: "chain without a key", env: map[string]string{"SEAL_CERT_CHAIN_FILE": rootOnly}, want: "SEAL_CERT_CHAIN_FILE needs a key"},
	} {
		for _, args := range [][]string{{"serve"}, {"keys", "init"}} {
			t.Run(tc.name+", "+strings.Join(args, " "), func(t *testing.T) {
				env := serverEnv(t, embedded, tc.env)
				var stderr bytes.Buffer
				err := run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, &stderr)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q\n%s", err, tc.want, stderr.String())
				}
			})
		}
	}
}
