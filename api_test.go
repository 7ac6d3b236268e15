package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf/pdftest"
)

const createMutation = `mutation($input: CreateSignatureOrderInput!) {
  createSignatureOrder(input: $input) { signatureOrder { id status documents { id } signatories { id } } }
}`

func pdfDoc(title string, data []byte) map[string]any {
	return map[string]any{"pdf": map[string]any{"title": title, "blob": base64.StdEncoding.EncodeToString(data), "storageMode": "Temporary"}}
}

// TestBadInputChangesNothing sends invalid createSignatureOrder inputs: each gets a clear error naming
// the field and the rule, and afterwards the server holds no order, no blob and no key material beyond
// its own key files.
func TestBadInputChangesNothing(t *testing.T) {
	// The request limit is raised so that a 10 MiB title reaches the input rules.
	s := startServer(t, embedded, map[string]string{"MAX_DOCUMENT_BYTES": "200000", "MAX_REQUEST_BYTES": "16777216"})
	good := pdftest.Make(t, 1, 0)
	big := pdftest.Make(t, 1, 250_000)
	withDoc := func(extra map[string]any, docs ...map[string]any) map[string]any {
		if len(docs) == 0 {
			docs = []map[string]any{pdfDoc("Contract", good)}
		}
		in := map[string]any{"documents": docs}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
	signatories := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"reference": fmt.Sprint(i)}
		}
		return out
	}
	cases := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"not a PDF", withDoc(nil, pdfDoc("Lease", []byte("hello, I am text"))), "Document Lease does not appear to be a PDF"},
		{"second document not a PDF", withDoc(nil, pdfDoc("A", good), pdfDoc("B", []byte{0x89, 'P', 'N', 'G'})), "Document B does not appear to be a PDF"},
		{"truncated PDF", withDoc(nil, pdfDoc("Cut", pdftest.Truncated(t))), "Document Cut"},
		{"encrypted PDF", withDoc(nil, pdfDoc("Locked", pdftest.Encrypted(t))), "Document Locked is encrypted"},
		{"PDF over the size limit", withDoc(nil, pdfDoc("Huge", big)), "documents[0].pdf.blob: Document Huge is"},
		{"no documents", map[string]any{"documents": []any{}}, "documents: at least one document is required"},
		{"expiresInDays zero", withDoc(map[string]any{"expiresInDays": 0}), "expiresInDays: must be a positive number of days"},
		{"expiresInDays negative", withDoc(map[string]any{"expiresInDays": -3}), "expiresInDays: must be a positive number of days"},
		{"expiresAt with expiresInDays", withDoc(map[string]any{"expiresInDays": 3, "expiresAt": "2099-01-01T00:00:00Z"}), "expiresAt: cannot be combined with expiresInDays"},
		{"expiresAt in the past", withDoc(map[string]any{"expiresAt": "2001-01-01T00:00:00Z"}), "expiresAt: must be in the future"},
		{"expiresAt not ISO", withDoc(map[string]any{"expiresAt": "next tuesday"}), "expiresAt: must be ISO-8601"},
		{"too many signatories", withDoc(map[string]any{"maxSignatories": 2, "signatories": signatories(3)}), "too many signatories"},
		{"maxSignatories zero", withDoc(map[string]any{"maxSignatories": 0}), "maxSignatories: must be between 1 and"},
		{"unknown timezone", withDoc(map[string]any{"timezone": "Mars/Olympus"}), "timezone: \"Mars/Olympus\" is not an IANA timezone"},
		{"signingSequence zero", withDoc(map[string]any{"signatories": []any{map[string]any{"signingSequence": 0}}}), "signatories[0].signingSequence: must be a positive integer"},
		{"approver preapproved", withDoc(map[string]any{"signatories": []any{map[string]any{"signatoryRole": "APPROVER", "documents": []any{map[string]any{"id": "c1", "preapproved": true}}}}}, map[string]any{"pdf": map[string]any{"title": "T", "reference": "c1", "blob": base64.StdEncoding.EncodeToString(good), "storageMode": "Temporary"}}), "an APPROVER cannot be preapproved"},
		{"signatory documents empty", withDoc(map[string]any{"signatories": []any{map[string]any{"documents": []any{}}}}), "signatories[0].documents: must not be empty"},
		{"signatory unknown document", withDoc(map[string]any{"signatories": []any{map[string]any{"documents": []any{map[string]any{"id": "nope"}}}}}), "signatories[0].documents[0].id: \"nope\" is not a document of this order"},
		{"webhook secret too short", withDoc(map[string]any{"webhook": map[string]any{"url": "https://example.org/hook", "secret": base64.StdEncoding.EncodeToString([]byte("short"))}}), "webhook.secret: must be 256 to 512 bits"},
		{"webhook url not absolute", withDoc(map[string]any{"webhook": map[string]any{"url": "/hook"}}), "webhook.url: must be an absolute http(s) URL"},
		{"blob not base64", withDoc(nil, map[string]any{"pdf": map[string]any{"title": "X", "blob": "***", "storageMode": "Temporary"}}), "a Blob must be standard base64 with padding"},
		{"blob unpadded base64", withDoc(nil, map[string]any{"pdf": map[string]any{"title": "X", "blob": "JVBERi0", "storageMode": "Temporary"}}), "a Blob must be standard base64 with padding"},
		{"noop provider ok but empty name", withDoc(map[string]any{"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": ""}}}}), "evidenceProviders[0].noop.name: must not be empty"},
		{"two provider kinds", withDoc(map[string]any{"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "n"}, "drawable": map[string]any{}}}}), "evidenceProviders[0]: exactly one of"},
		{"bad language", withDoc(map[string]any{"ui": map[string]any{"language": "XX_YY"}}), "XX_YY"},
		{"xml document", withDoc(nil, map[string]any{"xml": map[string]any{"title": "X", "blob": "PGE+PC9hPg==", "storageMode": "Temporary"}}), "documents[0].xml: XML documents are not supported"},
		{"10 MiB title", withDoc(map[string]any{"title": strings.Repeat("a", 10<<20)}), "title: must be at most 255 characters"},
		{"title one past the limit", withDoc(map[string]any{"title": strings.Repeat("ø", 256)}), "title: must be at most 255 characters, got 256"},
		{"NUL in a provider name", withDoc(map[string]any{"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "Jane\x00Doe"}}}}), "evidenceProviders[0].noop.name: must not contain control characters"},
		{"NUL in a document title", withDoc(nil, pdfDoc("Con\x00tract", good)), "documents[0].pdf.title: must not contain control characters"},
		{"too many documents", withDoc(nil, func() []map[string]any {
			docs := make([]map[string]any, 51)
			for i := range docs {
				docs[i] = pdfDoc("D", good)
			}
			return docs
		}()...), "documents: must have at most 50 items"},
		{"stylesheet injecting CSP directives", withDoc(map[string]any{"ui": map[string]any{"stylesheet": "https://evil.example;script-src-elem;x/a.css"}}), "ui.stylesheet: must be an absolute http(s) URL: character ';' is not allowed"},
		{"logo with user information", withDoc(map[string]any{"ui": map[string]any{"logo": map[string]any{"src": "https://cdn.example@evil.example/l.png"}}}), "ui.logo.src: must be an absolute http(s) URL: user information"},
		{"data: SVG logo", withDoc(map[string]any{"ui": map[string]any{"logo": map[string]any{"src": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}}}), "ui.logo.src: a data: logo must be data:image/png, jpeg, gif or webp"},
		{"data: logo that is no image", withDoc(map[string]any{"ui": map[string]any{"logo": map[string]any{"src": "data:image/png;base64,PHNjcmlwdD4="}}}), "ui.logo.src: the data: logo is not a png image"},
		{"webhook over plain http", withDoc(map[string]any{"webhook": map[string]any{"url": "http://hooks.example.com/h"}}), "webhook.url: must be an absolute http(s) URL: the scheme must be https"},
		{"oidc domain with a path injection", withDoc(map[string]any{"evidenceProviders": []any{map[string]any{"oidc": map[string]any{"name": "n", "domain": "idp.example.com;x", "clientID": "c", "audience": "a"}}}}), "evidenceProviders[0].oidc.domain: must be a host name or an https issuer URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, status := s.graphql(t, s.writeKey.basic(), createMutation, map[string]any{"input": c.input})
			if status != http.StatusOK {
				t.Errorf("HTTP %d, want 200", status)
			}
			if msg := resp.firstError(); !strings.Contains(msg, c.want) {
				t.Errorf("errors[0].message = %q, want it to contain %q", msg, c.want)
			}
			if strings.Contains(resp.firstError(), "internal error") {
				t.Errorf("bad input answered as an internal error: %q", resp.firstError())
			}
		})
	}
	// Nothing was stored: no order, no blob.
	resp, _ := s.graphql(t, s.writeKey.basic(), `{ viewer { ... on Application { signatureOrders(first: 10) { totalCount } } } }`, nil)
	if !strings.Contains(string(resp.Data), `"totalCount":0`) {
		t.Errorf("orders after bad inputs: %s %v", resp.Data, resp.Errors)
	}
	if n := countFiles(t, filepath.Join(s.env["DATA_DIR"], "blobs")); n != 0 {
		t.Errorf("%d blob files after bad inputs, want 0", n)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHTTPHardening checks auth, limits and the transport rules at the HTTP edge.
func TestHTTPHardening(t *testing.T) {
	s := startServer(t, embedded, map[string]string{"MAX_REQUEST_BYTES": "300000", "GRAPHQL_MAX_DEPTH": "6"})
	viewer := `{ viewer { __typename ... on Application { id name } } }`

	t.Run("credentials", func(t *testing.T) {
		for name, auth := range map[string]string{
			"missing":      "",
			"wrong secret": "Basic " + base64.StdEncoding.EncodeToString([]byte(s.writeKey.ClientID+":nope")),
			"unknown id":   "Basic " + base64.StdEncoding.EncodeToString([]byte("who:ever")),
			"not basic":    "Bearer abc",
		} {
			resp, status := s.graphql(t, auth, viewer, nil)
			if status != 200 || resp.firstError() != "Unauthorized access" {
				t.Errorf("%s: HTTP %d, errors[0] = %q; want 200 and Unauthorized access", name, status, resp.firstError())
			}
		}
		resp, _ := s.graphql(t, s.writeKey.basic(), viewer, nil)
		if resp.firstError() != "" || !strings.Contains(string(resp.Data), `"name":"e2e"`) {
			t.Errorf("valid key: %s %v", resp.Data, resp.Errors)
		}
	})
	t.Run("read-only key cannot mutate", func(t *testing.T) {
		resp, _ := s.graphql(t, s.readKey.basic(), createMutation, map[string]any{"input": map[string]any{"documents": []any{pdfDoc("A", pdftest.Make(t, 1, 0))}}})
		if !strings.Contains(resp.firstError(), "READ_ONLY") {
			t.Errorf("errors[0] = %q, want the READ_ONLY refusal", resp.firstError())
		}
		resp, _ = s.graphql(t, s.readKey.basic(), viewer, nil)
		if resp.firstError() != "" {
			t.Errorf("read-only key cannot read: %v", resp.Errors)
		}
	})
	t.Run("introspection without credentials", func(t *testing.T) {
		resp, _ := s.graphql(t, "", `{ __schema { queryType { name } } }`, nil)
		if resp.firstError() != "" || !strings.Contains(string(resp.Data), "Query") {
			t.Errorf("introspection: %s %v", resp.Data, resp.Errors)
		}
	})
	t.Run("body over the limit is cut off", func(t *testing.T) {
		big := bytes.Repeat([]byte("a"), 400_000)
		body := []byte(`{"query":"{ timezones }","variables":{"x":"` + string(big) + `"}}`)
		for _, chunked := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked, cut off while reading
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", r)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", s.writeKey.basic())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(raw, []byte("limit of 300000 bytes")) {
				t.Errorf("chunked=%v: HTTP %d %.200s", chunked, resp.StatusCode, raw)
			}
		}
	})
	t.Run("no GET or form or multipart operations", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/v1/graphql?query=" + "mutation%7BcancelSignatureOrder(input:%7BsignatureOrderId:%22x%22%7D)%7BsignatureOrder%7Bid%7D%7D%7D")
		if err != nil {
			t.Fatal(err)
		}
		sdl, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(sdl, []byte("type Mutation")) || bytes.Contains(sdl, []byte(`"data"`)) {
			t.Errorf("GET /v1/graphql must answer the SDL, not run an operation: %.200s", sdl)
		}
		for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"} {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(`{"query":"{ timezones }"}`))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", s.writeKey.basic())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(raw, []byte("Europe/Copenhagen")) {
				t.Errorf("Content-Type %s ran the operation", ct)
			}
		}
	})
	t.Run("malformed JSON is not echoed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(`{"query": "SECRET-DOCUMENT-BYTES`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(raw, []byte("SECRET-DOCUMENT-BYTES")) || !bytes.Contains(raw, []byte("not a JSON object")) {
			t.Errorf("malformed body answer: %s", raw)
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		deep := `{ viewer { ... on Application { signatureOrders { edges { node { signatories { signatureOrder { signatories { id } } } } } } } } }`
		resp, _ := s.graphql(t, s.writeKey.basic(), deep, nil)
		if !strings.Contains(resp.firstError(), "more than the limit of 6") {
			t.Errorf("errors[0] = %q, want the depth limit", resp.firstError())
		}
	})
	t.Run("complexity limit", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 2100; i++ {
			fmt.Fprintf(&b, " a%d: timezones", i)
		}
		b.WriteString(" }")
		resp, _ := s.graphql(t, s.writeKey.basic(), b.String(), nil)
		if !strings.Contains(resp.firstError(), "field limit of") { // 2,100 aliases: past the field limit first
			t.Errorf("errors[0] = %q, want the field limit", resp.firstError())
		}
	})
	t.Run("parser token limit", func(t *testing.T) {
		q := "{ timezones " + strings.Repeat("__typename ", 20000) + "}"
		resp, _ := s.graphql(t, s.writeKey.basic(), q, nil)
		if !strings.Contains(strings.ToLower(resp.firstError()), "token") {
			t.Errorf("errors[0] = %q, want the token limit", resp.firstError())
		}
	})
	t.Run("operability endpoints", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} { // /metrics: TestMetricsEndpoint
			resp, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(raw, []byte(want)) {
				t.Errorf("%s: HTTP %d, body lacks %q", path, resp.StatusCode, want)
			}
		}
	})
}

// TestGracefulShutdown sends SIGTERM's equivalent while a large request is still uploading: the
// request completes and the server then exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, embedded, nil)
	input := map[string]any{"input": map[string]any{"documents": []any{pdfDoc("Slow", pdftest.Make(t, 2, 400_000))}}}
	body := mustJSON(t, map[string]any{"query": createMutation, "variables": input})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.writeKey.basic())
	result := make(chan string, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(raw)
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	time.Sleep(300 * time.Millisecond) // the server is now draining
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-result; !strings.Contains(got, `"status":"OPEN"`) {
		t.Errorf("in-flight request during shutdown: %.300s", got)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestInternalErrorsAreOpaqueAndLogged breaks the blob store under a stored order: the API answers
// with an error reference only, and the log has that reference with the cause. Logs never carry the
// API secret, signatory tokens or document bytes.
func TestInternalErrorsAreOpaqueAndLogged(t *testing.T) {
	s := startServer(t, embedded, map[string]string{"LOG_LEVEL": "info"})
	doc := pdftest.Make(t, 1, 0)
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
	  createSignatureOrder(input: $input) { signatureOrder { id documents { id } signatories { token href } } } }`,
		map[string]any{"input": map[string]any{"documents": []any{pdfDoc("Doc", doc)}, "signatories": []any{map[string]any{}}}})
	if resp.firstError() != "" {
		t.Fatal(resp.firstError())
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Documents   []struct{ ID string }
				Signatories []struct{ Token, Href string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	o := created.CreateSignatureOrder.SignatureOrder
	if err := os.RemoveAll(filepath.Join(s.env["DATA_DIR"], "blobs")); err != nil {
		t.Fatal(err)
	}
	resp, _ = s.graphql(t, s.writeKey.basic(), `query($id: ID!) { document(id: $id) { ... on PdfDocument { blob } } }`, map[string]any{"id": o.Documents[0].ID})
	msg := resp.firstError()
	ref, ok := strings.CutPrefix(msg, "internal error (reference ")
	if !ok || strings.ContainsAny(msg, "/\\") || strings.Contains(msg, "blob") {
		t.Fatalf("errors[0] = %q, want an opaque internal error reference", msg)
	}
	ref = strings.TrimSuffix(ref, ")")
	// Let the access log line be written, then stop the server to read complete logs.
	time.Sleep(50 * time.Millisecond)
	logs := s.logs.String()
	if !strings.Contains(logs, ref) || !strings.Contains(logs, "no such file") && !strings.Contains(logs, "not found") {
		t.Errorf("the log does not hold reference %s with its cause:\n%s", ref, lastLines(logs, 5))
	}
	if !strings.Contains(logs, `"request_id"`) {
		t.Error("log lines carry no request_id")
	}
	for name, secret := range map[string]string{"API secret": s.writeKey.ClientSecret, "signatory token": o.Signatories[0].Token,
		"document (base64)": base64.StdEncoding.EncodeToString(doc)[:40]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
	// The signing link's path is logged redacted.
	if resp, err := http.Get(o.Signatories[0].Href); err == nil {
		resp.Body.Close()
	}
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(s.logs.String(), o.Signatories[0].Token) {
		t.Error("the access log contains a signatory token")
	}
}

// TestExplicitNullMeansAbsent sends what the Python and .NET SDKs send: null for every unset optional
// input field. The order is created with the contract's defaults.
func TestExplicitNullMeansAbsent(t *testing.T) {
	s := startServer(t, embedded, nil)
	doc := base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))
	input := map[string]any{
		"title": nil, "disableVerifyEvidenceProvider": nil, "fixDocumentFormattingErrors": nil, "maxSignatories": nil,
		"expiresInDays": nil, "expiresAt": nil, "timezone": nil, "evidenceProviders": nil, "evidenceValidationStages": nil,
		"webhook": nil, "signatureAppearance": nil,
		"ui": map[string]any{"signatoryRedirectUri": nil, "language": nil, "logo": nil, "stylesheet": nil,
			"disableRejection": nil, "enableCancel": nil, "renderPdfAnnotationLayer": nil},
		"documents": []any{map[string]any{"fixDocumentFormattingErrors": nil, "preserveOriginalStructure": nil, "xml": nil,
			"removePreviousSignatures": nil, "keepPreviousSignatures": nil,
			"pdf": map[string]any{"title": "Doc", "reference": nil, "blob": doc, "storageMode": "Temporary",
				"displayDocumentID": nil, "form": nil, "sealsPageTemplate": nil, "removeBookmarks": nil}}},
		"signatories": []any{map[string]any{"cooldownExpiresAt": nil, "signatoryRole": nil, "reference": nil, "role": nil,
			"signingAs": nil, "documents": nil, "evidenceProviders": nil, "evidenceValidation": nil,
			"signatureAppearance": nil, "ui": nil, "signingSequence": nil}},
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
	  createSignatureOrder(input: $input) { signatureOrder {
	    title maxSignatories createdAt expiresAt timezone ui { language disableRejection }
	    evidenceProviders { __typename }
	    signatories { signatoryRole signingSequence { initialNumber } documents { edges { node { id } } } }
	  } } }`, map[string]any{"input": input})
	if resp.firstError() != "" {
		t.Fatalf("explicit nulls refused: %s", resp.firstError())
	}
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				Title             *string
				MaxSignatories    int
				CreatedAt         time.Time
				ExpiresAt         time.Time
				Timezone          string
				UI                struct{ Language string }
				EvidenceProviders []struct {
					Typename string `json:"__typename"`
				}
				Signatories []struct {
					SignatoryRole   string
					SigningSequence struct{ InitialNumber int }
					Documents       struct{ Edges []any }
				}
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	o := out.CreateSignatureOrder.SignatureOrder
	sig := o.Signatories[0]
	if o.Title != nil || o.MaxSignatories != 14 || o.UI.Language != "EN_US" || o.ExpiresAt.Sub(o.CreatedAt) != 90*24*time.Hour ||
		len(o.EvidenceProviders) != 1 || sig.SignatoryRole != "SIGNER" || sig.SigningSequence.InitialNumber != 2147483647 ||
		len(sig.Documents.Edges) != 1 {
		t.Errorf("defaults not applied: %s", resp.Data)
	}
}

// TestDataLogoOnTheSigningPage: a data: logo the API accepts is shown on the signing page, allowed
// by its CSP, and not replaced by html/template's "#ZgotmplZ".
func TestDataLogoOnTheSigningPage(t *testing.T) {
	s := startServer(t, embedded, nil)
	logo := "data:image/png;base64," + base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 24)...))
	input := map[string]any{
		"documents":   []any{pdfDoc("Contract", pdftest.Make(t, 1, 0))},
		"signatories": []any{map[string]any{"reference": "one"}},
		"ui":          map[string]any{"logo": map[string]any{"src": logo, "href": "https://brand.example.com/"}},
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { ui { logo { src } } signatories { token } } } }`, map[string]any{"input": input})
	var out struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				UI          struct{ Logo struct{ Src string } }
				Signatories []struct{ Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil || resp.firstError() != "" || len(out.CreateSignatureOrder.SignatureOrder.Signatories) != 1 {
		t.Fatalf("create: %s %v", resp.Data, resp.Errors)
	}
	o := out.CreateSignatureOrder.SignatureOrder
	if o.UI.Logo.Src != logo {
		t.Errorf("ui.logo.src = %q", o.UI.Logo.Src)
	}
	page, err := http.Get(s.URL + "/sign/" + o.Signatories[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Body.Close()
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK || bytes.Contains(body, []byte("ZgotmplZ")) || !bytes.Contains(body, []byte(`src="`+logo+`"`)) {
		t.Errorf("HTTP %d; the page does not show the data: logo:\n%s", page.StatusCode, body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
		t.Errorf("CSP %q does not allow the data: logo", csp)
	}
}
