package signui

import (
	"strings"
	"testing"

	"esign/internal/order"
)

func TestEveryLanguageHasEveryText(t *testing.T) {
	for lang, table := range texts {
		if htmlLang[lang] == "" {
			t.Errorf("%s has no html lang", lang)
		}
		for key := range texts["EN_US"] {
			if strings.TrimSpace(table[key]) == "" {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		if len(table) != len(texts["EN_US"]) {
			t.Errorf("%s has %d texts, EN_US %d", lang, len(table), len(texts["EN_US"]))
		}
	}
	for _, lang := range []string{"DA_DK", "EN_US", "SV_SE", "NB_NO", "FI_FI"} {
		if texts[lang] == nil {
			t.Errorf("no texts for %s", lang)
		}
	}
	if got := translator("XX_XX")("sign"); got != "Sign" {
		t.Errorf("unknown language falls back to %q", got)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		ui       order.UI
		contains []string
		excludes []string
	}{
		{"default", order.UI{}, []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"},
			[]string{"unsafe-inline", "unsafe-eval"}},
		{"integrator's logo, stylesheet and redirect", order.UI{Logo: &order.Logo{Src: "https://cdn.example.com/logo.png"},
			Stylesheet: str("https://styles.example.com/a.css"), SignatoryRedirectURI: str("https://app.example.com/done?x=1")},
			[]string{"img-src 'self' data: blob: https://cdn.example.com", "style-src 'self' https://styles.example.com", "form-action 'self' https://app.example.com"},
			[]string{"unsafe-inline"}},
		{"a non-http logo adds nothing", order.UI{Logo: &order.Logo{Src: "javascript:alert(1)"}}, []string{"img-src 'self' data: blob:;"},
			[]string{"javascript"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csp := contentSecurityPolicy(tt.ui)
			for _, c := range tt.contains {
				if !strings.Contains(csp, c) {
					t.Errorf("CSP %q lacks %q", csp, c)
				}
			}
			for _, c := range tt.excludes {
				if strings.Contains(csp, c) {
					t.Errorf("CSP %q has %q", csp, c)
				}
			}
		})
	}
}

func TestRedirectURI(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		uri, status, want string
	}{
		{"", "success", ""},
		{"https://app.example.com/done", "success", "https://app.example.com/done?status=success"},
		{"https://app.example.com/done?order=7", "rejected", "https://app.example.com/done?order=7&status=rejected"},
		{"https://app.example.com/done?status=old", "cancel", "https://app.example.com/done?status=cancel"},
	}
	for _, tt := range tests {
		ui := order.UI{}
		if tt.uri != "" {
			ui.SignatoryRedirectURI = str(tt.uri)
		}
		if got := redirectURI(ui, tt.status); got != tt.want {
			t.Errorf("redirectURI(%q, %q) = %q, want %q", tt.uri, tt.status, got, tt.want)
		}
	}
}

func TestDecodePNGDataURL(t *testing.T) {
	if _, err := decodePNGDataURL("data:image/jpeg;base64,AAAA"); err == nil {
		t.Error("a JPEG data URL was accepted")
	}
	if _, err := decodePNGDataURL("data:image/png;base64,%%%"); err == nil {
		t.Error("bad base64 was accepted")
	}
	if b, err := decodePNGDataURL("data:image/png;base64,iVBORw=="); err != nil || len(b) != 4 {
		t.Errorf("decode: %v %v", b, err)
	}
}
