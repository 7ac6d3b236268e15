package limits

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"203.0.113.7:5555", "", nil, "203.0.113.7"},
		{"203.0.113.7:5555", "198.51.100.1", nil, "203.0.113.7"},                      // not configured: the header is ignored
		{"203.0.113.7:5555", "198.51.100.1", proxies, "203.0.113.7"},                  // from an untrusted peer: ignored
		{"10.1.2.3:5555", "198.51.100.1", proxies, "198.51.100.1"},                    // through the proxy
		{"10.1.2.3:5555", "6.6.6.6, 198.51.100.1, 10.9.9.9", proxies, "198.51.100.1"}, // the client's own entries prove nothing
		{"10.1.2.3:5555", "not-an-ip", proxies, "10.1.2.3"},
		{"[::ffff:203.0.113.7]:1", "", nil, "203.0.113.7"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/v1/graphql", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ClientIP(r, c.trusted); got != c.want {
			t.Errorf("ClientIP(%s, XFF %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
