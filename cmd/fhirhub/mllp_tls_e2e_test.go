package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/mllp"
)

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
