package limits

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is the address of the person behind a request (failed authentication is counted against
// it, the audit trail records it): the connection's peer, or, when that peer is a trusted proxy, the
// last X-Forwarded-For entry that is not a trusted proxy itself
// (entries further left were written by the client and prove nothing).
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed entry ends what can be believed
		}
		if hop = hop.Unmap(); !isTrusted(hop) {
			return hop.String()
		}
		addr = hop
	}
	return addr.String()
}
