package intake_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// mustCert returns a self-signed client certificate with these names.
func mustCert(t *testing.T, cn string, dns []string, uri string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: dns,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if uri != "" {
		u, err := url.Parse(uri)
		require.NoError(t, err)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

func testSenders(t *testing.T) *intake.Senders {
	t.Helper()
	s, err := intake.ParseSenders([]byte(`[
		{"certificate": "lis.citylab.example", "sendingApplications": ["LIS"], "sendingFacilities": ["CITYLAB"]},
		{"certificate": "spiffe://hosp/ris", "sendingFacilities": ["RAD"]}
	]`))
	require.NoError(t, err)
	return s
}

func TestSendersIdentify(t *testing.T) {
	s := testSenders(t)
	cases := []struct {
		name     string
		certs    []*x509.Certificate
		wantRule string // "" for unmapped
	}{
		{"by subject CN", []*x509.Certificate{mustCert(t, "lis.citylab.example", nil, "")}, "lis.citylab.example"},
		{"by DNS name, any case", []*x509.Certificate{mustCert(t, "lab sender", []string{"LIS.citylab.example"}, "")}, "lis.citylab.example"},
		{"by URI name", []*x509.Certificate{mustCert(t, "ris", nil, "spiffe://hosp/ris")}, "spiffe://hosp/ris"},
		{"unknown certificate", []*x509.Certificate{mustCert(t, "stranger", []string{"x.example"}, "")}, ""},
		{"no certificate", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.Identify(c.certs)
			require.NotNil(t, got)
			if c.wantRule == "" {
				assert.Nil(t, got.Rule)
				return
			}
			require.NotNil(t, got.Rule)
			assert.Equal(t, c.wantRule, got.Rule.Certificate)
		})
	}
}

func TestParseSendersRefusesBadLists(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":       `{`,
		"empty":          `[]`,
		"no certificate": `[{"sendingFacilities":["X"]}]`,
		"named twice":    `[{"certificate":"a"},{"certificate":"A"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := intake.ParseSenders([]byte(doc))
			assert.Error(t, err)
		})
	}
}

// TestReceiveChecksTheSender: a message whose MSH-3/MSH-4 its client
// certificate does not allow is answered AR with an ERR segment (207, at
// the field) and stored as rejected, never accepted.
func TestReceiveChecksTheSender(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	in := newIntake(t, st)
	senders := testSenders(t)
	lis := senders.Identify([]*x509.Certificate{mustCert(t, "lis.citylab.example", nil, "")})
	stranger := senders.Identify([]*x509.Certificate{mustCert(t, "stranger", nil, "")})

	cases := []struct {
		name       string
		sender     *intake.Sender
		raw        []byte
		wantAck    string
		wantStatus store.MessageStatus
		wantField  string // ERR-2 field of the refusal
	}{
		{"its own application and facility", lis, oru("S1", "", "MRN1"), "AA", store.MessageReceived, ""},
		{"another facility", lis, []byte(strings.Replace(string(oru("S2", "", "MRN1")), "|LIS|CITYLAB|", "|LIS|OTHERLAB|", 1)), "AR", store.MessageRejected, "4"},
		{"another application", lis, []byte(strings.Replace(string(oru("S3", "", "MRN1")), "|LIS|CITYLAB|", "|RIS|CITYLAB|", 1)), "AR", store.MessageRejected, "3"},
		{"the facility's control id taken by a spoofer stays free", lis, oru("S2", "", "MRN1"), "AA", store.MessageReceived, ""},
		{"an unmapped certificate", stranger, oru("S4", "", "MRN1"), "AR", store.MessageRejected, "3"},
		{"enhanced mode", lis, []byte(strings.Replace(string(oru("S5", "AL|NE", "MRN1")), "|LIS|CITYLAB|", "|LIS|OTHERLAB|", 1)), "CR", store.MessageRejected, "4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ack, msg := in.Receive(ctx, c.raw, intake.Source{Channel: "mllp", Peer: "127.0.0.1:1", Sender: c.sender})
			code, _, errCodes := ackOf(t, ack)
			assert.Equal(t, c.wantAck, code)
			stored, err := st.Message(ctx, msg.ID)
			require.NoError(t, err)
			assert.Equal(t, c.wantStatus, stored.Status, "stored as")
			if c.wantField == "" {
				assert.Empty(t, errCodes)
				return
			}
			assert.Equal(t, []string{"207"}, errCodes)
			m, err := hl7v2.Parse(ack)
			require.NoError(t, err)
			errSeg := m.Segment("ERR", 1)
			assert.Equal(t, "MSH", errSeg.Field(2).Comp(1).String())
			assert.Equal(t, c.wantField, errSeg.Field(2).Comp(3).String())
			assert.Contains(t, stored.Error, "MSH^1^"+c.wantField, "the reason names the field")
		})
	}
}
