package order

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"esign/schema"
)

// limitCase sets one bounded input of a draft: text fields through text, lists through list.
type limitCase struct {
	coord string // the schema coordinate whose Limit applies
	path  string // the input path the error must name
	text  func(d *Draft, v string)
	list  func(d *Draft, n int)
}

func withSignatory(d *Draft, f func(s *SignatoryDraft)) {
	s := SignatoryDraft{}
	f(&s)
	d.Signatories = []SignatoryDraft{s}
}

func oidcProvider(f func(o *OIDCProvider)) []EvidenceProvider {
	o := &OIDCProvider{Name: "n", Domain: "idp.example.com", ClientID: "c", Audience: "a"}
	f(o)
	return []EvidenceProvider{{OIDC: o}}
}

func verifyProvider(f func(c *CriiptoVerifyProvider)) []EvidenceProvider {
	c := &CriiptoVerifyProvider{}
	f(c)
	return []EvidenceProvider{{CriiptoVerify: c}}
}

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func appearanceWith(f func(a *SignatureAppearance)) *SignatureAppearance {
	a := &SignatureAppearance{IdentifierFromEvidence: []string{"sub"}}
	f(a)
	return a
}

func templateWith(f func(t *SignatureAppearanceTemplate)) []SignatureAppearanceTemplate {
	t := SignatureAppearanceTemplate{Template: "{{name}}", Replacements: []SignatureAppearanceReplacement{{Placeholder: "name", FromEvidence: []string{"name"}}}}
	f(&t)
	return []SignatureAppearanceTemplate{t}
}

var limitCases = []limitCase{
	{coord: "CreateSignatureOrderInput.title", path: "title", text: func(d *Draft, v string) { d.Title = &v }},
	{coord: "CreateSignatureOrderInput.timezone", path: "timezone", text: func(d *Draft, v string) { d.Timezone = &v }},
	{coord: "CreateSignatureOrderInput.expiresAt", path: "expiresAt", text: func(d *Draft, v string) { d.ExpiresAt = &v }},
	{coord: "CreateSignatureOrderInput.documents", path: "documents", list: func(d *Draft, n int) {
		d.Documents = make([]DocumentDraft, n)
		for i := range d.Documents {
			d.Documents[i] = DocumentDraft{Kind: DocumentPDF, Title: "T", StorageMode: StorageModeTemporary}
		}
	}},
	{coord: "CreateSignatureOrderInput.evidenceProviders", path: "evidenceProviders", list: func(d *Draft, n int) {
		for range n {
			d.EvidenceProviders = append(d.EvidenceProviders, EvidenceProvider{Drawable: &DrawableProvider{}})
		}
	}},
	{coord: "CreateSignatureOrderInput.signatories", path: "signatories", list: func(d *Draft, n int) {
		d.MaxSignatories = ptr(MaxSignatoriesHardLimit)
		d.Signatories = make([]SignatoryDraft, n)
	}},
	{coord: "PadesDocumentInput.title", path: "documents[0].pdf.title", text: func(d *Draft, v string) { d.Documents[0].Title = v }},
	{coord: "PadesDocumentInput.reference", path: "documents[0].pdf.reference", text: func(d *Draft, v string) { d.Documents[0].Reference = &v }},
	{coord: "CreateSignatureOrderUIInput.signatoryRedirectUri", path: "ui.signatoryRedirectUri", text: func(d *Draft, v string) { d.UI = &UI{SignatoryRedirectURI: &v} }},
	{coord: "CreateSignatureOrderUIInput.stylesheet", path: "ui.stylesheet", text: func(d *Draft, v string) { d.UI = &UI{Stylesheet: &v} }},
	{coord: "SignatureOrderUILogoInput.src", path: "ui.logo.src", text: func(d *Draft, v string) { d.UI = &UI{Logo: &Logo{Src: v}} }},
	{coord: "SignatureOrderUILogoInput.href", path: "ui.logo.href", text: func(d *Draft, v string) {
		d.UI = &UI{Logo: &Logo{Src: "https://cdn.example.com/l.png", Href: &v}}
	}},
	{coord: "CreateSignatureOrderWebhookInput.url", path: "webhook.url", text: func(d *Draft, v string) { d.Webhook = &Webhook{URL: v} }},
	{coord: "OidcEvidenceProviderInput.name", path: "evidenceProviders[0].oidc.name", text: func(d *Draft, v string) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.Name = v })
	}},
	{coord: "OidcEvidenceProviderInput.domain", path: "evidenceProviders[0].oidc.domain", text: func(d *Draft, v string) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.Domain = v })
	}},
	{coord: "OidcEvidenceProviderInput.clientID", path: "evidenceProviders[0].oidc.clientID", text: func(d *Draft, v string) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.ClientID = v })
	}},
	{coord: "OidcEvidenceProviderInput.audience", path: "evidenceProviders[0].oidc.audience", text: func(d *Draft, v string) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.Audience = v })
	}},
	{coord: "OidcEvidenceProviderInput.uniqueEvidenceKey", path: "evidenceProviders[0].oidc.uniqueEvidenceKey", text: func(d *Draft, v string) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.UniqueEvidenceKey = &v })
	}},
	{coord: "OidcEvidenceProviderInput.acrValues", path: "evidenceProviders[0].oidc.acrValues", list: func(d *Draft, n int) {
		d.EvidenceProviders = oidcProvider(func(o *OIDCProvider) { o.AcrValues = repeat(n, "urn:acr") })
	}},
	{coord: "CriiptoVerifyProviderInput.message", path: "evidenceProviders[0].criiptoVerify.message", text: func(d *Draft, v string) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.Message = &v })
	}},
	{coord: "CriiptoVerifyProviderInput.loginHint", path: "evidenceProviders[0].criiptoVerify.loginHint", text: func(d *Draft, v string) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.LoginHint = &v })
	}},
	{coord: "CriiptoVerifyProviderInput.scope", path: "evidenceProviders[0].criiptoVerify.scope", text: func(d *Draft, v string) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.Scope = &v })
	}},
	{coord: "CriiptoVerifyProviderInput.uniqueEvidenceKey", path: "evidenceProviders[0].criiptoVerify.uniqueEvidenceKey", text: func(d *Draft, v string) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.UniqueEvidenceKey = &v })
	}},
	{coord: "CriiptoVerifyProviderInput.acrValues", path: "evidenceProviders[0].criiptoVerify.acrValues", list: func(d *Draft, n int) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.AcrValues = repeat(n, "urn:acr") })
	}},
	{coord: "CriiptoVerifyProviderInput.audiences", path: "evidenceProviders[0].criiptoVerify.audiences", list: func(d *Draft, n int) {
		d.EvidenceProviders = verifyProvider(func(c *CriiptoVerifyProvider) { c.Audiences = repeat(n, "aud") })
	}},
	{coord: "NoopEvidenceProviderInput.name", path: "evidenceProviders[0].noop.name", text: func(d *Draft, v string) {
		d.EvidenceProviders = []EvidenceProvider{{Noop: &NoopProvider{Name: v}}}
	}},
	{coord: "AllOfEvidenceProviderInput.providers", path: "evidenceProviders[0].allOf.providers", list: func(d *Draft, n int) {
		all := make([]EvidenceProvider, n)
		for i := range all {
			all[i] = EvidenceProvider{Drawable: &DrawableProvider{}}
		}
		d.EvidenceProviders = []EvidenceProvider{{AllOf: all}}
	}},
	{coord: "SignatureAppearanceInput.identifierFromEvidence", path: "signatureAppearance.identifierFromEvidence", list: func(d *Draft, n int) {
		d.SignatureAppearance = &SignatureAppearance{IdentifierFromEvidence: repeat(n, "sub")}
	}},
	{coord: "SignatureAppearanceInput.headerLeft", path: "signatureAppearance.headerLeft", list: func(d *Draft, n int) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) { a.HeaderLeft = make([]SignatureAppearanceTemplate, n) })
	}},
	{coord: "SignatureAppearanceInput.displayName", path: "signatureAppearance.displayName", list: func(d *Draft, n int) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) { a.DisplayName = make([]SignatureAppearanceTemplate, n) })
	}},
	{coord: "SignatureAppearanceInput.footer", path: "signatureAppearance.footer", list: func(d *Draft, n int) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) { a.Footer = make([]SignatureAppearanceTemplate, n) })
	}},
	{coord: "SignatureAppearanceTemplateInput.template", path: "signatureAppearance.footer[0].template", text: func(d *Draft, v string) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) {
			a.Footer = templateWith(func(t *SignatureAppearanceTemplate) { t.Template = v })
		})
	}},
	{coord: "SignatureAppearanceTemplateInput.replacements", path: "signatureAppearance.footer[0].replacements", list: func(d *Draft, n int) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) {
			a.Footer = templateWith(func(t *SignatureAppearanceTemplate) {
				t.Replacements = make([]SignatureAppearanceReplacement, n)
				for i := range t.Replacements {
					t.Replacements[i] = SignatureAppearanceReplacement{Placeholder: "p", FromEvidence: []string{"x"}}
				}
			})
		})
	}},
	{coord: "SignatureAppearanceTemplateReplacementInput.placeholder", path: "signatureAppearance.footer[0].replacements[0].placeholder", text: func(d *Draft, v string) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) {
			a.Footer = templateWith(func(t *SignatureAppearanceTemplate) { t.Replacements[0].Placeholder = v })
		})
	}},
	{coord: "SignatureAppearanceTemplateReplacementInput.fromEvidence", path: "signatureAppearance.footer[0].replacements[0].fromEvidence", list: func(d *Draft, n int) {
		d.SignatureAppearance = appearanceWith(func(a *SignatureAppearance) {
			a.Footer = templateWith(func(t *SignatureAppearanceTemplate) { t.Replacements[0].FromEvidence = repeat(n, "name") })
		})
	}},
	{coord: "CreateSignatureOrderSignatoryInput.reference", path: "signatories[0].reference", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.Reference = &v })
	}},
	{coord: "CreateSignatureOrderSignatoryInput.role", path: "signatories[0].role", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.Role = &v })
	}},
	{coord: "CreateSignatureOrderSignatoryInput.signingAs", path: "signatories[0].signingAs", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.SigningAs = &v })
	}},
	{coord: "CreateSignatureOrderSignatoryInput.documents", path: "signatories[0].documents", list: func(d *Draft, n int) {
		withSignatory(d, func(s *SignatoryDraft) { s.Documents = make([]SignatoryDocument, n) })
	}},
	{coord: "CreateSignatureOrderSignatoryInput.evidenceProviders", path: "signatories[0].evidenceProviders", list: func(d *Draft, n int) {
		withSignatory(d, func(s *SignatoryDraft) { s.EvidenceProviders = repeat(n, "p") })
	}},
	{coord: "CreateSignatureOrderSignatoryInput.evidenceValidation", path: "signatories[0].evidenceValidation", list: func(d *Draft, n int) {
		withSignatory(d, func(s *SignatoryDraft) {
			for range n {
				s.EvidenceValidation = append(s.EvidenceValidation, EvidenceValidation{Key: "k", Value: ptr("v")})
			}
		})
	}},
	{coord: "SignatoryDocumentInput.id", path: "signatories[0].documents[0].id", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.Documents = []SignatoryDocument{{ID: v}} })
	}},
	{coord: "SignatoryDocumentInput.pdfSealPositions", path: "signatories[0].documents[0].pdfSealPositions", list: func(d *Draft, n int) {
		withSignatory(d, func(s *SignatoryDraft) {
			s.Documents = []SignatoryDocument{{ID: "a", SealPositions: make([]SealPosition, n)}}
			for i := range s.Documents[0].SealPositions {
				s.Documents[0].SealPositions[i].Page = 1
			}
		})
	}},
	{coord: "SignatoryEvidenceProviderInput.id", path: "signatories[0].evidenceProviders[0].id", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.EvidenceProviders = []string{v} })
	}},
	{coord: "SignatoryEvidenceValidationInput.key", path: "signatories[0].evidenceValidation[0].key", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.EvidenceValidation = []EvidenceValidation{{Key: v, Value: ptr("x")}} })
	}},
	{coord: "SignatoryEvidenceValidationInput.value", path: "signatories[0].evidenceValidation[0].value", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.EvidenceValidation = []EvidenceValidation{{Key: "k", Value: &v}} })
	}},
	{coord: "SignatoryUIInput.signatoryRedirectUri", path: "signatories[0].ui.signatoryRedirectUri", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.UI = &UI{SignatoryRedirectURI: &v} })
	}},
	{coord: "SignatoryUIInput.stylesheet", path: "signatories[0].ui.stylesheet", text: func(d *Draft, v string) {
		withSignatory(d, func(s *SignatoryDraft) { s.UI = &UI{Stylesheet: &v} })
	}},
}

// limitOf returns the table's limit for a schema coordinate.
func limitOf(field string) (Limit, bool) {
	for _, l := range Limits {
		if l.Field == field {
			return l, true
		}
	}
	return Limit{}, false
}

// textOfLength is a value of n characters for the limit's kind: URLs stay URLs, and plain text is
// made of a two-byte letter so that the limit is seen to count characters, not bytes.
func textOfLength(l Limit, n int) string {
	switch l.Kind {
	case KindURL, KindLogo:
		const prefix = "https://example.com/"
		return prefix + strings.Repeat("a", max(n-len(prefix), 0))
	default:
		return strings.Repeat("ø", n)
	}
}

// TestEveryLimit sets each bounded input at its limit (no length error) and one past it (an error
// naming the field and the limit), and puts a NUL into each text.
func TestEveryLimit(t *testing.T) {
	env := testEnv()
	env.Verify = &VerifyClient{Domain: "verify.example.com", ClientID: "client"}
	build := func(set func(d *Draft)) error {
		d := draft(nil)
		set(&d)
		_, err := Build(d, "app", env)
		return err
	}
	for _, c := range limitCases {
		l, ok := limitOf(c.coord)
		if !ok {
			t.Errorf("%s is not in Limits", c.coord)
			continue
		}
		t.Run(c.coord, func(t *testing.T) {
			lengthErr := c.path + ": must be at most"
			if c.list != nil {
				lengthErr = c.path + ": must have at most"
			}
			var atLimit, over, withNUL error
			if c.text != nil {
				atLimit = build(func(d *Draft) { c.text(d, textOfLength(l, l.Max)) })
				over = build(func(d *Draft) { c.text(d, textOfLength(l, l.Max+1)) })
				withNUL = build(func(d *Draft) { c.text(d, textOfLength(l, 8)+"\x00") })
			} else {
				atLimit = build(func(d *Draft) { c.list(d, l.Max) })
				over = build(func(d *Draft) { c.list(d, l.Max+1) })
			}
			// At the limit the value may still break another rule of its field (an unknown id, a
			// timezone name), but never the length.
			if atLimit != nil && strings.Contains(atLimit.Error(), lengthErr) {
				t.Errorf("at the limit of %d: %v", l.Max, atLimit)
			}
			if over == nil || !strings.Contains(over.Error(), lengthErr) || !strings.Contains(over.Error(), fmt.Sprint(l.Max)) {
				t.Errorf("one past the limit of %d: %v, want %q…%d", l.Max, over, lengthErr, l.Max)
			}
			if c.text != nil && (withNUL == nil || !strings.Contains(withNUL.Error(), c.path+":")) {
				t.Errorf("with a NUL: %v, want an error naming %s", withNUL, c.path)
			}
		})
	}
}

func TestLimitsAtTheLimitAreValid(t *testing.T) {
	// The plain texts at their limit make a valid order, all at once.
	d := draft(func(d *Draft) {
		d.Title = ptr(strings.Repeat("ø", MaxTitleLen))
		d.Documents[0].Title = strings.Repeat("T", MaxTitleLen)
		d.Documents[0].Reference = ptr(strings.Repeat("r", MaxReferenceLen))
		d.Signatories = []SignatoryDraft{{Reference: ptr(strings.Repeat("s", MaxReferenceLen)), Role: ptr(strings.Repeat("r", MaxNameLen)),
			EvidenceValidation: []EvidenceValidation{{Key: strings.Repeat("k", MaxIdentifierLen), Value: ptr(strings.Repeat("v", MaxClaimValueLen))}}}}
		d.UI = &UI{Stylesheet: ptr("https://example.com/" + strings.Repeat("a", MaxURLLen-20))}
	})
	if _, err := Build(d, "app", testEnv()); err != nil {
		t.Fatal(err)
	}
}

func TestControlCharacters(t *testing.T) {
	for _, tc := range []struct {
		s         string
		multiline bool
		ok        bool
	}{
		{"plain", false, true},
		{"two\nlines", false, false},
		{"two\nlines\tand a tab\r\n", true, true},
		{"nul\x00", true, false},
		{"bell\x07", true, false},
		{"del\x7f", true, false},
		{"c1 \u0085", true, false},
		{"letters æøå and emoji 🙂", false, true},
		{"escape\x1b[31m", false, false},
		{"bad utf-8 \xff", false, false},
	} {
		err := CheckText("f", tc.s, 100, tc.multiline)
		if (err == nil) != tc.ok {
			t.Errorf("CheckText(%q, multiline %v) = %v, want ok %v", tc.s, tc.multiline, err, tc.ok)
		}
	}
}

// TestStrictURLs refuses what could break out of a CSP source list, an attribute or a redirect, and
// what names a host by anything but a DNS name or an IP literal.
func TestStrictURLs(t *testing.T) {
	refused := []string{
		"https://evil.example;script-src-elem;x/a.css", // the CSP injection that url.Parse accepts
		"https://evil.example,x/a.css",
		"https://evil.example/a.css;script-src *",
		"https://evil.example/a b.css",
		"https://evil.example/\"onload=\"x",
		"https://evil.example/<script>",
		"https://user:pw@evil.example/a.css",
		"https://evil.example@good.example/",
		"https://ev%69l.example/",
		"https://evil_host.example/",
		"https://-evil.example/",
		"https://1.2.3/",
		"https://0x7f.1/",
		"https://[fe80::1%25eth0]/",
		"https://::1/",
		"https://evil.example:0/",
		"https://evil.example:99999/",
		"https://evil.example:/",
		"https:///path",
		"HTTPS://evil.example/",
		"http://evil.example/",
		"javascript:alert(1)",
		"//evil.example/a.css",
		"/relative",
		"https://evil.example/\u00e9",
		"https://évil.example/",
		"https://evil.example/\x00",
	}
	for _, raw := range refused {
		if err := checkURL("ui.stylesheet", raw, false); err == nil || !strings.Contains(err.Error(), "ui.stylesheet: ") {
			t.Errorf("checkURL(%q) = %v, want refused naming the field", raw, err)
		}
		if o, ok := Origin(raw); ok {
			t.Errorf("Origin(%q) = %q, want none", raw, o)
		}
	}
	accepted := map[string]string{
		"https://cdn.example.com/brand/a.css?v=3#x": "https://cdn.example.com",
		"https://cdn.example.com:8443/a.css":        "https://cdn.example.com:8443",
		"https://192.0.2.7/a.css":                   "https://192.0.2.7",
		"https://[2001:db8::1]:8443/a.css":          "https://[2001:db8::1]:8443",
		"https://xn--vil-bma.example/":              "https://xn--vil-bma.example",
		"http://127.0.0.1:8080/done":                "http://127.0.0.1:8080",
		"http://localhost:3000/done":                "http://localhost:3000",
		"http://[::1]:9/hook":                       "http://[::1]:9",
		"https://app.example.com/done?a=%2C%3B":     "https://app.example.com",
	}
	for raw, origin := range accepted {
		if err := checkURL("f", raw, false); err != nil {
			t.Errorf("checkURL(%q) = %v, want accepted", raw, err)
		}
		if o, ok := Origin(raw); !ok || o != origin {
			t.Errorf("Origin(%q) = %q, %v; want %q", raw, o, ok, origin)
		}
	}
}

func TestIssuerDomain(t *testing.T) {
	for domain, ok := range map[string]bool{
		"idp.example.com":                  true,
		"idp.example.com/realms/x":         true,
		"https://idp.example.com/realm":    true,
		"http://127.0.0.1:5556/dex":        true,
		"http://idp.example.com":           false,
		"idp.example.com;x":                false,
		"user@idp.example.com":             false,
		"idp.example.com:99999":            false,
		"ftp://idp.example.com":            false,
		"idp.example.com/\"><script>":      false,
		"idp.example.com\r\nX-Injected: 1": false,
	} {
		err := checkIssuerDomain("evidenceProviders[0].oidc.domain", domain)
		if (err == nil) != ok {
			t.Errorf("domain %q: %v, want ok %v", domain, err, ok)
		}
	}
}

func dataURL(mediaType string, b []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func TestDataLogos(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...)
	webp := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 16)...)
	cases := []struct {
		name, src string
		want      string // "" = accepted
	}{
		{"png", dataURL("image/png", png), ""},
		{"jpeg", dataURL("image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0}), ""},
		{"gif", dataURL("image/gif", []byte("GIF89a\x01\x00")), ""},
		{"webp", dataURL("image/webp", webp), ""},
		{"svg", dataURL("image/svg+xml", []byte("<svg onload=alert(1)>")), "must be data:image/png, jpeg, gif or webp"},
		{"html", dataURL("text/html", []byte("<script>")), "must be data:image/png"},
		{"not base64", "data:image/png,rawbytes", "must be data:image/png"},
		{"bad base64", "data:image/png;base64,%%%", "standard base64"},
		{"png that is not", dataURL("image/png", []byte("GIF89a")), "is not a png image"},
		{"riff that is not webp", dataURL("image/webp", []byte("RIFF\x00\x00\x00\x00AVI LIST")), "is not a webp image"},
		{"too large", dataURL("image/png", append(png, make([]byte, MaxDataLogoLen)...)), "must be at most 32768 characters"},
	}
	for _, c := range cases {
		_, err := Build(draft(func(d *Draft) { d.UI = &UI{Logo: &Logo{Src: c.src}} }), "app", testEnv())
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "ui.logo.src: ") || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A data: URL is a logo's src only, never a link or a stylesheet.
	_, err := Build(draft(func(d *Draft) { d.UI = &UI{Stylesheet: ptr(dataURL("image/png", png))} }), "app", testEnv())
	if err == nil || !strings.Contains(err.Error(), "ui.stylesheet: ") {
		t.Errorf("data: stylesheet: %v", err)
	}
}

// TestSignatoryChangesAreBounded checks the limits on the mutations after creation: addSignatories,
// changeSignatory, changeSignatureOrder's webhook, a signatory's rejection, and the whole order's size.
func TestSignatoryChangesAreBounded(t *testing.T) {
	env := testEnv()
	o, err := Build(draft(func(d *Draft) { d.MaxSignatories = ptr(MaxSignatoriesHardLimit); d.Signatories = []SignatoryDraft{{}} }), "app", env)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", MaxReferenceLen+1)
	if _, err := o.AddSignatories("signatories", []SignatoryDraft{{Reference: &long}}, env, false); err == nil ||
		!strings.Contains(err.Error(), "signatories[0].reference: must be at most 255") {
		t.Errorf("addSignatories: %v", err)
	}
	if err := o.ChangeSignatory(o.Signatories[0].ID, SignatoryDraft{Role: ptr("a\x00b")}); err == nil ||
		!strings.Contains(err.Error(), "input.role: must not contain control characters") {
		t.Errorf("changeSignatory: %v", err)
	}
	if err := o.Change(nil, &Webhook{URL: "https://evil.example;x/"}); err == nil || !strings.Contains(err.Error(), "webhook.url: ") {
		t.Errorf("changeSignatureOrder: %v", err)
	}
	reason := strings.Repeat("r", MaxMessageLen+1)
	if err := o.Reject(o.Signatories[0].ID, &reason, env.Now); err == nil || !strings.Contains(err.Error(), "reason: must be at most 2000") {
		t.Errorf("reject: %v", err)
	}
	if o.Signatories[0].Status != SignatoryOpen || o.Signatories[0].Role != nil || o.Webhook != nil {
		t.Errorf("a refused change changed the order: %+v", o.Signatories[0])
	}
	multiline := "line one\nline two"
	if err := o.Reject(o.Signatories[0].ID, &multiline, env.Now); err != nil {
		t.Errorf("a two-line reason: %v", err)
	}

	// Each field within its limit, but together more than an order may hold.
	big, err := Build(draft(func(d *Draft) { d.MaxSignatories = ptr(MaxSignatoriesHardLimit) }), "app", env)
	if err != nil {
		t.Fatal(err)
	}
	full := SignatoryDraft{Reference: ptr(strings.Repeat("r", MaxReferenceLen)), Role: ptr(strings.Repeat("r", MaxNameLen)),
		SigningAs: ptr(strings.Repeat("s", MaxNameLen)), UI: &UI{Stylesheet: ptr("https://example.com/" + strings.Repeat("a", MaxURLLen-20))}}
	drafts := make([]SignatoryDraft, 500)
	for i := range drafts {
		drafts[i] = full
	}
	if _, err := big.AddSignatories("signatories", drafts, env, false); err == nil || !strings.Contains(err.Error(), "more than the limit of 1048576 bytes") {
		t.Errorf("500 full signatories: %v", err)
	}
}

// TestLimitsCoverTheSchema keeps the table complete: every string, ID, URI or Blob input field and
// argument and every list input of the schema has its limit, and every limit names a real input.
func TestLimitsCoverTheSchema(t *testing.T) {
	s, err := gqlparser.LoadSchema(schema.Source()...)
	if err != nil {
		t.Fatal(err)
	}
	bounded := func(name string, list bool) bool {
		return list || name == "String" || name == "ID" || name == "URI" || name == "Blob"
	}
	want := map[string]bool{}
	for _, d := range s.Types {
		if d.BuiltIn {
			continue
		}
		for _, f := range d.Fields {
			if d.Kind == "INPUT_OBJECT" && bounded(f.Type.Name(), f.Type.Elem != nil) {
				want[d.Name+"."+f.Name] = true
			}
			for _, a := range f.Arguments {
				if bounded(a.Type.Name(), a.Type.Elem != nil) {
					want[fmt.Sprintf("%s.%s(%s:)", d.Name, f.Name, a.Name)] = true
				}
			}
		}
	}
	want["Query.__type(name:)"] = true
	have := map[string]bool{}
	for _, l := range Limits {
		if have[l.Field] {
			t.Errorf("%s is listed twice", l.Field)
		}
		have[l.Field] = true
		if !want[l.Field] {
			t.Errorf("%s is in Limits but is no bounded input of the schema", l.Field)
		}
		if l.Kind != KindBlob && l.Max <= 0 {
			t.Errorf("%s has no maximum", l.Field)
		}
	}
	for f := range want {
		if !have[f] {
			t.Errorf("%s has no limit in Limits", f)
		}
	}
}
