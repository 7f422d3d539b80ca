package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fhirhub/fhirhub/fhir"
)

// KeySource finds the public key that verifies a token's signature.
type KeySource interface {
	// Key returns the key with id kid (any single key when kid is empty
	// and there is only one); ErrUnknownKey when there is none.
	Key(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// ErrUnknownKey is returned by a KeySource that has no key with the id asked for.
var ErrUnknownKey = errors.New("auth: unknown signing key")

// Algorithms are the JWS algorithms accepted; every other one (none,
// HS256 ...) is refused.
var Algorithms = []string{"RS256", "ES256"}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Keys verifies signatures: a JWKS fetched from a URL, or the embedded Issuer.
	Keys KeySource
	// Issuer is the iss that tokens must carry.
	Issuer string
	// Audience must be one of a token's aud values.
	Audience string
	// Leeway is the clock skew allowed on exp and nbf.
	Leeway time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// CacheFor is how long a verified token is remembered (never past its
	// exp), so that a client's next requests skip the signature check; 0
	// verifies every time. A key withdrawn from the JWKS stops working for
	// tokens already seen after this long.
	CacheFor time.Duration
	// CacheSize bounds the remembered tokens (default 10,000).
	CacheSize int
}

// DefaultVerifierConfig returns a config with a 30 s leeway and verified
// tokens remembered for a minute; set Keys, Issuer and Audience.
func DefaultVerifierConfig() VerifierConfig {
	return VerifierConfig{Leeway: 30 * time.Second, Now: time.Now, CacheFor: time.Minute, CacheSize: 10000}
}

// Verifier verifies access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg    VerifierConfig
	parser *jwt.Parser

	mu    sync.RWMutex
	cache map[[32]byte]verified // by SHA-256 of the token
}

// verified is a remembered verification.
type verified struct {
	p     *Principal
	until time.Time
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("auth: verifier config needs Keys")
	case cfg.Issuer == "":
		return nil, errors.New("auth: verifier config needs the Issuer tokens must name")
	case cfg.Audience == "":
		return nil, errors.New("auth: verifier config needs the Audience tokens must name")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	return &Verifier{cfg: cfg, cache: map[[32]byte]verified{}, parser: jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)}, nil
}

// Verify checks token (the compact JWS of a bearer header) and returns
// its Principal: signature by a known key with RS256 or ES256, exp
// present and not passed, nbf passed, iss and aud as configured. A refusal
// is a fhir.Error with code login whose message says why without quoting
// the token. Cost: one signature verification (ES256 ~0.25 ms on a busy
// 2-core machine, BenchmarkVerify), plus a key fetch when the key id is
// new; a token verified within CacheFor costs a SHA-256 and a map lookup
// (~2 us). The Principal may be shared between calls: treat it as
// read-only.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	var sum [32]byte
	if v.cfg.CacheFor > 0 {
		sum = sha256.Sum256([]byte(token))
		v.mu.RLock()
		c, ok := v.cache[sum]
		v.mu.RUnlock()
		if ok && v.cfg.Now().Before(c.until) {
			return c.p, nil
		}
	}
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := v.cfg.Keys.Key(ctx, kid)
		if err != nil {
			return nil, err
		}
		if !keyFits(t.Method.Alg(), key) {
			return nil, errKeyMismatch
		}
		return key, nil
	})
	if err != nil {
		return nil, fhir.Errorf(fhir.IssueLogin, "invalid bearer token: %s", reason(err)).Wrap(err)
	}
	p := claims.principal()
	if v.cfg.CacheFor > 0 {
		until := v.cfg.Now().Add(v.cfg.CacheFor)
		if exp := claims.ExpiresAt.Time; exp.Before(until) {
			until = exp
		}
		v.mu.Lock()
		if len(v.cache) >= v.cfg.CacheSize {
			clear(v.cache) // simpler than LRU; a refill costs one verification per client
		}
		v.cache[sum] = verified{p: p, until: until}
		v.mu.Unlock()
	}
	return p, nil
}

var errKeyMismatch = errors.New("auth: key type does not match the algorithm")

// keyFits reports whether key is of the kind alg needs (RSA of at least
// 2048 bits for RS256, P-256 for ES256).
func keyFits(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == "RS256" && k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256()
	}
	return false
}

// reason says why a token was refused, in words safe to show and log.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, ErrUnknownKey):
		return "signed by an unknown key"
	case errors.Is(err, errKeyMismatch):
		return "algorithm does not match the key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature not valid, or algorithm not " + strings.Join(Algorithms, " or ")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "no expiry (exp)"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "keys could not be fetched in time"
	}
	return "cannot be verified"
}

// BearerToken returns the token of an Authorization header value
// ("Bearer <token>", scheme case-insensitive), and false when there is none.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
