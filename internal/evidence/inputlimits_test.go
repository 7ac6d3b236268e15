package evidence

import (
	"strings"
	"testing"

	"esign/internal/order"
)

// The hosted page sends a drawn signature's name through a form, not the GraphQL input limits:
// the name goes into the PDF, so it is held to the same rule here.
func TestDrawableNameIsCleanText(t *testing.T) {
	img := pngOf(t, 10, 10)
	for name, want := range map[string]string{
		"Ada\x00Lovelace":        "drawable.name: must not contain control characters",
		"Ada\nLovelace":          "drawable.name: must be one line",
		strings.Repeat("ø", 201): "drawable.name: must be at most 200 characters",
		strings.Repeat("ø", 200): "",
		"Ada Lovelace":           "",
	} {
		_, err := Drawable(&order.DrawableProvider{}, img, &name)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("name %.20q: %v, want %q", name, err, want)
		}
	}
}

func TestLoginRedirectURIIsStrict(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example.com/callback":      true,
		"http://127.0.0.1:8080/sign/callback":   true,
		"http://app.example.com/callback":       false,
		"https://app.example.com;x/callback":    false,
		"https://user@app.example.com/callback": false,
		"https://app.example.com/\"><script>":   false,
		"javascript:alert(1)":                   false,
	} {
		if err := checkRedirectURI(uri); (err == nil) != ok {
			t.Errorf("redirect %q: %v, want ok %v", uri, err, ok)
		}
	}
}
