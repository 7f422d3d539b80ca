package auth

import (
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Principal is the verified caller of a request: the claims of its access
// token that decisions use.
type Principal struct {
	// Subject is the token's sub: the user or client id.
	Subject string
	// Role is one of the Roles (an unknown role is allowed nothing).
	Role string
	// Tenant and Facility are the Organization ids the caller works for;
	// carried for the tenancy slice, not yet enforced.
	Tenant, Facility string
	// Patient is the launch context patient: patient/ scopes are confined
	// to this Patient's compartment, and ignored without it.
	Patient string
	// Scopes are the SMART resource scopes granted (others, such as
	// openid or launch, are dropped).
	Scopes []Scope
}

// Claims are the JWT claims of a fhirhub access token: the registered
// ones plus the SMART scope string and fhirhub's role, tenant, facility
// and patient context.
type Claims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope,omitempty"`
	Role     string `json:"role,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	Facility string `json:"facility,omitempty"`
	Patient  string `json:"patient,omitempty"`
}

// principal returns the Principal of verified claims.
func (c *Claims) principal() *Principal {
	p := &Principal{Subject: c.Subject, Role: c.Role, Tenant: c.Tenant, Facility: c.Facility, Patient: c.Patient}
	for _, s := range strings.Fields(c.Scope) {
		if sc, ok := ParseScope(s); ok {
			p.Scopes = append(p.Scopes, sc)
		}
	}
	return p
}
