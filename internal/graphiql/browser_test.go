package graphiql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"esign/internal/graphiql/graphiqltest"
	"esign/internal/testenv"
)

// fakeAPI is a stand-in for /v1/graphql: it answers GraphiQL's introspection with a tiny schema
// (Query.viewer: Viewer, a union of Application) and any other operation with one viewer, and
// records what it was sent.
type fakeAPI struct {
	mu       sync.Mutex
	received []receivedRequest
}

type receivedRequest struct {
	Authorization string
	Query         string
	OperationName string
	Introspection bool
}

const fakeAppName = "GraphiQL test application"

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "Content-Type "+ct+", want application/json", http.StatusUnsupportedMediaType)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	introspection := strings.Contains(body.Query, "__schema")
	f.mu.Lock()
	f.received = append(f.received, receivedRequest{
		Authorization: r.Header.Get("Authorization"),
		Query:         body.Query,
		OperationName: body.OperationName,
		Introspection: introspection,
	})
	f.mu.Unlock()

	var answer any
	if introspection {
		answer = map[string]any{"data": map[string]any{"__schema": introspectionSchema()}}
	} else {
		answer = map[string]any{"data": map[string]any{"viewer": map[string]any{
			"__typename": "Application", "id": "app-1", "name": fakeAppName,
		}}}
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(answer); err != nil {
		panic(err) // the test's own value always encodes
	}
}

// operations returns the non-introspection requests received so far.
func (f *fakeAPI) operations() []receivedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []receivedRequest
	for _, r := range f.received {
		if !r.Introspection {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeAPI) introspections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.received {
		if r.Introspection {
			n++
		}
	}
	return n
}

// introspectionSchema is the introspection answer for:
//
//	type Query { viewer: Viewer }
//	union Viewer = Application
//	type Application { id: ID!, name: String! }
func introspectionSchema() map[string]any {
	named := func(kind, name string) map[string]any {
		return map[string]any{"kind": kind, "name": name, "ofType": nil}
	}
	nonNull := func(of map[string]any) map[string]any {
		return map[string]any{"kind": "NON_NULL", "name": nil, "ofType": of}
	}
	field := func(name string, typ map[string]any) map[string]any {
		return map[string]any{
			"name": name, "description": nil, "args": []any{}, "type": typ,
			"isDeprecated": false, "deprecationReason": nil,
		}
	}
	typ := func(kind, name string, fields, possible []any) map[string]any {
		t := map[string]any{
			"kind": kind, "name": name, "description": nil, "specifiedByURL": nil,
			"fields": nil, "inputFields": nil, "interfaces": nil, "enumValues": nil, "possibleTypes": nil,
		}
		if kind == "OBJECT" {
			t["fields"], t["interfaces"] = fields, []any{}
		}
		if kind == "UNION" {
			t["possibleTypes"] = possible
		}
		return t
	}
	return map[string]any{
		"description":      nil,
		"queryType":        map[string]any{"name": "Query"},
		"mutationType":     nil,
		"subscriptionType": nil,
		"directives":       []any{},
		"types": []any{
			typ("OBJECT", "Query", []any{field("viewer", named("UNION", "Viewer"))}, nil),
			typ("UNION", "Viewer", nil, []any{named("OBJECT", "Application")}),
			typ("OBJECT", "Application", []any{
				field("id", nonNull(named("SCALAR", "ID"))),
				field("name", nonNull(named("SCALAR", "String"))),
			}, nil),
			typ("SCALAR", "ID", nil, nil),
			typ("SCALAR", "String", nil, nil),
			typ("SCALAR", "Boolean", nil, nil),
		},
	}
}

// pageLog collects what the tab loaded and what it complained about.
type pageLog struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	requests []string // every URL the page asked for
	failures []string // requests that failed or answered >= 400
	errors   []string // console errors, uncaught exceptions, CSP violations
}

func (p *pageLog) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.urls[ev.RequestID] = ev.Request.URL
		p.requests = append(p.requests, ev.Request.URL)
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.failures = append(p.failures, ev.Response.URL+": HTTP "+ev.Response.StatusText)
		}
	case *network.EventLoadingFailed:
		p.failures = append(p.failures, p.urls[ev.RequestID]+": "+ev.ErrorText+" "+string(ev.BlockedReason))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.errors = append(p.errors, string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *runtime.EventExceptionThrown:
		p.errors = append(p.errors, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			p.errors = append(p.errors, "console.error: "+strings.Join(args, " "))
		}
	}
}

func exceptionDescription(ev *runtime.EventExceptionThrown) string {
	if ev.ExceptionDetails.Exception != nil {
		return ev.ExceptionDetails.Exception.Description
	}
	return ""
}

// isLoopback reports whether a request URL stays on this machine (data: URLs are the fonts and
// icons inlined in graphiql.min.css).
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "data" {
		return true
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

func TestGraphiQLInChromium(t *testing.T) {
	requireAssets(t)
	api := &fakeAPI{}
	srv := newServer(t, Handler("/v1/graphql"), map[string]http.Handler{"POST /v1/graphql": api})
	pageURL := srv.URL + Path

	ctx := testenv.Browser(t)
	plog := &pageLog{urls: make(map[network.RequestID]string)}
	if err := chromedp.Listen(ctx, plog.listen); err != nil {
		t.Fatal(err)
	}

	// Record the page's CSP violations from a script that runs before the page's own (the CSP does
	// not apply to it), so that a blocked inline style or eval is seen even when it fails quietly.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = [];
			document.addEventListener('securitypolicyviolation', (e) =>
				window.cspViolations.push(e.effectiveDirective + ' blocked ' + e.blockedURI + ' ' + (e.sample || '')));`,
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := graphiqltest.Open(ctx, pageURL); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "Loading") {
		t.Errorf("page still says Loading:\n%s", text)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("auth-note")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Basic base64(clientId:clientSecret)", "esign apikey create --application NAME"} {
		if !strings.Contains(note, want) {
			t.Errorf("note above the editor lacks %q: %q", want, note)
		}
	}

	editors, err := graphiqltest.ReadEditors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = "Basic <base64 of clientId:clientSecret>"
	if !strings.Contains(editors.Headers, `"Authorization": "`+placeholder+`"`) {
		t.Errorf("headers editor = %q, want the Authorization placeholder", editors.Headers)
	}
	for _, want := range []string{"viewer {", "__typename", "... on Application {", "id", "name"} {
		if !strings.Contains(editors.Query, want) {
			t.Errorf("default query lacks %q:\n%s", want, editors.Query)
		}
	}

	// Run the default query as it is, with a click on the run button.
	result, err := graphiqltest.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, fakeAppName) {
		t.Errorf("result pane = %q, want the application from the API", result)
	}
	ops := api.operations()
	if len(ops) != 1 {
		t.Fatalf("API got %d operations, want 1: %+v", len(ops), ops)
	}
	if ops[0].Authorization != placeholder {
		t.Errorf("API got Authorization %q, want the editor's %q", ops[0].Authorization, placeholder)
	}
	if !strings.Contains(ops[0].Query, "... on Application") || ops[0].OperationName != "Viewer" {
		t.Errorf("API got operation %q %q, want the default query", ops[0].OperationName, ops[0].Query)
	}

	checkCSP(t, ctx)

	// Keep a picture of what a person sees first: the default query, the placeholder, the answer.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "graphiql.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// GraphiQL's dialogs (here the settings) inject a <style> element when they open, which is why
	// the CSP allows inline styles. The settings must not offer to persist headers.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Open settings dialog"]`))); err != nil {
		t.Fatal(err)
	}
	dialog, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".graphiql-dialog")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dialog, "Persist headers") {
		t.Errorf("settings offer to persist headers:\n%s", dialog)
	}
	checkCSP(t, ctx)

	// The helper for end-to-end tests: a real-looking key and another query.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("client-id:client-secret"))
	result, err = graphiqltest.RunQuery(ctx, pageURL, auth, "{ viewer { __typename } }")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Data struct {
			Viewer struct {
				Typename string `json:"__typename"`
			} `json:"viewer"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(result), &answer); err != nil || answer.Data.Viewer.Typename != "Application" {
		t.Errorf("RunQuery result %q (%v), want JSON with viewer.__typename Application", result, err)
	}
	ops = api.operations()
	if len(ops) != 2 {
		t.Fatalf("API got %d operations, want 2: %+v", len(ops), ops)
	}
	if last := ops[1]; last.Authorization != auth || last.Query != "{ viewer { __typename } }" {
		t.Errorf("API got %+v, want Authorization %q and the query set by RunQuery", last, auth)
	}
	checkCSP(t, ctx)
	if api.introspections() == 0 {
		t.Error("GraphiQL never introspected the schema")
	}

	plog.mu.Lock()
	defer plog.mu.Unlock()
	for _, f := range plog.failures {
		t.Errorf("request failed: %s", f)
	}
	for _, e := range plog.errors {
		t.Errorf("page error: %s", e)
	}
	loaded := strings.Join(plog.requests, "\n")
	for _, name := range []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css", "graphiql-init.js", "graphiql-page.css"} {
		if !strings.Contains(loaded, Path+"assets/"+name+"?v=") {
			t.Errorf("page did not load %s; it loaded:\n%s", name, loaded)
		}
	}
	for _, u := range plog.requests {
		if !isLoopback(u) {
			t.Errorf("page asked for a non-loopback URL: %.100s", u)
		}
	}
}

// checkCSP fails the test for each CSP violation recorded on the current page.
func checkCSP(t *testing.T, ctx context.Context) {
	t.Helper()
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
	if err != nil {
		t.Fatalf("read CSP violations: %v", err)
	}
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
}

// TestRunQueryAssetsNotBuilt checks that the helper says why when the page is the 503 one.
func TestRunQueryAssetsNotBuilt(t *testing.T) {
	h, err := newHandler("/v1/graphql", fstest.MapFS{"README.md": {Data: []byte("readme")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, http.StripPrefix("/graphiql", h), nil)
	ctx := testenv.Browser(t)
	_, err = graphiqltest.RunQuery(ctx, srv.URL+Path, "Basic eDp5", "{ viewer { __typename } }")
	if err == nil || !strings.Contains(err.Error(), "make assets") {
		t.Errorf("RunQuery on the 503 page: error %v, want one quoting the page's advice to run make assets", err)
	}
}
