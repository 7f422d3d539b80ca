package auth_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fhirhub/fhirhub/auth"
)

// BenchmarkVerify prints the cost of verifying an ES256 token of the
// embedded issuer, every time (CacheFor 0: the baseline) and remembered.
func BenchmarkVerify(b *testing.B) {
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(b.TempDir(), "k.pem"), Audience: "fhirhub"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := iss.Mint(auth.TokenRequest{Role: "doctor", Scope: "user/*.rs"})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mod  func(*auth.VerifierConfig)
	}{
		{"es256-every-time", func(c *auth.VerifierConfig) { c.CacheFor = 0 }},
		{"remembered", func(*auth.VerifierConfig) {}},
	} {
		b.Run(c.name, func(b *testing.B) {
			vc := auth.DefaultVerifierConfig()
			vc.Keys, vc.Issuer, vc.Audience = iss, iss.Name(), "fhirhub"
			c.mod(&vc)
			v, err := auth.NewVerifier(vc)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for b.Loop() {
				p, err := v.Verify(ctx, tok)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Allow("Observation", auth.PermRead); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
