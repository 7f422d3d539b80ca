package httpsec_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/httpsec"
)

// TestClientAddress asks a real server on 127.0.0.1 for the client
// address it resolved, with X-Forwarded-For headers from an untrusted
// peer (ignored: anyone can send them) and through trusted proxies.
func TestClientAddress(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		xff     []string
		want    string
	}{
		{"no trusted proxies: the header is ignored", nil, []string{"203.0.113.9"}, "127.0.0.1"},
		{"an untrusted peer cannot spoof its address", []string{"10.0.0.0/8"}, []string{"203.0.113.9"}, "127.0.0.1"},
		{"an untrusted peer cannot spoof a trusted chain", []string{"10.0.0.0/8"}, []string{"203.0.113.9, 10.0.0.7"}, "127.0.0.1"},
		{"a trusted peer without the header", []string{"127.0.0.1"}, nil, "127.0.0.1"},
		{"a trusted peer forwards its client", []string{"127.0.0.1"}, []string{"203.0.113.9"}, "203.0.113.9"},
		{"the rightmost untrusted address wins over what the client wrote", []string{"127.0.0.0/8", "10.0.0.0/8"},
			[]string{"198.51.100.1, 203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"several headers are one list", []string{"127.0.0.1", "10.0.0.7"},
			[]string{"198.51.100.1", "203.0.113.9", "10.0.0.7"}, "203.0.113.9"},
		{"an address with a port", []string{"127.0.0.1"}, []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"garbage stops at the proxy that added it", []string{"127.0.0.1", "10.0.0.7"}, []string{"203.0.113.9, bogus, 10.0.0.7"}, "10.0.0.7"},
		{"a chain of trusted proxies only", []string{"127.0.0.1", "10.0.0.0/8"}, []string{"10.0.0.8, 10.0.0.7"}, "10.0.0.8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxies, err := httpsec.ParseTrustedProxies(c.trusted)
			require.NoError(t, err)
			srv := httptest.NewServer(proxies.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, httpsec.ClientAddress(r))
			})))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			res, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(body))
		})
	}
}

func TestClientAddressWithoutHandler(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.4:5555"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	assert.Equal(t, "192.0.2.4", httpsec.ClientAddress(req), "the peer, headers ignored")
}

func TestParseTrustedProxies(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []string
		ok    bool
	}{
		{"none", nil, true},
		{"empty entries", []string{"", " "}, true},
		{"blocks and addresses", []string{"10.0.0.0/8", " 192.168.1.1 ", "2001:db8::/32"}, true},
		{"a host name", []string{"proxy.example"}, false},
		{"a bad prefix length", []string{"10.0.0.0/33"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := httpsec.ParseTrustedProxies(c.cidrs)
			if c.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "httpsec: trusted proxy")
			}
		})
	}
}
