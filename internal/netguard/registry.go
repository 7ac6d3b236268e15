package netguard

import (
	"errors"
	"fmt"
	"net/netip"
)

// Range is one special-purpose address block: an entry of the IANA IPv4 or IPv6 Special-Purpose
// Address Registry, or a block outside them that is just as unfit for a caller-chosen target
// (multicast, deprecated IPv6 forms).
type Range struct {
	Prefix netip.Prefix
	Name   string
	RFC    string
	// embedsIPv4 marks a translation prefix whose last 32 bits are an IPv4 address: the address is
	// judged by that IPv4 address instead of being refused outright.
	embedsIPv4 bool
}

// Special is every block Check refuses. All registry entries are refused, including the few the
// registries mark globally reachable (the AS112, AMT, PCP and TURN anycast blocks): none of them
// is a place an integrator's webhook or identity provider lives, and a short, total rule is easier
// to trust than a list of exceptions.
var Special = []Range{
	// IANA IPv4 Special-Purpose Address Registry.
	{Prefix: p("0.0.0.0/8"), Name: "This network", RFC: "RFC 791"},
	{Prefix: p("0.0.0.0/32"), Name: "This host on this network", RFC: "RFC 1122"},
	{Prefix: p("10.0.0.0/8"), Name: "Private-Use", RFC: "RFC 1918"},
	{Prefix: p("100.64.0.0/10"), Name: "Shared Address Space", RFC: "RFC 6598"},
	{Prefix: p("127.0.0.0/8"), Name: "Loopback", RFC: "RFC 1122"},
	{Prefix: p("169.254.0.0/16"), Name: "Link Local", RFC: "RFC 3927"},
	{Prefix: p("172.16.0.0/12"), Name: "Private-Use", RFC: "RFC 1918"},
	{Prefix: p("192.0.0.0/24"), Name: "IETF Protocol Assignments", RFC: "RFC 6890"},
	{Prefix: p("192.0.0.0/29"), Name: "IPv4 Service Continuity Prefix", RFC: "RFC 7335"},
	{Prefix: p("192.0.0.8/32"), Name: "IPv4 dummy address", RFC: "RFC 7600"},
	{Prefix: p("192.0.0.9/32"), Name: "Port Control Protocol Anycast", RFC: "RFC 7723"},
	{Prefix: p("192.0.0.10/32"), Name: "Traversal Using Relays around NAT Anycast", RFC: "RFC 8155"},
	{Prefix: p("192.0.0.170/32"), Name: "NAT64/DNS64 Discovery", RFC: "RFC 8880"},
	{Prefix: p("192.0.0.171/32"), Name: "NAT64/DNS64 Discovery", RFC: "RFC 8880"},
	{Prefix: p("192.0.2.0/24"), Name: "Documentation (TEST-NET-1)", RFC: "RFC 5737"},
	{Prefix: p("192.31.196.0/24"), Name: "AS112-v4", RFC: "RFC 7535"},
	{Prefix: p("192.52.193.0/24"), Name: "AMT", RFC: "RFC 7450"},
	{Prefix: p("192.88.99.0/24"), Name: "Deprecated (6to4 Relay Anycast)", RFC: "RFC 7526"},
	{Prefix: p("192.168.0.0/16"), Name: "Private-Use", RFC: "RFC 1918"},
	{Prefix: p("192.175.48.0/24"), Name: "Direct Delegation AS112 Service", RFC: "RFC 7534"},
	{Prefix: p("198.18.0.0/15"), Name: "Benchmarking", RFC: "RFC 2544"},
	{Prefix: p("198.51.100.0/24"), Name: "Documentation (TEST-NET-2)", RFC: "RFC 5737"},
	{Prefix: p("203.0.113.0/24"), Name: "Documentation (TEST-NET-3)", RFC: "RFC 5737"},
	{Prefix: p("240.0.0.0/4"), Name: "Reserved", RFC: "RFC 1112"},
	{Prefix: p("255.255.255.255/32"), Name: "Limited Broadcast", RFC: "RFC 8190"},
	// Not in the special-purpose registry (it has its own), and never a unicast target.
	{Prefix: p("224.0.0.0/4"), Name: "Multicast", RFC: "RFC 5771"},

	// IANA IPv6 Special-Purpose Address Registry.
	{Prefix: p("::1/128"), Name: "Loopback Address", RFC: "RFC 4291"},
	{Prefix: p("::/128"), Name: "Unspecified Address", RFC: "RFC 4291"},
	{Prefix: p("::ffff:0:0/96"), Name: "IPv4-mapped Address", RFC: "RFC 4291", embedsIPv4: true},
	{Prefix: p("64:ff9b::/96"), Name: "IPv4-IPv6 Translat.", RFC: "RFC 6052", embedsIPv4: true},
	// The local-use prefix may embed IPv4 at any of several lengths (/48 to /96) that only the
	// operator's translator knows: refused whole.
	{Prefix: p("64:ff9b:1::/48"), Name: "IPv4-IPv6 Translat. (local use)", RFC: "RFC 8215"},
	{Prefix: p("100::/64"), Name: "Discard-Only Address Block", RFC: "RFC 6666"},
	{Prefix: p("100:0:0:1::/64"), Name: "Dummy IPv6 Prefix", RFC: "RFC 9780"},
	{Prefix: p("2001::/23"), Name: "IETF Protocol Assignments", RFC: "RFC 2928"},
	{Prefix: p("2001::/32"), Name: "TEREDO", RFC: "RFC 4380"},
	{Prefix: p("2001:1::1/128"), Name: "Port Control Protocol Anycast", RFC: "RFC 7723"},
	{Prefix: p("2001:1::2/128"), Name: "Traversal Using Relays around NAT Anycast", RFC: "RFC 8155"},
	{Prefix: p("2001:1::3/128"), Name: "DNS-SD Service Registration Protocol Anycast", RFC: "RFC 9665"},
	{Prefix: p("2001:2::/48"), Name: "Benchmarking", RFC: "RFC 5180"},
	{Prefix: p("2001:3::/32"), Name: "AMT", RFC: "RFC 7450"},
	{Prefix: p("2001:4:112::/48"), Name: "AS112-v6", RFC: "RFC 7535"},
	{Prefix: p("2001:10::/28"), Name: "Deprecated (previously ORCHID)", RFC: "RFC 4843"},
	{Prefix: p("2001:20::/28"), Name: "ORCHIDv2", RFC: "RFC 7343"},
	{Prefix: p("2001:30::/28"), Name: "Drone Remote ID Protocol Entity Tags (DETs) Prefix", RFC: "RFC 9374"},
	{Prefix: p("2001:db8::/32"), Name: "Documentation", RFC: "RFC 3849"},
	// 6to4 embeds an IPv4 address too, but the 80 bits after it number the hosts of that IPv4
	// site: when the site is ours, 2002:<our public IPv4>::/48 is our own internal network. The
	// embedded address cannot tell that apart, so the block is refused whole.
	{Prefix: p("2002::/16"), Name: "6to4", RFC: "RFC 3056"},
	{Prefix: p("2620:4f:8000::/48"), Name: "Direct Delegation AS112 Service", RFC: "RFC 7534"},
	{Prefix: p("3fff::/20"), Name: "Documentation", RFC: "RFC 9637"},
	{Prefix: p("5f00::/16"), Name: "Segment Routing (SRv6) SIDs", RFC: "RFC 9602"},
	{Prefix: p("fc00::/7"), Name: "Unique-Local", RFC: "RFC 4193"},
	{Prefix: p("fe80::/10"), Name: "Link-Local Unicast", RFC: "RFC 4291"},
	// Outside the registry but as internal: deprecated forms and scopes.
	{Prefix: p("::/96"), Name: "IPv4-compatible Address (deprecated)", RFC: "RFC 4291"},
	{Prefix: p("fec0::/10"), Name: "Site-Local (deprecated)", RFC: "RFC 3879"},
	{Prefix: p("ff00::/8"), Name: "Multicast", RFC: "RFC 4291"},
}

// globalUnicast is the only IPv6 space IANA allocates for global unicast today; everything outside
// it is reserved, so an address there is refused even when no entry above names it.
var globalUnicast = p("2000::/3")

func p(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// ErrNotPublic is what a refused address's error wraps.
var ErrNotPublic = errors.New("not a public address")

// RefusedError says why an address was refused: the most specific block it falls in.
type RefusedError struct {
	Addr  netip.Addr
	Range Range
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is %v: %s (%s, %s)", e.Addr, ErrNotPublic, e.Range.Name, e.Range.Prefix, e.Range.RFC)
}

func (e *RefusedError) Unwrap() error { return ErrNotPublic }

// Check returns nil for an address a request made on behalf of a caller may go to, and a
// *RefusedError otherwise.
func Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &RefusedError{Addr: ip, Range: Range{Name: "invalid address"}}
	}
	if ip.Zone() != "" {
		// A zone is an interface of this machine: only scoped (link- or site-local) addresses
		// carry one.
		return &RefusedError{Addr: ip, Range: Range{Prefix: netip.PrefixFrom(ip.WithZone(""), ip.BitLen()), Name: "scoped address with a zone"}}
	}
	if r, ok := lookup(ip); ok {
		if !r.embedsIPv4 {
			return &RefusedError{Addr: ip, Range: r}
		}
		b := ip.As16()
		inner := netip.AddrFrom4([4]byte(b[12:]))
		if err := Check(inner); err != nil {
			return &RefusedError{Addr: ip, Range: Range{Prefix: r.Prefix, Name: r.Name + " of " + err.(*RefusedError).Range.Name, RFC: r.RFC}}
		}
		return nil
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return &RefusedError{Addr: ip, Range: Range{Prefix: globalUnicast, Name: "outside IPv6 global unicast (reserved by IETF)", RFC: "RFC 4291"}}
	}
	return nil
}

// lookup returns the most specific block holding ip, so that the error names the precise entry
// (192.0.0.9 is "Port Control Protocol Anycast", not just "IETF Protocol Assignments").
func lookup(ip netip.Addr) (Range, bool) {
	best, found := Range{}, false
	for _, r := range Special {
		if r.Prefix.Addr().Is4() != ip.Is4() || !r.Prefix.Contains(ip) {
			continue
		}
		if !found || r.Prefix.Bits() > best.Prefix.Bits() {
			best, found = r, true
		}
	}
	return best, found
}
