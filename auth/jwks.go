package auth

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// JWKSConfig configures a JWKS key source.
type JWKSConfig struct {
	// URL of the JWK Set (the issuer's jwks_uri).
	URL string
	// Client fetches it (nil: a client with a 10 s timeout).
	Client *http.Client
	// MaxAge is how long fetched keys are used before they are fetched again.
	MaxAge time.Duration
	// MinRefresh is the least time between two fetches caused by unknown
	// key ids, so that tokens with made-up kids cannot make fhirhub hammer
	// the issuer.
	MinRefresh time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// DefaultJWKSConfig returns keys kept an hour and refreshed for unknown
// key ids at most every 10 s; set URL.
func DefaultJWKSConfig() JWKSConfig {
	return JWKSConfig{MaxAge: time.Hour, MinRefresh: 10 * time.Second}
}

// JWKS is a KeySource that fetches a JWK Set (RFC 7517) over HTTP, keeps
// it, and fetches it again when it is older than MaxAge or a token names
// an unknown key id (at most once per MinRefresh). Safe for concurrent use.
type JWKS struct {
	cfg JWKSConfig
	log *slog.Logger

	mu        sync.Mutex
	keys      map[string]crypto.PublicKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt
}

// NewJWKS returns a JWKS key source; it fetches on first use.
func NewJWKS(cfg JWKSConfig) (*JWKS, error) {
	if cfg.URL == "" {
		return nil, errors.New("auth: JWKS config needs a URL")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &JWKS{cfg: cfg, log: log}, nil
}

// Key implements KeySource.
func (j *JWKS) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.cfg.Now()
	key, known := lookup(j.keys, kid)
	stale := now.Sub(j.fetchedAt) >= j.cfg.MaxAge
	if known && !stale {
		return key, nil
	}
	if stale || now.Sub(j.triedAt) >= j.cfg.MinRefresh {
		j.triedAt = now
		keys, err := j.fetch(ctx)
		if err != nil {
			j.log.Warn("fetching the JWKS failed; keeping the keys held", "url", j.cfg.URL, "err", err.Error())
		} else {
			j.keys, j.fetchedAt = keys, now
		}
		key, known = lookup(j.keys, kid)
	}
	if !known {
		return nil, ErrUnknownKey
	}
	return key, nil
}

func lookup(keys map[string]crypto.PublicKey, kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, true
		}
	}
	k, ok := keys[kid]
	return k, ok
}

func (j *JWKS) fetch(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: jwks: server answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	return ParseJWKS(data)
}

// jwk is the part of a JSON Web Key that fhirhub reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// ParseJWKS returns the signature keys of a JWK Set by key id: RSA keys
// of at least 2048 bits and EC P-256 keys. Keys for encryption, for other
// algorithms or of other types are left out.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key crypto.PublicKey
		var err error
		switch {
		case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
			key, err = rsaKey(k)
		case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
			key, err = ecKey(k)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auth: jwks: key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = key
	}
	return keys, nil
}

func rsaKey(k jwk) (*rsa.PublicKey, error) {
	n, err1 := base64.RawURLEncoding.DecodeString(k.N)
	e, err2 := base64.RawURLEncoding.DecodeString(k.E)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if key.N.BitLen() < 2048 || key.E < 3 || len(e) > 4 {
		return nil, errors.New("RSA key too small or exponent invalid")
	}
	return key, nil
}

func ecKey(k jwk) (*ecdsa.PublicKey, error) {
	x, err1 := base64.RawURLEncoding.DecodeString(k.X)
	y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if len(x) != 32 || len(y) != 32 {
		return nil, errors.New("P-256 coordinates must be 32 bytes")
	}
	// crypto/ecdh checks that the point is on the curve.
	if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
		return nil, err
	}
	return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
}

// DiscoverJWKS returns the jwks_uri of issuer from its OpenID Connect
// discovery document (issuer + /.well-known/openid-configuration).
func DiscoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("auth: discovery: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("auth: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("auth: discovery: %s answered %s", u, resp.Status)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("auth: discovery: %w", err)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("auth: discovery: %s has no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}
