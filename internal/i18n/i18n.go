// Package i18n is the one table of the languages the contract names (Language: DA_DK, EN_US, SV_SE,
// NB_NO, FI_FI) and of every text a person reads in them: the signing page's and the visible seal's.
// The domain checks an order's language against it; the page and the seal look their texts up in it.
package i18n

import "strings"

// Language is one supported language: its code in the API and its HTML lang.
type Language struct {
	Code string // as the API names it: "DA_DK"
	HTML string // as <html lang> names it: "da"
}

// Languages are the supported languages; the default (EN_US) first.
var Languages = []Language{{"EN_US", "en"}, {"DA_DK", "da"}, {"SV_SE", "sv"}, {"NB_NO", "nb"}, {"FI_FI", "fi"}}

// Default is the language of an order that names none, and the fallback for an unknown code.
const Default = "EN_US"

// Supported reports whether code is a supported language.
func Supported(code string) bool { return HTML(code) != "" }

// HTML is the HTML lang of a supported language, or "".
func HTML(code string) string {
	for _, l := range Languages {
		if l.Code == code {
			return l.HTML
		}
	}
	return ""
}

// Codes lists the supported codes, for messages: "EN_US, DA_DK, ...".
func Codes() string {
	codes := make([]string, len(Languages))
	for i, l := range Languages {
		codes[i] = l.Code
	}
	return strings.Join(codes, ", ")
}

// T returns the text lookup for a language (the default language for an unknown one; the key
// itself for an unknown key, which a test rules out for the keys in use).
func T(code string) func(key string) string {
	t, ok := texts[code]
	if !ok {
		t = texts[Default]
	}
	return func(key string) string {
		if s, ok := t[key]; ok {
			return s
		}
		return key
	}
}
