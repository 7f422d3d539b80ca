package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
)

func TestIssuerKeepsOneKeyInAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth", "issuer.pem")
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: path, Audience: "fhirhub"})
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dir, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm())

	tok, err := iss.Mint(auth.TokenRequest{Role: "nurse", Tenant: "demo", Facility: "f1", Scope: "user/*.rs", TTL: time.Hour})
	require.NoError(t, err)

	// Another process (fhirhub token, then serve) reads the same key.
	again, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: path, Audience: "fhirhub"})
	require.NoError(t, err)
	assert.JSONEq(t, string(iss.JWKS()), string(again.JWKS()))
	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience = again, again.Name(), "fhirhub"
	v, err := auth.NewVerifier(vc)
	require.NoError(t, err)
	p, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "nurse", p.Role)
	assert.Equal(t, "demo", p.Tenant)

	// A token from a new key (another ./var) is refused.
	other, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(t.TempDir(), "k.pem"), Audience: "fhirhub"})
	require.NoError(t, err)
	foreign, err := other.Mint(auth.TokenRequest{Role: "admin", Scope: "user/*.*"})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), foreign)
	require.Error(t, err)
	assert.Contains(t, fhir.AsError(err).Message, "unknown key")
}

func TestMintRefusesUnknownRolesAndScopes(t *testing.T) {
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(t.TempDir(), "k.pem"), Audience: "fhirhub"})
	require.NoError(t, err)
	_, err = iss.Mint(auth.TokenRequest{Role: "surgeon", Scope: "user/*.rs"})
	assert.ErrorContains(t, err, "unknown role")
	_, err = iss.Mint(auth.TokenRequest{Role: "doctor", Scope: "user/*.xyz"})
	assert.ErrorContains(t, err, "not a SMART resource scope")
	_, err = iss.Mint(auth.TokenRequest{Role: "doctor", Scope: "openid fhirUser user/*.rs"})
	assert.NoError(t, err)
}
