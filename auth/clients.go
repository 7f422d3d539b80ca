package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Client is a backend service that may get tokens from the embedded
// issuer with the OAuth2 client credentials grant (RFC 6749 §4.4).
type Client struct {
	ID string `json:"id"`
	// SecretSHA256 is the hex SHA-256 of the client's secret (the secret
	// itself is never stored).
	SecretSHA256 string `json:"secretSha256"`
	Role         string `json:"role"`
	// Scope lists the scopes the client may ask for (space-separated).
	Scope    string `json:"scope"`
	Tenant   string `json:"tenant,omitempty"`
	Facility string `json:"facility,omitempty"`
}

// Clients are the registered backend services by id.
type Clients map[string]Client

// Errors of ClientCredentials, which the token endpoint answers with the
// OAuth2 error codes invalid_client and invalid_scope.
var (
	ErrInvalidClient = errors.New("auth: unknown client or wrong secret")
	ErrInvalidScope  = errors.New("auth: scope not allowed to this client")
)

// LoadClients reads a JSON array of Clients from path.
func LoadClients(path string) (Clients, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: clients: %w", err)
	}
	var list []Client
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("auth: clients %s: %w", path, err)
	}
	out := Clients{}
	for i, c := range list {
		switch {
		case c.ID == "":
			return nil, fmt.Errorf("auth: clients %s: entry %d has no id", path, i)
		case len(c.SecretSHA256) != 64:
			return nil, fmt.Errorf("auth: clients %s: client %s: secretSha256 must be 64 hex digits", path, c.ID)
		case RoleNamed(c.Role) == nil:
			return nil, fmt.Errorf("auth: clients %s: client %s: unknown role %q", path, c.ID, c.Role)
		}
		out[c.ID] = c
	}
	return out, nil
}

// HashSecret returns the hex SHA-256 of a client secret, the form kept in
// a clients file.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClientCredentials authenticates a client by id and secret and mints
// its token: the client's role, tenant and facility, and the scopes
// asked for (all of the client's when scope is empty). It returns the
// scopes granted; ErrInvalidClient or ErrInvalidScope when refused.
func (i *Issuer) ClientCredentials(clients Clients, id, secret, scope string, ttl time.Duration) (token, granted string, err error) {
	c, ok := clients[id]
	// Compare even for unknown ids, so that timing does not tell them apart.
	want, _ := hex.DecodeString(c.SecretSHA256)
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(want, got[:]) != 1 || !ok {
		return "", "", ErrInvalidClient
	}
	allowed := strings.Fields(c.Scope)
	granted = c.Scope
	if scope != "" {
		for _, s := range strings.Fields(scope) {
			if !slices.Contains(allowed, s) {
				return "", "", ErrInvalidScope
			}
		}
		granted = strings.Join(strings.Fields(scope), " ")
	}
	token, err = i.Mint(TokenRequest{Subject: c.ID, Role: c.Role, Tenant: c.Tenant, Facility: c.Facility, Scope: granted, TTL: ttl})
	return token, granted, err
}
