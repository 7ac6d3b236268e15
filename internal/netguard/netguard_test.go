package netguard_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"esign/internal/netguard"
	"esign/internal/netguard/netguardtest"
)

// Every block of the table is refused at its first and last address, and the error names the
// block (or, for a translation prefix, the block of the IPv4 address it embeds).
func TestEveryRegistryEntryIsRefused(t *testing.T) {
	for _, r := range netguard.Special {
		for _, ip := range []netip.Addr{r.Prefix.Masked().Addr(), last(r.Prefix)} {
			err := netguard.Check(ip)
			var refused *netguard.RefusedError
			if !errors.As(err, &refused) || !errors.Is(err, netguard.ErrNotPublic) {
				// A translation prefix lets through what embeds a public address; its first and last
				// addresses embed 0.0.0.0 and 255.255.255.255, which are refused.
				t.Errorf("%s (%s, %s): %v, want refused", ip, r.Name, r.Prefix, err)
				continue
			}
			if !strings.Contains(err.Error(), "not a public address") {
				t.Errorf("%s: message %q", ip, err)
			}
		}
	}
}

func last(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// The addresses the issue found let through, and the other forms an internal address can hide in.
func TestCheck(t *testing.T) {
	cases := []struct {
		addr string
		name string // "" = allowed; else a part of the refused block's name
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"64:ff9b::808:808", ""},             // NAT64 of 8.8.8.8: how an IPv6-only host with DNS64 reaches IPv4
		{"::ffff:8.8.8.8", ""},               // IPv4-mapped public address
		{"64:ff9b::a9fe:a9fe", "Link Local"}, // NAT64 of 169.254.169.254 (cloud metadata)
		{"64:ff9b::7f00:1", "Loopback"},
		{"64:ff9b::a00:1", "Private-Use"},
		{"64:ff9b:1::a9fe:a9fe", "local use"},
		{"2002:a9fe:a9fe::1", "6to4"},
		{"2002:808:808::1", "6to4"},
		{"::7f00:1", "IPv4-compatible"},
		{"::a9fe:a9fe", "IPv4-compatible"},
		{"::ffff:127.0.0.1", "Loopback"},
		{"::ffff:169.254.169.254", "Link Local"},
		{"fec0::1", "Site-Local"},
		{"198.18.0.1", "Benchmarking"},
		{"198.19.255.255", "Benchmarking"},
		{"0.0.0.0", "This host"},
		{"0.1.2.3", "This network"},
		{"240.0.0.1", "Reserved"},
		{"255.255.255.255", "Limited Broadcast"},
		{"192.0.0.1", "Service Continuity"},
		{"192.0.0.200", "IETF Protocol Assignments"},
		{"100.64.0.1", "Shared Address Space"},
		{"127.0.0.1", "Loopback"},
		{"::1", "Loopback"},
		{"::", "Unspecified"},
		{"10.1.2.3", "Private-Use"},
		{"172.31.0.1", "Private-Use"},
		{"192.168.1.1", "Private-Use"},
		{"169.254.169.254", "Link Local"},
		{"fe80::1", "Link-Local"},
		{"fe80::1%eth0", "zone"},
		{"fd00::1", "Unique-Local"},
		{"2001::1", "TEREDO"},
		{"2001:10::1", "ORCHID"},
		{"2001:20::1", "ORCHIDv2"},
		{"2001:db8::1", "Documentation"},
		{"3fff::1", "Documentation"},
		{"192.0.2.1", "TEST-NET-1"},
		{"198.51.100.1", "TEST-NET-2"},
		{"203.0.113.1", "TEST-NET-3"},
		{"224.0.0.1", "Multicast"},
		{"ff02::1", "Multicast"},
		{"100::1", "Discard-Only"},
		{"4000::1", "outside IPv6 global unicast"},
		{"::ffff:0:a00:1", "outside IPv6 global unicast"}, // IPv4-translated (SIIT)
	}
	for _, c := range cases {
		err := netguard.Check(netip.MustParseAddr(c.addr))
		switch {
		case c.name == "" && err != nil:
			t.Errorf("%s refused: %v", c.addr, err)
		case c.name != "" && (err == nil || !strings.Contains(err.Error(), c.name)):
			t.Errorf("%s: %v, want refused as %q", c.addr, err, c.name)
		}
	}
}

// The refusal happens on the address dialled, before anything is sent: a listener on loopback
// never accepts a connection, whatever name or form the URL gives it.
func TestLoopbackListenerNeverAccepts(t *testing.T) {
	l := netguardtest.Listen(t)
	client := netguard.New(netguard.Config{}).Client(netguard.Options{Timeout: 5 * time.Second})
	port := l.Port()
	for _, u := range []string{
		"http://127.0.0.1:" + port + "/",
		"https://127.0.0.1:" + port + "/",
		"http://localhost:" + port + "/",
		"http://0.0.0.0:" + port + "/", // Linux connects 0.0.0.0 to loopback
		"http://[::ffff:127.0.0.1]:" + port + "/",
		"http://[::1]:" + port + "/",
	} {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s answered %s", u, resp.Status)
			continue
		}
		if !errors.Is(err, netguard.ErrNotPublic) {
			t.Errorf("%s: %v, want ErrNotPublic", u, err)
		}
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// Explicit configuration opens the guard: all of it (AllowPrivate) or one host the operator named.
func TestExplicitConfiguration(t *testing.T) {
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	get := func(c *http.Client, u string) error {
		resp, err := c.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := get(netguard.New(netguard.Config{AllowPrivate: true}).Client(netguard.Options{Timeout: 5 * time.Second}), srv.URL); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
	strict := netguard.New(netguard.Config{})
	if err := get(strict.Client(netguard.Options{Timeout: 5 * time.Second, AllowPrivate: true}), srv.URL); err != nil {
		t.Errorf("Options.AllowPrivate: %v", err)
	}
	hp, err := netguard.HostPort(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	trusted := netguard.New(netguard.Config{TrustedHosts: []string{hp}}).Client(netguard.Options{Timeout: 5 * time.Second})
	if err := get(trusted, srv.URL); err != nil {
		t.Errorf("trusted host %s: %v", hp, err)
	}
	// The same server by another name is not the host the operator named.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if err := get(trusted, other); !errors.Is(err, netguard.ErrNotPublic) {
		t.Errorf("%s through a client trusting %s: %v", other, hp, err)
	}
}

// server is an HTTP server on loopback, reachable only through a client that allows private
// addresses.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"tenant.criipto.id":           "tenant.criipto.id:443",
		"https://Tenant.example/x":    "Tenant.example:443",
		"http://127.0.0.1:5556/dex":   "127.0.0.1:5556",
		"http://[::1]/":               "[::1]:80",
		"https://idp.example:8443/a/": "idp.example:8443",
	} {
		if got, err := netguard.HostPort(in); err != nil || got != want {
			t.Errorf("HostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := netguard.HostPort("ftp://x.example"); err == nil {
		t.Error("ftp accepted")
	}
}

// A redirect is the answer, never followed: the second server is not contacted at all.
func TestRedirectsAreNotFollowed(t *testing.T) {
	target := netguardtest.Listen(t)
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+target.Port()+"/", http.StatusFound)
	}))
	client := netguard.New(netguard.Config{AllowPrivate: true}).Client(netguard.Options{Timeout: 5 * time.Second})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || target.Accepted() != 0 {
		t.Errorf("status %d, redirect target accepted %d", resp.StatusCode, target.Accepted())
	}
}

// Reading an answer past the bound fails; up to it, it reads in full.
func TestResponseBound(t *testing.T) {
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 1000))
	}))
	for bound, wantErr := range map[int64]bool{999: true, 1000: false, 4096: false} {
		client := netguard.New(netguard.Config{AllowPrivate: true}).Client(netguard.Options{Timeout: 5 * time.Second, MaxResponseBytes: bound})
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantErr != errors.Is(err, netguard.ErrResponseTooLarge) || (!wantErr && len(b) != 1000) || int64(len(b)) > bound {
			t.Errorf("bound %d: read %d bytes, %v", bound, len(b), err)
		}
	}
}
