package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EmbeddedIssuer is the iss of tokens from the embedded issuer.
const EmbeddedIssuer = "urn:fhirhub:issuer"

// IssuerConfig configures the embedded issuer.
type IssuerConfig struct {
	// KeyFile holds the issuer's ES256 private key (PKCS #8 PEM); it is
	// created, mode 0600 in a 0700 directory, when it does not exist.
	KeyFile string
	// Issuer is the iss of the tokens (default EmbeddedIssuer).
	Issuer string
	// Audience is their aud.
	Audience string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Issuer is the embedded token issuer for a server run without an
// external identity provider: it signs access tokens with one ES256 key
// kept in a file, and is the KeySource that verifies them.
type Issuer struct {
	cfg IssuerConfig
	key *ecdsa.PrivateKey
	kid string
}

// OpenIssuer loads the issuer's key from cfg.KeyFile, creating the file
// with a new key when there is none. Two processes creating it at once
// end up with the same key.
func OpenIssuer(cfg IssuerConfig) (*Issuer, error) {
	if cfg.KeyFile == "" {
		return nil, errors.New("auth: issuer config needs a KeyFile")
	}
	if cfg.Audience == "" {
		return nil, errors.New("auth: issuer config needs an Audience")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = EmbeddedIssuer
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := loadKey(cfg.KeyFile)
	if errors.Is(err, os.ErrNotExist) {
		key, err = createKey(cfg.KeyFile)
	}
	if err != nil {
		return nil, err
	}
	return &Issuer{cfg: cfg, key: key, kid: thumbprint(&key.PublicKey)}, nil
}

func loadKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("auth: issuer key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: issuer key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: issuer key %s: not an EC P-256 key", path)
	}
	return ec, nil
}

// createKey writes a new key to a temporary file and links it into
// place, so that a concurrent creator's key wins intact or ours does.
func createKey(path string) (*ecdsa.PrivateKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".issuer-key-*")
	if err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	werr := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return loadKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("auth: issuer key: %w", err)
	}
	return key, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of key, used as its kid.
func thumbprint(key *ecdsa.PublicKey) string {
	j := jwkOf(key)
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func jwkOf(key *ecdsa.PublicKey) jwk {
	var x, y [32]byte
	key.X.FillBytes(x[:])
	key.Y.FillBytes(y[:])
	return jwk{Kty: "EC", Crv: "P-256", Use: "sig", Alg: "ES256",
		X: base64.RawURLEncoding.EncodeToString(x[:]), Y: base64.RawURLEncoding.EncodeToString(y[:])}
}

// Name returns the iss of the tokens the issuer signs.
func (i *Issuer) Name() string { return i.cfg.Issuer }

// Audience returns the aud of the tokens the issuer signs.
func (i *Issuer) Audience() string { return i.cfg.Audience }

// Key implements KeySource with the issuer's one public key.
func (i *Issuer) Key(_ context.Context, kid string) (crypto.PublicKey, error) {
	if kid != i.kid {
		return nil, ErrUnknownKey
	}
	return &i.key.PublicKey, nil
}

// JWKS returns the issuer's public key as a JWK Set document.
func (i *Issuer) JWKS() []byte {
	k := jwkOf(&i.key.PublicKey)
	k.Kid = i.kid
	data, _ := json.Marshal(map[string]any{"keys": []jwk{k}})
	return data
}

// TokenRequest is what a minted token says: who, which role, where, and the
// SMART scopes (space-separated).
type TokenRequest struct {
	Subject  string
	Role     string
	Tenant   string
	Facility string
	Patient  string
	Scope    string
	TTL      time.Duration
}

// Mint signs an access token for g, valid from now for g.TTL (default
// one hour). The token is a secret: callers must not log it.
func (i *Issuer) Mint(g TokenRequest) (string, error) {
	if g.Role == "" || RoleNamed(g.Role) == nil {
		return "", fmt.Errorf("auth: mint: unknown role %q (roles: %s)", g.Role, strings.Join(RoleNames(), ", "))
	}
	for _, s := range strings.Fields(g.Scope) {
		if _, ok := ParseScope(s); !ok && !otherScope(s) {
			return "", fmt.Errorf("auth: mint: %q is not a SMART resource scope such as user/*.rs", s)
		}
	}
	if g.TTL <= 0 {
		g.TTL = time.Hour
	}
	if g.Subject == "" {
		g.Subject = g.Role
	}
	now := i.cfg.Now()
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: i.cfg.Issuer, Subject: g.Subject, Audience: jwt.ClaimStrings{i.cfg.Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(g.TTL)), ID: base64.RawURLEncoding.EncodeToString(jti),
		},
		Scope: g.Scope, Role: g.Role, Tenant: g.Tenant, Facility: g.Facility, Patient: g.Patient,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	return s, nil
}

// otherScope reports whether s is a non-resource SMART/OpenID scope that
// a token may carry (and that grants nothing here).
func otherScope(s string) bool {
	switch s {
	case "openid", "fhirUser", "profile", "launch", "launch/patient", "offline_access", "online_access":
		return true
	}
	return false
}

// RoleNames returns the names of the roles, in table order.
func RoleNames() []string {
	out := make([]string, len(Roles))
	for i, r := range Roles {
		out[i] = r.Name
	}
	return out
}
