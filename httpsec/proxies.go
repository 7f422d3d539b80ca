package httpsec

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies (load balancers, ingress) whose
// X-Forwarded-For header is believed: only when a request's immediate
// peer is one of them is the client address taken from that header. Any
// client can send the header, so without trusted proxies it is ignored.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies returns the proxies in cidrs (CIDR blocks such as
// 10.0.0.0/8, or single addresses); empty entries are skipped. None:
// X-Forwarded-For is never believed.
func ParseTrustedProxies(cidrs []string) (*TrustedProxies, error) {
	t := &TrustedProxies{}
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return nil, fmt.Errorf("httpsec: trusted proxy %q: want a CIDR block or an IP address: %w", c, err)
			}
			t.prefixes = append(t.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("httpsec: trusted proxy %q: want a CIDR block or an IP address: %w", c, err)
		}
		t.prefixes = append(t.prefixes, netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked())
	}
	return t, nil
}

// trusts reports whether a is a trusted proxy.
func (t *TrustedProxies) trusts(a netip.Addr) bool {
	if t == nil {
		return false
	}
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddress returns the IP address of r's client: the peer's, or,
// when the peer is a trusted proxy, the rightmost X-Forwarded-For address
// that is not itself a trusted proxy (every proxy appends the address it
// received the request from, so addresses left of it may be the client's
// inventions). An address of the header that does not parse ends the walk
// at the proxy that added it.
func (t *TrustedProxies) ClientAddress(r *http.Request) string {
	peer := peerAddress(r)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !t.trusts(addr) {
		return peer
	}
	hops := forwardedFor(r.Header)
	client := addr.Unmap().String()
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a.String()
		if !t.trusts(a) {
			break
		}
	}
	return client
}

// forwardedFor returns the addresses of r's X-Forwarded-For headers, in
// order (several headers count as one list).
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop parses an X-Forwarded-For address: an IP, with or without a
// port ("[v6]:port", "v4:port").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// peerAddress is the IP address of r's immediate peer.
func peerAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type clientKey struct{}

// Handler serves next with each request's client address (ClientAddress)
// resolved once and kept in its context, where the package function
// ClientAddress finds it.
func (t *TrustedProxies) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientKey{}, t.ClientAddress(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ClientAddress returns the client address that a TrustedProxies Handler
// resolved for r, else the IP address of r's immediate peer. Audit
// records and per-address rate limits use it.
func ClientAddress(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peerAddress(r)
}
