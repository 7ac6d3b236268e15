package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"esign/internal/pdf/pdftest"
	"esign/internal/testenv"
)

// TestSigningPageInBrowser drives headless Chromium through the hosted signing page: one signatory
// draws a signature, a second signs with an eID login at a real OpenID Connect provider (Dex), a
// third signs with the keyboard only; the order is closed and the PDF carries the three signatures
// and the document timestamp, all valid.
func TestSigningPageInBrowser(t *testing.T) {
	s, dex := startWithDex(t)
	done := newRedirectReceiver(t)
	bob := dex.Users[1]

	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id
			signatories { id href reference token }
			evidenceProviders { __typename id } } } }`, map[string]any{"input": map[string]any{
		"title": "Browser e2e",
		"ui":    map[string]any{"signatoryRedirectUri": done.URL + "/done"},
		"documents": []any{map[string]any{"pdf": map[string]any{"title": "Contract",
			"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 3, 0)), "storageMode": "Temporary"}}},
		"evidenceProviders": []any{
			map[string]any{"drawable": map[string]any{"requireName": true, "minimumWidth": 40, "minimumHeight": 20}},
			map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email", "uniqueEvidenceKey": "sub"}},
		},
		"signatories": []any{
			map[string]any{"reference": "alice"},
			map[string]any{"reference": "bob", "ui": map[string]any{"language": "DA_DK"},
				"evidenceValidation": []any{map[string]any{"key": "email", "value": bob.Email}}},
			map[string]any{"reference": "carol"},
		},
	}})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Signatories []struct{ ID, Href, Reference, Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	order := created.CreateSignatureOrder.SignatureOrder
	alice, bobSig, carol := order.Signatories[0], order.Signatories[1], order.Signatories[2]

	t.Run("invalid link", func(t *testing.T) {
		r, err := http.Get(s.URL + "/sign/not-a-token")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("invalid link: HTTP %d, headers %v", r.StatusCode, r.Header)
		}
	})

	t.Run("drawn signature", func(t *testing.T) {
		ctx := browserCtx(t)
		step(t, ctx, "open the page", chromedp.Navigate(alice.Href),
			chromedp.WaitVisible(chromedp.CSS(`.pdf[data-state="ready"] canvas[data-rendered]`)))
		pages := get(t, ctx, "count pages", chromedp.Evaluate[string](`document.querySelector(".pdf").dataset.pages`))
		if pages != "3" {
			t.Errorf("the viewer shows %s pages, want 3", pages)
		}
		step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`button[data-approve]`)), chromedp.WaitVisible(chromedp.CSS(`canvas.pad`)))
		// Signing without a drawing is refused in the page (and by the server).
		step(t, ctx, "name", chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Alice Andersen"))
		drawSignature(t, ctx, `canvas.pad`)
		step(t, ctx, "sign", chromedp.Click(chromedp.CSS(`button[data-sign]`)))
		waitForRedirect(t, ctx, done.URL+"/done?status=success")
	})

	t.Run("signatures seen by another signatory", func(t *testing.T) {
		// Carol sees Alice's signature on her document, without Alice's signatory (link, token).
		got := signatoryGraphQL(t, s, carol.Token, "", `{ viewer { ... on SignatoryViewer { documents { edges { node {
			... on PdfDocument { signatures { __typename signatory { id } ... on DrawableSignature { name } } } } } } } } }`)
		want := `{"data":{"viewer":{"documents":{"edges":[{"node":{"signatures":[{"__typename":"DrawableSignature","signatory":null,"name":"Alice Andersen"}]}}]}}}}`
		if got != want {
			t.Errorf("signatures seen by carol:\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("eID login at Dex", func(t *testing.T) {
		ctx := browserCtx(t)
		step(t, ctx, "open the page", chromedp.Navigate(bobSig.Href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
		lang := get(t, ctx, "language", chromedp.Evaluate[string](`document.documentElement.lang`))
		heading := get(t, ctx, "heading", chromedp.Evaluate[string](`document.querySelector("h1").textContent`))
		if lang != "da" || heading != "Dokumenter" {
			t.Errorf("page language %q, heading %q; want Danish", lang, heading)
		}
		step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`button[data-approve]`)), chromedp.WaitVisible(chromedp.CSS(`a[data-sign-login]`)))
		step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(`a[data-sign-login]`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
		dexLogin(t, ctx, bob.Email, bob.Password)
		waitForRedirect(t, ctx, done.URL+"/done?status=success")

		// The same link now says it is done, in Danish.
		step(t, ctx, "signed page", chromedp.Navigate(bobSig.Href))
		msg := get(t, ctx, "message", chromedp.Evaluate[string](`document.getElementById("message").textContent`))
		if msg != "Tak, du har underskrevet." {
			t.Errorf("signed page says %q", msg)
		}
	})

	t.Run("keyboard only", func(t *testing.T) {
		// No pointer: buttons are focused and pressed with Enter, the name is typed and written
		// into the pad by its button.
		ctx := browserCtx(t)
		press := func(name, sel string) {
			step(t, ctx, name, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter))
		}
		step(t, ctx, "open the page", chromedp.Navigate(carol.Href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
		press("approve", `button[data-approve]`)
		step(t, ctx, "wait for the pad", chromedp.WaitVisible(chromedp.CSS(`canvas.pad`)))
		press("write an empty name", `button.write-name`) // refused in the page: nothing to write
		if msg := get(t, ctx, "problem", chromedp.Evaluate[string](`document.querySelector(".form-error").textContent`)); msg != "Type your name first." {
			t.Errorf("writing an empty name says %q", msg)
		}
		step(t, ctx, "type the name", chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Carol Christensen"))
		press("write the name into the pad", `button.write-name`)
		press("sign", `button[data-sign]`)
		waitForRedirect(t, ctx, done.URL+"/done?status=success")
	})

	// Close and validate the PDF with independent validators.
	resp, _ = s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id}) {
		signatureOrder { status documents { id blob signatures { __typename signatory { reference }
			... on JWTSignature { claims { name value } } ... on DrawableSignature { name image } } } } } }`,
		map[string]any{"id": order.ID})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("closeSignatureOrder: %s", msg)
	}
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Status    string
				Documents []struct {
					ID, Blob   string
					Signatures []struct {
						Typename  string `json:"__typename"`
						Signatory struct{ Reference string }
						Claims    []struct{ Name, Value string }
						Name      string
						Image     string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &closed); err != nil {
		t.Fatal(err)
	}
	docs := closed.CloseSignatureOrder.SignatureOrder.Documents
	if len(docs) != 1 || len(docs[0].Signatures) != 3 {
		t.Fatalf("closed order: %d documents, signatures %+v", len(docs), docs[0].Signatures)
	}
	sigs := docs[0].Signatures
	if sigs[0].Typename != "DrawableSignature" || sigs[0].Signatory.Reference != "alice" || sigs[0].Name != "Alice Andersen" || sigs[0].Image == "" {
		t.Errorf("first signature: %+v", sigs[0])
	}
	claims := map[string]string{}
	for _, c := range sigs[1].Claims {
		claims[c.Name] = c.Value
	}
	if sigs[1].Typename != "JWTSignature" || sigs[1].Signatory.Reference != "bob" || claims["email"] != bob.Email || claims["iss"] != dex.Issuer {
		t.Errorf("second signature: %+v (claims %v)", sigs[1], claims)
	}
	if sigs[2].Typename != "DrawableSignature" || sigs[2].Signatory.Reference != "carol" || sigs[2].Name != "Carol Christensen" || sigs[2].Image == "" {
		t.Errorf("third signature: %+v", sigs[2])
	}
	pdf, err := base64.StdEncoding.DecodeString(docs[0].Blob)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contract.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	assertSealedPDFs(t, dir, 3, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))

	t.Run("closed order page", func(t *testing.T) {
		ctx := browserCtx(t)
		step(t, ctx, "page", chromedp.Navigate(alice.Href))
		msg := get(t, ctx, "message", chromedp.Evaluate[string](`document.getElementById("message").textContent`))
		if msg != "Thank you, you have signed." {
			t.Errorf("page after close says %q", msg)
		}
	})
}

// TestSigningPageViewStageLogin: an order with evidenceValidationStages [VIEW] shows no document until
// the signatory logged in, and the signatory API answers UnvalidatedSignatoryViewer without the login.
func TestSigningPageViewStageLogin(t *testing.T) {
	s, dex := startWithDex(t)
	alice := dex.Users[0]
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { signatories { href token } } } }`, map[string]any{"input": map[string]any{
		"documents": []any{map[string]any{"pdf": map[string]any{"title": "Secret",
			"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0)), "storageMode": "Temporary"}}},
		"evidenceValidationStages": []string{"VIEW"},
		"evidenceProviders":        []any{map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email"}}},
		"signatories":              []any{map[string]any{"evidenceValidation": []any{map[string]any{"key": "email", "value": alice.Email}}}},
	}})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				Signatories []struct{ Href, Token string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	sig := created.CreateSignatureOrder.SignatureOrder.Signatories[0]

	// The signatory API without Signatory-Validation: unvalidated, and no document bytes.
	viewer := signatoryGraphQL(t, s, sig.Token, "", `{ viewer { __typename } }`)
	if !strings.Contains(viewer, `"UnvalidatedSignatoryViewer"`) {
		t.Errorf("viewer without validation: %s", viewer)
	}

	ctx := browserCtx(t)
	step(t, ctx, "open the page", chromedp.Navigate(sig.Href), chromedp.WaitVisible(chromedp.CSS(`a[data-login]`)))
	docs := get(t, ctx, "count documents", chromedp.Evaluate[int](`document.querySelectorAll("section.document").length`))
	if docs != 0 {
		t.Errorf("%d documents shown before the login", docs)
	}
	// Bob is not the person this signatory must be: the login completes at Dex but is refused here.
	bob := dex.Users[1]
	step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(`a[data-login]`)))
	dexLogin(t, ctx, bob.Email, bob.Password)
	step(t, ctx, "refused", chromedp.WaitVisible(chromedp.CSS(`#error`)))
	step(t, ctx, "go to the provider again", chromedp.Navigate(sig.Href), chromedp.Click(chromedp.CSS(`a[data-login]`)))
	dexLogin(t, ctx, alice.Email, alice.Password)
	step(t, ctx, "the documents", chromedp.WaitVisible(chromedp.CSS(`.pdf[data-state="ready"]`)))
}

// dexLogin logs in at Dex's password page, which the browser is on or on its way to. The fields
// are filled and the form submitted in one script: Dex's page is not the one under test, and typing
// into it node by node failed now and then under load when a node went stale between two steps.
func dexLogin(t *testing.T, ctx context.Context, email, password string) {
	t.Helper()
	step(t, ctx, "Dex's login page", chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitReady(chromedp.CSS(`body`)))
	get(t, ctx, "log in at Dex", chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector("input[name=password]").form;
		f.querySelector("input[name=login]").value = `+jsString(email)+`;
		f.querySelector("input[name=password]").value = `+jsString(password)+`;
		f.submit();
		return true;
	})()`))
}

// startWithDex starts a Dex and a server whose criiptoVerify provider is that Dex (skipped in -short).
func startWithDex(t *testing.T) (*testServer, testenv.DexProvider) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	addr := freeAddr(t)
	dex := testenv.Dex(t, "http://"+addr+"/sign/callback")
	s := startServer(t, embedded, map[string]string{
		"ADDR": addr, "PUBLIC_URL": "http://" + addr,
		"VERIFY_DOMAIN": dex.Issuer, "VERIFY_CLIENT_ID": dex.ClientID, "OIDC_ALLOW_HTTP_ISSUERS": "true",
	})
	return s, dex
}

func browserCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(testenv.Browser(t), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// step runs browser actions and fails the test with where the browser is and what it shows.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, pageState(ctx))
	}
}

func get[T any](t *testing.T, ctx context.Context, name string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, pageState(ctx))
	}
	return v
}

func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return fmt.Sprintf("at %s the page says: %.2000s", loc, text)
}

// drawSignature drags the mouse across the canvas in a zigzag.
func drawSignature(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	type rect struct{ X, Y, W, H float64 }
	step(t, ctx, "scroll to the pad", chromedp.ScrollIntoView(chromedp.CSS(sel)))
	box := get(t, ctx, "find the pad", chromedp.Evaluate[rect](fmt.Sprintf(
		`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`, sel)))
	x0, y := box.X+box.W*0.15, box.Y+box.H*0.5
	actions := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y, chromedp.ButtonLeft)}
	for i := 1; i <= 20; i++ {
		dy := box.H * 0.25
		if i%2 == 0 {
			dy = -dy
		}
		actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+float64(i)*box.W*0.035, y+dy, chromedp.ButtonLeft))
	}
	actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x0+20*box.W*0.035, y, chromedp.ButtonLeft))
	step(t, ctx, "draw", actions...)
}

func waitForRedirect(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && loc == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the browser did not reach %s\n%s", want, pageState(ctx))
}

// redirectReceiver stands for the integrator's page at signatoryRedirectUri.
func newRedirectReceiver(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!doctype html><title>done</title><p id=status>%s</p>", r.URL.Query().Get("status"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// signatoryGraphQL posts a query with Signatory-Token (and Signatory-Validation when given).
func signatoryGraphQL(t *testing.T, s *testServer, token, validation, query string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Signatory-Token", token)
	if validation != "" {
		req.Header.Set("Signatory-Validation", validation)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return string(out)
}
