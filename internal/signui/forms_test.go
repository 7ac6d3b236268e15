package signui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

// recordingSigning is the real service (orders, views, the form listed from the PDF) whose Sign
// records what the page sent, and refuses the note field's value when refuseNote is set, as the
// document does with a value it cannot hold.
type recordingSigning struct {
	*signing.Service
	signed     []signing.SignInput
	refuseNote bool
}

func (r *recordingSigning) Sign(_ context.Context, _ signing.SignatoryPrincipal, in signing.SignInput) (*order.SignatureOrder, *order.Signatory, error) {
	r.signed = append(r.signed, in)
	if r.refuseNote {
		for i, d := range in.Documents {
			for j, f := range d.Fields {
				if f.Field == "note" {
					return nil, nil, fault.Invalid(fmt.Sprintf("documents[%d].form.fields[%d]", i, j), `"note" cannot be written in the document's font`)
				}
			}
		}
	}
	return nil, nil, fault.Conflictf("recorded, not signed")
}

// formPage is a signatory of an order with pdftest.Form (form enabled) and a plain document,
// noop and OIDC providers, both documents approved, behind the page's handler.
func formPage(t *testing.T, providers ...order.EvidenceProvider) (srv *httptest.Server, rec *recordingSigning, base string, formDoc, plainDoc string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	enabled := true
	if providers == nil {
		providers = []order.EvidenceProvider{noop, bankID}
	}
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{
			{Kind: order.DocumentPDF, Title: "Application", StorageMode: order.StorageModeTemporary, Data: pdftest.Form(t), FormEnabled: &enabled},
			{Kind: order.DocumentPDF, Title: "Terms", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
		},
		EvidenceProviders: providers,
		Signatories:       []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := svc.SignatoryToken(o.Signatories[0].ID)
	sp, ok, err := svc.AuthenticateSignatory(ctx, token)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	for _, d := range o.Documents {
		if _, _, err := svc.SetDocumentStatus(ctx, sp, d.ID, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
	}
	rec = &recordingSigning{Service: svc}
	h, err := signui.New(rec, "https://sign.example", signingtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, rec, "/sign/" + token, o.Documents[0].ID, o.Documents[1].ID
}

var (
	noop   = order.EvidenceProvider{Kind: order.ProviderNoop, EnabledByDefault: true, Noop: &order.NoopProvider{Name: "plain"}}
	bankID = order.EvidenceProvider{Kind: order.ProviderOIDC, EnabledByDefault: true,
		OIDC: &order.OIDCProvider{Name: "Bank ID", Domain: "https://id.example.com", ClientID: "c", Audience: "c"}}
)

// control is one form control of the page, as the browser would see it.
type control struct {
	tag, typ, value, label string
	checked, readonly      bool
	invalid, describedBy   string
}

// controls parses the page and returns its document-form controls by name (radio buttons and
// select options by name and value), with the text of the label that names each.
func controls(t *testing.T, body string) map[string]control {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var all []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "label" {
				if id, ok := attr(n, "for"); ok {
					labels[id] = strings.TrimSpace(text(n))
				}
			}
			all = append(all, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	out := map[string]control{}
	for _, n := range all {
		name, _ := attr(n, "name")
		if !strings.HasPrefix(name, "form:") {
			continue
		}
		field := name[strings.LastIndex(name[len("form:"):], ":")+len("form:")+1:]
		id, _ := attr(n, "id")
		c := control{tag: n.Data, label: labels[id]}
		c.typ, _ = attr(n, "type")
		c.value, _ = attr(n, "value")
		_, c.checked = attr(n, "checked")
		_, ro := attr(n, "readonly")
		_, dis := attr(n, "disabled")
		c.readonly = ro || dis
		c.invalid, _ = attr(n, "aria-invalid")
		c.describedBy, _ = attr(n, "aria-describedby")
		switch n.Data {
		case "textarea":
			c.value = text(n)
		case "select":
			for o := n.FirstChild; o != nil; o = o.NextSibling {
				if o.Type == html.ElementNode && o.Data == "option" {
					v, _ := attr(o, "value")
					_, sel := attr(o, "selected")
					out[field+"="+v] = control{tag: "option", value: v, checked: sel}
				}
			}
		}
		if c.typ == "radio" {
			field += "=" + c.value
		}
		out[field] = c
	}
	return out
}

func getPage(t *testing.T, srv *httptest.Server, base string) string {
	t.Helper()
	resp, err := http.Get(srv.URL + base)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d:\n%s", resp.StatusCode, body)
	}
	return string(body)
}

// TestPageShowsTheDocumentForm: every field of the form-enabled document is a labelled control of
// its kind with the document's value; the read-only field cannot be changed; the plain document
// has no form, and the login provider says it leaves the form as it is.
func TestPageShowsTheDocumentForm(t *testing.T) {
	srv, _, base, _, _ := formPage(t)
	body := getPage(t, srv, base)
	got := controls(t, body)
	tests := []struct {
		key  string
		want control
	}{
		{"name", control{tag: "input", value: "Ada Lovelace", label: "name"}},
		{"note", control{tag: "textarea", value: "", label: "note"}},
		{"agree", control{tag: "input", typ: "checkbox", value: "true", label: "agree", checked: true}},
		{"plan=basic", control{tag: "input", typ: "radio", value: "basic", label: "basic", checked: true}},
		{"plan=premium", control{tag: "input", typ: "radio", value: "premium", label: "premium"}},
		{"country", control{tag: "select", label: "country"}},
		{"country=Norway", control{tag: "option", value: "Norway", checked: true}},
		{"country=Sweden", control{tag: "option", value: "Sweden"}},
		{"address.city", control{tag: "input", value: "Aarhus", label: "address.city (read-only)", readonly: true}},
	}
	for _, tt := range tests {
		if c, ok := got[tt.key]; !ok || c != tt.want {
			t.Errorf("control %s = %+v (found %v), want %+v", tt.key, c, ok, tt.want)
		}
	}
	if strings.Contains(body, "Signature1") {
		t.Error("the signature field is offered as a form field")
	}
	if n := strings.Count(body, `name="formdoc"`); n != 1 {
		t.Errorf("%d documents' forms on the page, want 1 (the plain document has none)", n)
	}
	// The login provider carries the form (its button posts it to the login start), so nothing
	// says it leaves the form as it is.
	if strings.Contains(body, `data-form-not-here`) || !strings.Contains(body, `formaction="`+base+`/login"`) {
		t.Errorf("the login provider is not a button of the form:\n%s", body)
	}

	// With a login provider alone the fields are still offered, in a form of their own posted to
	// the login start.
	srv, _, base, _, _ = formPage(t, bankID)
	body = getPage(t, srv, base)
	if len(controls(t, body)) != len(got) || !strings.Contains(body, `<form method="post" action="`+base+`/login" class="login-form">`) {
		t.Errorf("a login-only signatory's page has %d controls:\n%s", len(controls(t, body)), body)
	}
}

func postSign(t *testing.T, srv *httptest.Server, base string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"/sign", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSignPostFillsTheForm: the sign post becomes sign's documents input with the values the
// signatory changed (and only those); a value refused here or by the document comes back next to
// its field with everything typed kept.
func TestSignPostFillsTheForm(t *testing.T) {
	srv, rec, base, formDoc, plainDoc := formPage(t)
	field := func(doc, name string) string { return "form:" + url.QueryEscape(doc) + ":" + name }
	typed := func() url.Values {
		return url.Values{
			"provider":                     {providerID(t, getPage(t, srv, base))},
			"formdoc":                      {formDoc, plainDoc, formDoc}, // the plain document and the repeat are ignored
			field(formDoc, "name"):         {"Grace Hopper"},
			field(formDoc, "note"):         {"first line\r\nsecond line"},
			field(formDoc, "plan"):         {"premium"},
			field(formDoc, "country"):      {"Sweden"},
			field(formDoc, "address.city"): {"Forged"}, // read-only: never sent on
			field(plainDoc, "name"):        {"not a form"},
			// agree unchecked: not sent by the browser
		}
	}
	want := []signing.FormValue{{Field: "name", Value: "Grace Hopper"}, {Field: "note", Value: "first line\nsecond line"},
		{Field: "agree", Value: "false"}, {Field: "plan", Value: "premium"}, {Field: "country", Value: "Sweden"}}

	code, _ := postSign(t, srv, base, typed())
	if code != http.StatusConflict || len(rec.signed) != 1 {
		t.Fatalf("post: HTTP %d, %d signs", code, len(rec.signed))
	}
	docs := rec.signed[0].Documents
	if len(docs) != 1 || docs[0].DocumentID != formDoc || !sameValues(docs[0].Fields, want) {
		t.Errorf("sign's documents = %+v\nwant %s: %+v", docs, formDoc, want)
	}

	// Nothing changed: no documents input (the document keeps its values and appearances).
	unchanged := url.Values{"provider": {providerID(t, getPage(t, srv, base))}, "formdoc": {formDoc},
		field(formDoc, "name"): {"Ada Lovelace"}, field(formDoc, "agree"): {"true"}, field(formDoc, "plan"): {"basic"},
		field(formDoc, "country"): {"Norway"}, field(formDoc, "note"): {""}}
	if postSign(t, srv, base, unchanged); len(rec.signed) != 2 || len(rec.signed[1].Documents) != 0 {
		t.Errorf("an unchanged form sent %+v", rec.signed[len(rec.signed)-1].Documents)
	}

	t1 := i18n.T("EN_US")
	tests := []struct {
		name      string
		change    func(url.Values)
		refuse    bool
		wantError string
		signs     int // Sign calls the post makes
	}{
		{"too long for the page", func(v url.Values) { v.Set(field(formDoc, "note"), strings.Repeat("x", order.MaxMessageLen+1)) }, false, t1("formTooLong"), 0},
		{"refused by the document", func(url.Values) {}, true, `"note" cannot be written in the document's font`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.signed)
			rec.refuseNote = tt.refuse
			v := typed()
			tt.change(v)
			code, body := postSign(t, srv, base, v)
			if code != http.StatusBadRequest || len(rec.signed)-before != tt.signs {
				t.Fatalf("HTTP %d, %d signs; want 400 and %d", code, len(rec.signed)-before, tt.signs)
			}
			if !strings.Contains(body, html.EscapeString(t1("formInvalid"))) {
				t.Errorf("the page does not say the form was refused:\n%s", body)
			}
			got := controls(t, body)
			note := got["note"]
			if note.invalid != "true" || note.describedBy == "" || !strings.Contains(body, `id="`+note.describedBy+`">`+html.EscapeString(tt.wantError)) {
				t.Errorf("the note has no error %q next to it: %+v", tt.wantError, note)
			}
			for key, want := range map[string]control{
				"name":           {tag: "input", value: "Grace Hopper", label: "name"},
				"plan=premium":   {tag: "input", typ: "radio", value: "premium", label: "premium", checked: true},
				"country=Sweden": {tag: "option", value: "Sweden", checked: true},
				"agree":          {tag: "input", typ: "checkbox", value: "true", label: "agree"},
			} {
				if got[key] != want {
					t.Errorf("after the refusal %s = %+v, want %+v (what was typed)", key, got[key], want)
				}
			}
			if got["name"].invalid != "" {
				t.Error("a field that was accepted is marked invalid")
			}
		})
	}
}

// providerID is the noop provider's id, from its sign form.
func providerID(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `<input type="hidden" name="provider" value="`)
	if !ok {
		t.Fatalf("no sign form:\n%s", body)
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

func sameValues(got, want []signing.FormValue) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[signing.FormValue]bool{}
	for _, v := range got {
		m[v] = true
	}
	for _, v := range want {
		if !m[v] {
			return false
		}
	}
	return true
}

// The page's "too long" text names the limit the handler applies, in every language.
func TestFormTooLongNamesTheLimit(t *testing.T) {
	for _, lang := range i18n.Languages {
		if text := i18n.T(lang.Code)("formTooLong"); !strings.Contains(text, strconv.Itoa(order.MaxMessageLen)) {
			t.Errorf("%s: formTooLong is %q; the limit is %d characters", lang.Code, text, order.MaxMessageLen)
		}
	}
}
