package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"esign/internal/pdf/pdftest"
)

// TestDeletionReceipt: closing an order without retention deletes its documents and issues a
// receipt; the application reads it after the deletion, its JWS verifies with the seal's chain up to
// the server's root (x5c), its payload names the order, the reason and every version, and the keyed
// hash of version 0 is HMAC(hashKey, SHA-256(the uploaded PDF)), checkable by whoever holds the
// document and the key. (Which webhooks hear of it: order.TestDropDocumentsIssuesAReceipt.)
func TestDeletionReceipt(t *testing.T) {
	s := startServer(t, embedded, nil)
	upload := pdftest.Make(t, 1, 0)
	doc := pdfDoc("Lease", upload)
	doc["pdf"].(map[string]any)["reference"] = "lease"
	r, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id evidenceProviders { id } signatories { id } } } }`,
		map[string]any{"input": map[string]any{
			"documents":         []any{doc},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories":       []any{map[string]any{"documents": []any{map[string]any{"id": "lease", "preapproved": true}}}},
		}})
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID                string
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || r.firstError() != "" {
		t.Fatalf("create: %s %q", r.Data, r.firstError())
	}
	o := created.CreateSignatureOrder.SignatureOrder
	const receiptQuery = `query($o: ID!) { signatureOrder(id: $o) { deletionReceipt {
		id reason deletedAt jws hashKey documents { documentId versions { version keyedHash } } } } }`
	if r, _ := s.graphql(t, s.readKey.basic(), receiptQuery, map[string]any{"o": o.ID}); r.firstError() != "" ||
		string(r.Data) != `{"signatureOrder":{"deletionReceipt":null}}` {
		t.Errorf("before the deletion: %s %q, want null", r.Data, r.firstError())
	}
	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) { signActingAs(input: {signatoryId: $s, evidence: {id: $p, noop: true}}) { signatory { status } } }`,
		map[string]any{"s": o.Signatories[0].ID, "p": o.EvidenceProviders[0].ID}); r.firstError() != "" {
		t.Fatalf("sign: %s", r.firstError())
	}
	if r, _ := s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o}) { signatureOrder { id } } }`,
		map[string]any{"o": o.ID}); r.firstError() != "" {
		t.Fatalf("close: %s", r.firstError())
	}

	r, _ = s.graphql(t, s.readKey.basic(), receiptQuery, map[string]any{"o": o.ID})
	var read struct {
		SignatureOrder struct {
			DeletionReceipt struct {
				ID, Reason, DeletedAt, Jws, HashKey string
				Documents                           []struct {
					DocumentID string
					Versions   []struct {
						Version   int
						KeyedHash string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &read); err != nil || r.firstError() != "" {
		t.Fatalf("receipt: %s %q", r.Data, r.firstError())
	}
	rc := read.SignatureOrder.DeletionReceipt
	if rc.Reason != "closed without retention" || len(rc.Documents) != 1 || len(rc.Documents[0].Versions) != 2 {
		t.Fatalf("receipt: %+v, want the close's reason and the document's two versions", rc)
	}

	// The JWS: its chain (x5c) leads to the server's root, and its signature is the leaf's.
	jws, err := jose.ParseSigned(rc.Jws, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, err := os.ReadFile(filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	block, _ := pem.Decode(rootPEM)
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(root)
	chains, err := jws.Signatures[0].Protected.Certificates(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		t.Fatalf("the receipt's chain does not lead to the server's root: %v", err)
	}
	payload, err := jws.Verify(chains[0][0].PublicKey)
	if err != nil {
		t.Fatalf("the receipt's signature: %v", err)
	}
	var claims struct {
		Sub, Jti, Reason string
		Documents        []struct {
			DocumentID string
			Versions   []struct {
				Number    int
				KeyedHash string
			}
		}
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != o.ID || claims.Jti != rc.ID || claims.Reason != rc.Reason || len(claims.Documents) != 1 ||
		claims.Documents[0].Versions[0].KeyedHash != rc.Documents[0].Versions[0].KeyedHash {
		t.Errorf("the signed payload %s does not say what the receipt does (%+v)", payload, rc)
	}

	// Whoever holds the upload and the key can check that it is the deleted version 0.
	key, err := base64.StdEncoding.DecodeString(rc.HashKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(upload)
	mac := hmac.New(sha256.New, key)
	mac.Write(sum[:])
	if want := hex.EncodeToString(mac.Sum(nil)); rc.Documents[0].Versions[0].KeyedHash != want {
		t.Errorf("version 0's keyed hash %s, want HMAC(hashKey, SHA-256(upload)) %s", rc.Documents[0].Versions[0].KeyedHash, want)
	}
	if rc.Documents[0].Versions[1].KeyedHash == rc.Documents[0].Versions[0].KeyedHash {
		t.Error("the signed version has the upload's keyed hash")
	}
}
