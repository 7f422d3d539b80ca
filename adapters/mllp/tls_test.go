package mllp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tlsConfigWithoutCert tls.Config

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

// MustCA makes a self-signed CA.
func MustCA(tb testing.TB, name string) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(tb, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// MustIssue issues a leaf certificate for 127.0.0.1 (server) or a client.
func (ca *testCA) MustIssue(tb testing.TB, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(tb, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(tb, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func TestServerTLS(t *testing.T) {
	ca := MustCA(t, "fhirhub test CA")
	serverCert := ca.MustIssue(t, "fhirhub", x509.ExtKeyUsageServerAuth)
	sender := ca.MustIssue(t, "lab-sender", x509.ExtKeyUsageClientAuth)
	stranger := MustCA(t, "other CA").MustIssue(t, "stranger", x509.ExtKeyUsageClientAuth)

	tests := []struct {
		name       string
		clientAuth tls.ClientAuthType
		clientCert *tls.Certificate
		wantPeer   string // CN the handler sees; "" for refused
		refused    bool
	}{
		{"server TLS", tls.NoClientCert, nil, "", false},
		{"mutual TLS", tls.RequireAndVerifyClientCert, &sender, "lab-sender", false},
		{"mutual TLS, untrusted client", tls.RequireAndVerifyClientCert, &stranger, "", true},
		{"mutual TLS, no client certificate", tls.RequireAndVerifyClientCert, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := testConfig(t)
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tt.clientAuth, ClientCAs: ca.pool}
			peers := make(chan []*x509.Certificate, 1)
			h := ackFor(nil)
			s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
				peers <- m.Conn.PeerCertificates
				return h(ctx, m)
			}))

			ccfg := DefaultClientConfig(s.Addr().String())
			ccfg.TLS = &tls.Config{RootCAs: ca.pool}
			if tt.clientCert != nil {
				ccfg.TLS.Certificates = []tls.Certificate{*tt.clientCert}
			}
			ccfg.Retries, ccfg.Backoff = 3, time.Millisecond
			c, err := NewClient(ccfg)
			require.NoError(t, err)
			defer c.Close()
			ack, err := c.Send(context.Background(), testMessage("TLS-1"))
			if tt.refused {
				require.Error(t, err)
				assert.False(t, retryable(err), "a refused certificate is not retried: %v", err)
				waitUntil(t, "the handshake failure is counted", func() bool { return s.Stats().TLSFailures >= 1 })
				assert.EqualValues(t, 1, s.Stats().TLSFailures, "one attempt")
				assert.Zero(t, s.Stats().Messages, "the handler never sees a message")
				return
			}
			require.NoError(t, err)
			_, ref := MustAck(t, ack)
			assert.Equal(t, "TLS-1", ref)
			got := <-peers
			if tt.wantPeer == "" {
				assert.Empty(t, got)
			} else {
				require.NotEmpty(t, got)
				assert.Equal(t, tt.wantPeer, got[0].Subject.CommonName)
			}
		})
	}
}

func TestClientTLSUntrustedServer(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{MustCA(t, "unknown CA").MustIssue(t, "fhirhub", x509.ExtKeyUsageServerAuth)}}
	s := MustServe(t, cfg, ackFor(nil))
	c := MustClient(t, s.Addr().String(), func(c *ClientConfig) {
		c.TLS = &tls.Config{RootCAs: MustCA(t, "our CA").pool}
		c.Retries = 3
	})
	_, err := c.Send(context.Background(), testMessage("X"))
	var certErr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &certErr)
	assert.NotContains(t, err.Error(), "attempt", "not retried")
}

func TestServerTLSRefusesPlainClient(t *testing.T) {
	ca := MustCA(t, "fhirhub test CA")
	cfg, _ := testConfig(t)
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{ca.MustIssue(t, "fhirhub", x509.ExtKeyUsageServerAuth)}}
	s := MustServe(t, cfg, ackFor(nil))
	nc := MustDial(t, s)
	MustWrite(t, nc, frame(testMessage("PLAIN")))
	requireClosed(t, nc)
	assert.Zero(t, s.Stats().Messages)
}
