package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
)

// idp is an identity provider played by a real HTTP server on
// 127.0.0.1:0 that publishes its keys as a JWK Set.
type idp struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	fetches atomic.Int64
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	p := &idp{}
	var err error
	p.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.publishRSA("rsa-1", &p.rsa.PublicKey)
	p.publishEC("ec-1", &p.ec.PublicKey)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": p.keys})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (p *idp) publishRSA(kid string, k *rsa.PublicKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
}

func (p *idp) publishEC(kid string, k *ecdsa.PublicKey) {
	var x, y [32]byte
	k.X.FillBytes(x[:])
	k.Y.FillBytes(y[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(x[:]), "y": b64(y[:])})
}

const (
	issuer   = "https://idp.example.org"
	audience = "https://fhir.example.org/fhir"
)

var now = time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)

func claims(mod ...func(*auth.Claims)) *auth.Claims {
	c := &auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "dr-who", Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope: "openid user/*.rs patient/Observation.read", Role: "doctor", Tenant: "demo", Facility: "f1", Patient: "p1",
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, key any, c *auth.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func (p *idp) verifier(t *testing.T, minRefresh time.Duration) *auth.Verifier {
	t.Helper()
	return p.verifierAt(t, minRefresh, func() time.Time { return now })
}

func (p *idp) verifierAt(t *testing.T, minRefresh time.Duration, clock func() time.Time) *auth.Verifier {
	t.Helper()
	jc := auth.DefaultJWKSConfig()
	jc.URL, jc.MinRefresh, jc.Now = p.srv.URL, minRefresh, clock
	keys, err := auth.NewJWKS(jc)
	require.NoError(t, err)
	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience, vc.Now = keys, issuer, audience, clock
	v, err := auth.NewVerifier(vc)
	require.NoError(t, err)
	return v
}

func TestVerifyAcceptsRS256AndES256FromTheJWKS(t *testing.T) {
	p := newIDP(t)
	v := p.verifier(t, time.Minute)
	for name, tok := range map[string]string{
		"RS256": sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims()),
		"ES256": sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims()),
	} {
		pr, err := v.Verify(context.Background(), tok)
		require.NoError(t, err, name)
		assert.Equal(t, "dr-who", pr.Subject)
		assert.Equal(t, "doctor", pr.Role)
		assert.Equal(t, "demo", pr.Tenant)
		assert.Equal(t, "f1", pr.Facility)
		assert.Equal(t, "p1", pr.Patient)
		assert.Equal(t, []auth.Scope{{Context: "user", Type: "*", Perm: auth.PermRead | auth.PermSearch},
			{Context: "patient", Type: "Observation", Perm: auth.PermRead | auth.PermSearch}}, pr.Scopes, "openid dropped")
	}
	assert.EqualValues(t, 1, p.fetches.Load(), "keys fetched once and kept")
}

func TestVerifyRefuses(t *testing.T) {
	p := newIDP(t)
	v := p.verifier(t, time.Minute)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	good := sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims())
	parts := strings.Split(good, ".")
	tampered, _ := json.Marshal(claims(func(c *auth.Claims) { c.Role = "admin" }))
	var rsaPub = p.rsa.PublicKey

	cases := []struct {
		name, token, reason string
	}{
		{"alg none", sign(t, jwt.SigningMethodNone, "ec-1", jwt.UnsafeAllowNoneSignatureType, claims()), "algorithm not"},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, "rsa-1", rsaPub.N.Bytes(), claims()), "algorithm not"},
		{"RS256 header on the EC key", sign(t, jwt.SigningMethodRS256, "ec-1", p.rsa, claims()), "does not match"},
		{"unknown kid", sign(t, jwt.SigningMethodES256, "ec-9", p.ec, claims()), "unknown key"},
		{"signed by another key", sign(t, jwt.SigningMethodES256, "ec-1", other, claims()), "signature not valid"},
		{"payload changed after signing", parts[0] + "." + b64(tampered) + "." + parts[2], "signature not valid"},
		{"expired", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		})), "expired"},
		{"no exp", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) { c.ExpiresAt = nil })), "no expiry"},
		{"not yet valid", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(5 * time.Minute))
		})), "not valid yet"},
		{"wrong audience", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) {
			c.Audience = jwt.ClaimStrings{"https://other.example.org/fhir"}
		})), "wrong audience"},
		{"wrong issuer", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) { c.Issuer = "https://evil.example.org" })), "wrong issuer"},
		{"not a JWT", "abc.def", "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr, err := v.Verify(context.Background(), c.token)
			require.Error(t, err)
			assert.Nil(t, pr)
			assert.Equal(t, fhir.IssueLogin, fhir.ErrorCode(err))
			fe := fhir.AsError(err)
			require.NotNil(t, fe)
			assert.Contains(t, fe.Message, c.reason)
			for _, part := range strings.Split(c.token, ".") {
				if len(part) > 8 {
					assert.NotContains(t, err.Error(), part, "no token material in the error")
				}
			}
		})
	}
}

func TestJWKSRefreshesForANewKeyAtMostOncePerInterval(t *testing.T) {
	p := newIDP(t)
	v := p.verifier(t, time.Hour)
	ctx := context.Background()
	_, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims()))
	require.NoError(t, err)
	require.EqualValues(t, 1, p.fetches.Load())

	// Unknown kids fetch once, then wait for MinRefresh.
	for range 5 {
		_, err = v.Verify(ctx, sign(t, jwt.SigningMethodES256, "made-up", p.ec, claims()))
		require.Error(t, err)
	}
	assert.EqualValues(t, 1, p.fetches.Load(), "the first unknown kid within MinRefresh of the last fetch fetches nothing")

	// A rotated key is picked up once the interval allows a fetch.
	p2 := newIDP(t)
	vFast := p2.verifier(t, 0)
	_, err = vFast.Verify(ctx, sign(t, jwt.SigningMethodES256, "ec-1", p2.ec, claims()))
	require.NoError(t, err)
	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p2.publishEC("ec-2", &rotated.PublicKey)
	_, err = vFast.Verify(ctx, sign(t, jwt.SigningMethodES256, "ec-2", rotated, claims()))
	require.NoError(t, err, "the new key was fetched")
	assert.EqualValues(t, 2, p2.fetches.Load())
}

func TestJWKSKeepsKeysWhenTheIssuerIsDown(t *testing.T) {
	p := newIDP(t)
	v := p.verifier(t, 0)
	tok := sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims())
	_, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	p.srv.Close()
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "unknown", p.rsa, claims()))
	require.Error(t, err)
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err, "the known key still verifies")
}

func TestParseJWKSLeavesOutWeakAndForeignKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": b64(small.N.Bytes()), "e": "AQAB"},
	}})
	keys, err := auth.ParseJWKS(doc)
	require.NoError(t, err)
	assert.Empty(t, keys)
	doc, _ = json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "small", "n": b64(small.N.Bytes()), "e": "AQAB"}}})
	_, err = auth.ParseJWKS(doc)
	assert.Error(t, err, "a 1024-bit RSA signing key is refused")
	doc, _ = json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "kid": "off", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))}}})
	_, err = auth.ParseJWKS(doc)
	assert.Error(t, err, "a point off the curve is refused")
}

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": ""} {
		got, ok := auth.BearerToken(h)
		assert.Equal(t, want, got, h)
		assert.Equal(t, want != "", ok, h)
	}
}

func TestVerifyRemembersTokensNoLongerThanTheyLast(t *testing.T) {
	p := newIDP(t)
	clock := now
	v := p.verifierAt(t, time.Minute, func() time.Time { return clock })
	tok := sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(30 * time.Second))
	}))
	first, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	again, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Same(t, first, again, "remembered")

	clock = now.Add(45 * time.Second) // past exp, within the leeway
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err, "the leeway still applies")
	clock = now.Add(2 * time.Minute)
	_, err = v.Verify(context.Background(), tok)
	assert.Error(t, err, "a remembered token still expires")

	// A tampered copy is not a remembered token.
	parts := strings.Split(tok, ".")
	_, err = v.Verify(context.Background(), parts[0]+"."+parts[1]+"x."+parts[2])
	assert.Error(t, err)
}
