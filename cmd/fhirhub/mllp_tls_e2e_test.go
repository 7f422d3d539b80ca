package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/mllp"
)

// testPKI is a CA for a test, writing what it issues as PEM files.
type testPKI struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	p := &testPKI{t: t, dir: t.TempDir(), cert: cert, key: key, pool: pool}
	require.NoError(t, os.WriteFile(p.path("ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

// issue makes a certificate for cn (also its DNS name; 127.0.0.1 for a
// server), writes cn.pem and cn-key.pem, and returns it.
func (p *testPKI) issue(cn string, usage x509.ExtKeyUsage) tls.Certificate {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(p.t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{cn}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	require.NoError(p.t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(p.t, err)
	require.NoError(p.t, os.WriteFile(p.path(cn+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(p.t, os.WriteFile(p.path(cn+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	pair, err := tls.LoadX509KeyPair(p.path(cn+".pem"), p.path(cn+"-key.pem"))
	require.NoError(p.t, err)
	return pair
}

// TestMLLPClientCertificatesIdentifySenders runs `fhirhub serve` with
// mutual TLS and a senders file: the ADT system's certificate may send as
// ADT|HOSP only; a message naming another facility, and any message from a
// certificate the file does not list, is answered AR with ERR-3 207 and
// stored as rejected.
func TestMLLPClientCertificatesIdentifySenders(t *testing.T) {
	pki := newPKI(t)
	pki.issue("fhirhub", x509.ExtKeyUsageServerAuth)
	adt := pki.issue("adt.hosp.example", x509.ExtKeyUsageClientAuth)
	other := pki.issue("billing.hosp.example", x509.ExtKeyUsageClientAuth)
	senders := pki.path("senders.json")
	require.NoError(t, os.WriteFile(senders, []byte(`[{"certificate":"adt.hosp.example","sendingApplications":["ADT"],"sendingFacilities":["HOSP"]}]`), 0o600))
	h := newHub(t, "-mllp-tls-cert", pki.path("fhirhub.pem"), "-mllp-tls-key", pki.path("fhirhub-key.pem"),
		"-mllp-tls-client-ca", pki.path("ca.pem"), "-mllp-tls-senders-file", senders)
	send := func(cert tls.Certificate, raw []byte) (code string, errSeg hl7v2.Segment) {
		t.Helper()
		ccfg := mllp.DefaultClientConfig(h.servers[0].mllp)
		ccfg.TLS = &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{cert}}
		c, err := mllp.NewClient(ccfg)
		require.NoError(t, err)
		defer c.Close()
		ack, err := c.Send(context.Background(), raw)
		require.NoError(t, err)
		m, err := hl7v2.Parse(ack)
		require.NoError(t, err)
		return m.Segment("MSA", 1).Field(1).String(), m.Segment("ERR", 1)
	}

	cases := []struct {
		name, control string
		cert          tls.Certificate
		raw           []byte
		wantAck       string
		wantField     string // ERR-2 field, "" for no ERR
	}{
		{"its own application and facility", "TLS-1", adt, adtA01("TLS-1", "M1"), "AA", ""},
		{"another facility", "TLS-2", adt, []byte(strings.Replace(string(adtA01("TLS-2", "M2")), "|ADT|HOSP|", "|ADT|CLINIC9|", 1)), "AR", "4"},
		{"a certificate not in the senders file", "TLS-3", other, adtA01("TLS-3", "M3"), "AR", "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, errSeg := send(c.cert, c.raw)
			assert.Equal(t, c.wantAck, code)
			var status string
			require.NoError(t, h.conn.QueryRow(context.Background(),
				`SELECT status FROM hl7_message WHERE control_id = $1 ORDER BY id DESC LIMIT 1`, c.control).Scan(&status))
			if c.wantField == "" {
				assert.False(t, errSeg.Exists())
				assert.NotEqual(t, "rejected", status)
				return
			}
			require.True(t, errSeg.Exists(), "an ERR segment")
			assert.Equal(t, "207", errSeg.Field(3).Comp(1).String())
			assert.Equal(t, c.wantField, errSeg.Field(2).Comp(3).String())
			assert.Equal(t, "rejected", status, "stored, as rejected")
		})
	}
}
