package main

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf/pdftest"
)

// tenantCredentials is what `esign tenant create` and `esign tenant key create` print.
type tenantCredentials struct {
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func (c tenantCredentials) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ClientID+":"+c.ClientSecret))
}

func createTenant(t *testing.T, s *testServer, name string) tenantCredentials {
	t.Helper()
	var c tenantCredentials
	if err := json.Unmarshal([]byte(runCommand(t, s.env, "tenant", "create", "--name", name)), &c); err != nil {
		t.Fatalf("tenant create output: %v", err)
	}
	if c.TenantID == "" || !strings.HasPrefix(c.ClientID, "tenant-") || len(c.ClientSecret) < 40 {
		t.Fatalf("tenant create printed %+v", c)
	}
	return c
}

// gqlData runs an operation that must succeed and decodes its data into out.
func gqlData(t *testing.T, s *testServer, auth, query string, vars map[string]any, out any) {
	t.Helper()
	resp, _ := s.graphql(t, auth, query, vars)
	if len(resp.Errors) > 0 {
		t.Fatalf("%.60s...: %s", strings.TrimSpace(query), resp.firstError())
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		t.Fatalf("decode %s: %v", resp.Data, err)
	}
}

// gqlError runs an operation that must fail and returns the first error's message.
func gqlError(t *testing.T, s *testServer, auth, query string, vars map[string]any) string {
	t.Helper()
	resp, _ := s.graphql(t, auth, query, vars)
	if len(resp.Errors) == 0 {
		t.Fatalf("%.60s...: no error, data %s", strings.TrimSpace(query), resp.Data)
	}
	return resp.firstError()
}

type issuedKey struct {
	ID           string
	ClientID     string
	ClientSecret *string
	Mode         string
	Note         *string
}

func (k issuedKey) basic() string {
	secret := ""
	if k.ClientSecret != nil {
		secret = *k.ClientSecret
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(k.ClientID+":"+secret))
}

const (
	createApplicationOp = `mutation($input: CreateApplicationInput!) { createApplication(input: $input) {
	  application { id name verifyApplication { domain realm environment } }
	  apiKey { id clientId clientSecret mode note }
	  tenant { id } } }`
	createKeyOp = `mutation($input: CreateApplicationApiKeyInput!) { createApplicationApiKey(input: $input) {
	  application { id } apiKey { id clientId clientSecret mode note } } }`
	refreshKeyOp = `mutation($input: RefreshApplicationApiKeyInput!) { refreshApplicationApiKey(input: $input) {
	  application { id } apiKey { id clientId clientSecret mode note } } }`
	deleteKeyOp = `mutation($input: DeleteApplicationApiKeyInput!) { deleteApplicationApiKey(input: $input) { application { id } } }`
	viewerOp    = `{ viewer { __typename ... on Application { id } } }`
)

// TestTenantAPI drives the tenant level end to end in both modes: the CLI makes a tenant; its key
// creates an application and keys over GraphQL; the application key works until refreshed (the old
// secret at once refused) and deleted; the tenant lists its applications; and neither kind of key
// reaches the other's level.
func TestTenantAPI(t *testing.T) {
	for _, m := range []mode{embedded, production} {
		t.Run(string(m), func(t *testing.T) {
			s := startServer(t, m, map[string]string{"VERIFY_DOMAIN": "broker.example.test", "VERIFY_CLIENT_ID": "esign-broker"})
			testTenantAPI(t, s)
		})
	}
}

func testTenantAPI(t *testing.T, s *testServer) {
	acme := createTenant(t, s, "Acme")
	other := createTenant(t, s, "Other")
	// A second key of the tenant, as an operator hands one to another system.
	var second tenantCredentials
	if err := json.Unmarshal([]byte(runCommand(t, s.env, "tenant", "key", "create", "--tenant", acme.TenantID, "--note", "ci")), &second); err != nil {
		t.Fatal(err)
	}
	if second.TenantID != acme.TenantID || second.ClientID == acme.ClientID {
		t.Fatalf("tenant key create printed %+v", second)
	}

	newApp := func(tenantID, name, domain string) map[string]any {
		return map[string]any{"input": map[string]any{"applicationId": "ignored", "tenantId": tenantID, "name": name,
			"verifyApplicationDomain": domain, "verifyApplicationRealm": "urn:" + name, "verifyApplicationEnvironment": "TEST"}}
	}
	var created struct {
		CreateApplication struct {
			Application struct {
				ID, Name          string
				VerifyApplication struct{ Domain, Realm, Environment string }
			}
			APIKey issuedKey
			Tenant struct{ ID string }
		}
	}
	gqlData(t, s, second.basic(), createApplicationOp, newApp(acme.TenantID, "Shop", "acme.idura.broker"), &created)
	app := created.CreateApplication
	if app.Tenant.ID != acme.TenantID || app.Application.Name != "Shop" || app.APIKey.ClientSecret == nil ||
		app.APIKey.Mode != "READ_WRITE" {
		t.Fatalf("createApplication answered %+v", app)
	}
	// The broker every application's criiptoVerify providers use: the service's own.
	if v := app.Application.VerifyApplication; v.Domain != "broker.example.test" || v.Realm != "esign-broker" || v.Environment != "TEST" {
		t.Fatalf("verifyApplication = %+v, want the configured broker in TEST", v)
	}
	appID := app.Application.ID
	firstKey := app.APIKey

	for name, tc := range map[string]struct {
		vars map[string]any
		want string
	}{
		"another tenant's id": {newApp(other.TenantID, "Sneaky", "x"), "no tenant with id"},
		"a taken name":        {newApp(acme.TenantID, "Shop", "x"), "exists already"},
		"an empty name":       {newApp(acme.TenantID, " ", "x"), "name"},
	} {
		if msg := gqlError(t, s, acme.basic(), createApplicationOp, tc.vars); !strings.Contains(msg, tc.want) {
			t.Errorf("createApplication with %s: %q, want it to say %q", name, msg, tc.want)
		}
	}

	var made struct{ CreateApplicationApiKey struct{ APIKey issuedKey } }
	gqlData(t, s, acme.basic(), createKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "mode": "READ_WRITE", "note": "orders"}}, &made)
	key := made.CreateApplicationApiKey.APIKey
	if key.ClientSecret == nil || key.Note == nil || *key.Note != "orders" || key.ClientID == firstKey.ClientID {
		t.Fatalf("createApplicationApiKey answered %+v", key)
	}
	var readOnly struct{ CreateApplicationApiKey struct{ APIKey issuedKey } }
	gqlData(t, s, acme.basic(), createKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "mode": "READ_ONLY"}}, &readOnly)
	if readOnly.CreateApplicationApiKey.APIKey.Mode != "READ_ONLY" {
		t.Fatalf("READ_ONLY key came back as %+v", readOnly.CreateApplicationApiKey.APIKey)
	}
	if msg := gqlError(t, s, other.basic(), createKeyOp, map[string]any{"input": map[string]any{"applicationId": appID}}); !strings.Contains(msg, "no application with id") {
		t.Errorf("another tenant creating a key: %q", msg)
	}

	// The new key is the application's: it creates an order.
	var order struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Application struct{ ID string }
			}
		}
	}
	gqlData(t, s, key.basic(), `mutation($input: CreateSignatureOrderInput!) { createSignatureOrder(input: $input) {
	  signatureOrder { id application { id } } } }`,
		map[string]any{"input": map[string]any{"documents": []any{pdfDoc("Contract", pdftest.Make(t, 1, 0))}}}, &order)
	if order.CreateSignatureOrder.SignatureOrder.Application.ID != appID {
		t.Fatalf("order made with the new key belongs to %+v, want %s", order.CreateSignatureOrder.SignatureOrder.Application, appID)
	}
	// The application key lists its keys without secrets; the tenant sees the same list.
	keyListOp := `query($id: ID) { application(id: $id) { id apiKeys { id clientId clientSecret mode note } } }`
	var appKeys, tenantKeys struct{ Application struct{ APIKeys []issuedKey } }
	gqlData(t, s, key.basic(), keyListOp, map[string]any{"id": appID}, &appKeys)
	gqlData(t, s, acme.basic(), keyListOp, map[string]any{"id": appID}, &tenantKeys)
	if len(appKeys.Application.APIKeys) != 3 || !slices.EqualFunc(appKeys.Application.APIKeys, tenantKeys.Application.APIKeys,
		func(a, b issuedKey) bool { return a.ID == b.ID && a.ClientSecret == nil && b.ClientSecret == nil }) {
		t.Fatalf("keys listed: application %+v, tenant %+v; want the same 3, no secrets", appKeys, tenantKeys)
	}

	// Refresh: the same client id, a new secret; the old secret is refused at once.
	var refreshed struct{ RefreshApplicationApiKey struct{ APIKey issuedKey } }
	gqlData(t, s, acme.basic(), refreshKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "apiKeyId": key.ID}}, &refreshed)
	newKey := refreshed.RefreshApplicationApiKey.APIKey
	if newKey.ClientID != key.ClientID || newKey.ClientSecret == nil || *newKey.ClientSecret == *key.ClientSecret {
		t.Fatalf("refresh answered %+v (was %+v)", newKey, key)
	}
	if msg := gqlError(t, s, key.basic(), viewerOp, nil); msg != "Unauthorized access" {
		t.Errorf("old secret after refresh: %q", msg)
	}
	var viewer struct{ Viewer struct{ ID string } }
	gqlData(t, s, newKey.basic(), viewerOp, nil, &viewer)
	if viewer.Viewer.ID != appID {
		t.Fatalf("new secret is application %q, want %s", viewer.Viewer.ID, appID)
	}
	if msg := gqlError(t, s, other.basic(), refreshKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "apiKeyId": key.ID}}); !strings.Contains(msg, "no application with id") {
		t.Errorf("another tenant refreshing: %q", msg)
	}
	// A key of another application of the same tenant is not this application's to refresh.
	if msg := gqlError(t, s, acme.basic(), refreshKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "apiKeyId": "nope"}}); !strings.Contains(msg, "no api key with id") {
		t.Errorf("refreshing an unknown key: %q", msg)
	}

	// Delete: the key is refused at once.
	var deleted struct {
		DeleteApplicationApiKey struct{ Application struct{ ID string } }
	}
	gqlData(t, s, acme.basic(), deleteKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "apiKeyId": key.ID}}, &deleted)
	if deleted.DeleteApplicationApiKey.Application.ID != appID {
		t.Fatalf("delete answered %+v", deleted)
	}
	if msg := gqlError(t, s, newKey.basic(), viewerOp, nil); msg != "Unauthorized access" {
		t.Errorf("deleted key: %q", msg)
	}
	if msg := gqlError(t, s, acme.basic(), deleteKeyOp, map[string]any{"input": map[string]any{"applicationId": appID, "apiKeyId": key.ID}}); !strings.Contains(msg, "no api key with id") {
		t.Errorf("deleting again: %q", msg)
	}
	gqlData(t, s, firstKey.basic(), viewerOp, nil, &viewer) // the application's other keys still work

	// The CLI attaches an application made before tenants; then the tenant lists both.
	runCommand(t, s.env, "tenant", "attach", "--tenant", acme.TenantID, "--application", s.writeKey.ApplicationID)
	var backOffice struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	gqlData(t, s, second.basic(), createApplicationOp, newApp(acme.TenantID, "Back office", "other.idura.broker"), &backOffice)
	tenantOp := `query($id: ID!, $domain: String, $from: String!, $to: String!) { tenant(id: $id) { id
	  all: applications { id name tenant { id } }
	  filtered: applications(domain: $domain) { id }
	  webhookLogs(from: $from, to: $to) { __typename } } }`
	now := time.Now().UTC()
	tenantVars := map[string]any{"id": acme.TenantID, "domain": "acme.idura.broker",
		"from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Add(time.Hour).Format(time.RFC3339)}
	var listed struct {
		Tenant *struct {
			ID  string
			All []struct {
				ID, Name string
				Tenant   struct{ ID string }
			}
			Filtered    []struct{ ID string }
			WebhookLogs []any
		}
	}
	gqlData(t, s, acme.basic(), tenantOp, tenantVars, &listed)
	if listed.Tenant == nil || len(listed.Tenant.All) != 3 || len(listed.Tenant.Filtered) != 1 || listed.Tenant.Filtered[0].ID != appID ||
		listed.Tenant.WebhookLogs == nil {
		t.Fatalf("tenant answered %+v", listed.Tenant)
	}
	var names []string
	for _, a := range listed.Tenant.All {
		names = append(names, a.Name)
		if a.Tenant.ID != acme.TenantID {
			t.Errorf("application %s says its tenant is %q", a.Name, a.Tenant.ID)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Back office", "Shop", "e2e"}) {
		t.Errorf("tenant's applications: %v", names)
	}
	if msg := gqlError(t, s, acme.basic(), tenantOp, map[string]any{"id": acme.TenantID, "from": "yesterday", "to": "today"}); !strings.Contains(msg, "from") {
		t.Errorf("webhookLogs with a bad bound: %q", msg)
	}
	// Another tenant's id answers as an unknown one; so do another tenant's applications.
	gqlData(t, s, other.basic(), tenantOp, tenantVars, &listed)
	if listed.Tenant != nil {
		t.Errorf("another tenant read tenant %s: %+v", acme.TenantID, listed.Tenant)
	}
	var found struct{ Application *struct{ ID string } }
	byVerify := map[string]any{"v": map[string]any{"tenantId": acme.TenantID, "domain": "acme.idura.broker", "realm": "urn:Shop"}}
	gqlData(t, s, acme.basic(), `query($v: VerifyApplicationQueryInput) { application(verifyApplication: $v) { id } }`, byVerify, &found)
	if found.Application == nil || found.Application.ID != appID {
		t.Errorf("application(verifyApplication:) = %+v, want %s", found.Application, appID)
	}
	for name, auth := range map[string]string{"another tenant": other.basic(), "another application's key": s.writeKey.basic()} {
		gqlData(t, s, auth, `query($id: ID) { application(id: $id) { id } }`, map[string]any{"id": appID}, &found)
		if found.Application != nil {
			t.Errorf("%s read application %s", name, appID)
		}
		gqlData(t, s, auth, `query($v: VerifyApplicationQueryInput) { application(verifyApplication: $v) { id } }`, byVerify, &found)
		if found.Application != nil {
			t.Errorf("%s found application %s by its Verify application", name, appID)
		}
	}

	// An application key sees its broker but not its tenant.
	var own struct {
		Application struct {
			Tenant            *struct{ ID string }
			VerifyApplication struct{ Domain, Realm string }
		}
	}
	gqlData(t, s, firstKey.basic(), `query($id: ID) { application(id: $id) { tenant { id } verifyApplication { domain realm } } }`,
		map[string]any{"id": appID}, &own)
	if own.Application.Tenant != nil || own.Application.VerifyApplication.Realm != "esign-broker" {
		t.Errorf("application key's own application: %+v", own.Application)
	}

	testRootFieldsByCaller(t, s, acme, firstKey, appID)
}

// rootFieldCase is one root field, an operation that reaches its resolver, and who may ask it.
type rootFieldCase struct {
	op string
	// tenant: a tenant key gets an answer (else "Unauthorized access"); application: an application
	// key gets past authentication (else "Unauthorized access").
	tenant, application bool
}

// testRootFieldsByCaller asks every root field of the schema (read by introspection, so a new field
// fails here until it is in the table) with a tenant key and with an application key: a tenant key
// is refused at every application field, an application key at every tenant field.
func testRootFieldsByCaller(t *testing.T, s *testServer, ten tenantCredentials, appKey issuedKey, appID string) {
	const sig = `"sig-x"`
	cases := map[string]rootFieldCase{
		"Query.application":    {op: `{ application(id: "` + appID + `") { id } }`, tenant: true, application: true},
		"Query.batchSignatory": {op: `{ batchSignatory(id: "x") { id } }`, application: true},
		"Query.document":       {op: `{ document(id: "x") { id } }`, application: true},
		"Query.signatory":      {op: `{ signatory(id: "x") { id } }`, application: true},
		"Query.signatureOrder": {op: `{ signatureOrder(id: "x") { id } }`, application: true},
		"Query.tenant":         {op: `{ tenant(id: "` + ten.TenantID + `") { id } }`, tenant: true},
		"Query.timezones":      {op: `{ timezones }`, tenant: true, application: true}, // public
		"Query.viewer":         {op: viewerOp, application: true},

		"Mutation.addSignatories":        {op: `mutation { addSignatories(input: {signatureOrderId: "x", signatories: [{}]}) { __typename } }`, application: true},
		"Mutation.addSignatory":          {op: `mutation { addSignatory(input: {signatureOrderId: "x"}) { __typename } }`, application: true},
		"Mutation.cancelSignatureOrder":  {op: `mutation { cancelSignatureOrder(input: {signatureOrderId: "x"}) { __typename } }`, application: true},
		"Mutation.changeSignatory":       {op: `mutation { changeSignatory(input: {signatoryId: "x"}) { __typename } }`, application: true},
		"Mutation.changeSignatureOrder":  {op: `mutation { changeSignatureOrder(input: {signatureOrderId: "x"}) { __typename } }`, application: true},
		"Mutation.cleanupSignatureOrder": {op: `mutation { cleanupSignatureOrder(input: {signatureOrderId: "x"}) { __typename } }`, application: true},
		"Mutation.closeSignatureOrder":   {op: `mutation { closeSignatureOrder(input: {signatureOrderId: "x"}) { __typename } }`, application: true},
		"Mutation.createBatchSignatory": {op: `mutation { createBatchSignatory(input: {items: [{signatoryId: ` + sig + `, signatureOrderId: "x"}]}) { __typename } }`,
			application: true},
		"Mutation.createSignatureOrder":       {op: `mutation { createSignatureOrder(input: {documents: []}) { __typename } }`, application: true},
		"Mutation.deleteSignatory":            {op: `mutation { deleteSignatory(input: {signatureOrderId: "x", signatoryId: "y"}) { __typename } }`, application: true},
		"Mutation.extendSignatureOrder":       {op: `mutation { extendSignatureOrder(input: {signatureOrderId: "x", additionalExpirationInDays: 1}) { __typename } }`, application: true},
		"Mutation.retrySignatureOrderWebhook": {op: `mutation { retrySignatureOrderWebhook(input: {signatureOrderId: "x", retryPayload: "y"}) { __typename } }`, application: true},
		"Mutation.signActingAs":               {op: `mutation { signActingAs(input: {signatoryId: "x", evidence: {id: "y"}}) { __typename } }`, application: true},
		"Mutation.validateDocument":           {op: `mutation { validateDocument(input: {}) { __typename } }`, application: true},

		// The signing page's: a signatory token, neither kind of key.
		"Mutation.completeCriiptoVerifyEvidenceProvider": {op: `mutation { completeCriiptoVerifyEvidenceProvider(input: {code: "c", state: "s"}) { __typename } }`},
		"Mutation.rejectSignatureOrder":                  {op: `mutation { rejectSignatureOrder(input: {dummy: true}) { __typename } }`},
		"Mutation.sign":                                  {op: `mutation { sign(input: {id: "x"}) { __typename } }`},
		"Mutation.signatoryBeacon":                       {op: `mutation { signatoryBeacon(input: {lastActionAt: "2026-01-01T00:00:00Z"}) { __typename } }`},
		"Mutation.startCriiptoVerifyEvidenceProvider":    {op: `mutation { startCriiptoVerifyEvidenceProvider(input: {id: "x", acrValue: "a", redirectUri: "https://example.com/", stage: VIEW}) { __typename } }`},
		"Mutation.trackSignatory":                        {op: `mutation { trackSignatory(input: {event: SIGN_LINK_OPENED}) { __typename } }`},
		"Mutation.updateSignatoryDocumentStatus":         {op: `mutation { updateSignatoryDocumentStatus(input: {documentId: "x", status: OPENED}) { __typename } }`},

		"Mutation.createApplication": {op: `mutation { createApplication(input: {applicationId: "a", tenantId: "` + ten.TenantID + `", name: "Via table",
		  verifyApplicationRealm: "r", verifyApplicationDomain: "d", verifyApplicationEnvironment: TEST}) { __typename } }`, tenant: true},
		"Mutation.createApplicationApiKey":  {op: `mutation { createApplicationApiKey(input: {applicationId: "` + appID + `"}) { __typename } }`, tenant: true},
		"Mutation.refreshApplicationApiKey": {op: `mutation { refreshApplicationApiKey(input: {applicationId: "` + appID + `", apiKeyId: "none"}) { __typename } }`, tenant: true},
		"Mutation.deleteApplicationApiKey":  {op: `mutation { deleteApplicationApiKey(input: {applicationId: "` + appID + `", apiKeyId: "none"}) { __typename } }`, tenant: true},
	}

	var schema struct {
		Schema struct {
			QueryType, MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	gqlData(t, s, "", `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil, &schema)
	var roots []string
	for _, f := range schema.Schema.QueryType.Fields {
		roots = append(roots, "Query."+f.Name)
	}
	for _, f := range schema.Schema.MutationType.Fields {
		roots = append(roots, "Mutation."+f.Name)
	}
	for _, root := range roots {
		if _, ok := cases[root]; !ok {
			t.Errorf("root field %s is not in the table: say who may ask it", root)
		}
	}
	for root, tc := range cases {
		if !slices.Contains(roots, root) {
			t.Errorf("table names %s, which the schema does not have", root)
			continue
		}
		for _, who := range []struct {
			name    string
			auth    string
			allowed bool
		}{{"tenant key", ten.basic(), tc.tenant}, {"application key", appKey.basic(), tc.application}} {
			resp, _ := s.graphql(t, who.auth, tc.op, nil)
			refused := false
			for _, e := range resp.Errors {
				refused = refused || e.Message == "Unauthorized access"
			}
			switch {
			case who.allowed && refused:
				t.Errorf("%s with a %s: refused (%s)", root, who.name, resp.firstError())
			case !who.allowed && !refused:
				t.Errorf("%s with a %s: not refused; data %s, errors %v", root, who.name, resp.Data, resp.Errors)
			}
		}
	}
}
