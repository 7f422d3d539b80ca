package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/auth/httpauth"
	"github.com/fhirhub/fhirhub/fhir/rest"
)

// authSetup is what serve needs of the authentication configuration.
type authSetup struct {
	verifier *auth.Verifier // nil: -auth=off
	issuer   *auth.Issuer   // the embedded issuer, or nil
	token    http.Handler   // its client-credentials endpoint, or nil
	smart    rest.SMART
}

// Where serve publishes the embedded issuer's keys and token endpoint.
const (
	jwksPath  = "/auth/jwks.json"
	tokenPath = "/auth/token"
)

// setupAuth builds the token verifier: an external issuer's JWKS, or the
// embedded issuer whose key is in cfg.AuthKeyFile.
func setupAuth(ctx context.Context, cfg *config, log *slog.Logger) (*authSetup, error) {
	if cfg.Auth == authOff {
		log.Warn("AUTHENTICATION IS OFF (-auth=off): anyone who reaches this server can read and change every resource. Never run this with real data.")
		fmt.Fprintln(os.Stderr, "\n*** WARNING: -auth=off: the FHIR and admin APIs are open to anyone. Development only. ***")
		return &authSetup{}, nil
	}
	vc := auth.DefaultVerifierConfig()
	vc.Audience = cfg.AuthAudience
	s := &authSetup{}
	if cfg.AuthIssuer == "" && cfg.AuthJWKSURL == "" {
		iss, err := openIssuer(cfg)
		if err != nil {
			return nil, err
		}
		s.issuer = iss
		vc.Keys, vc.Issuer = iss, iss.Name()
		s.smart = rest.SMART{Issuer: iss.Name(), JWKSURI: origin(cfg.BaseURL) + jwksPath}
		if cfg.AuthClients != "" {
			clients, err := auth.LoadClients(cfg.AuthClients)
			if err != nil {
				return nil, err
			}
			if s.token, err = httpauth.TokenHandler(httpauth.Config{Issuer: iss, Clients: clients, Logger: log}); err != nil {
				return nil, err
			}
			s.smart.TokenEndpoint, s.smart.ClientCredentials = origin(cfg.BaseURL)+tokenPath, true
		}
	} else {
		jwksURL := cfg.AuthJWKSURL
		if jwksURL == "" {
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			var err error
			if jwksURL, err = auth.DiscoverJWKS(dctx, &http.Client{Timeout: 10 * time.Second}, cfg.AuthIssuer); err != nil {
				return nil, err
			}
		}
		jc := auth.DefaultJWKSConfig()
		jc.URL, jc.Logger = jwksURL, log
		keys, err := auth.NewJWKS(jc)
		if err != nil {
			return nil, err
		}
		vc.Keys, vc.Issuer = keys, cfg.AuthIssuer
		s.smart = rest.SMART{Issuer: cfg.AuthIssuer, JWKSURI: jwksURL}
	}
	v, err := auth.NewVerifier(vc)
	if err != nil {
		return nil, err
	}
	s.verifier = v
	return s, nil
}

func openIssuer(cfg *config) (*auth.Issuer, error) {
	return auth.OpenIssuer(auth.IssuerConfig{KeyFile: cfg.AuthKeyFile, Audience: cfg.AuthAudience})
}

// origin returns scheme://host of a URL.
func origin(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// printAdminToken writes an admin token of the embedded issuer to stdout
// (never to the log).
func (s *authSetup) printAdminToken(ttl time.Duration) error {
	if s.issuer == nil {
		return nil
	}
	tok, err := s.issuer.Mint(auth.TokenRequest{Subject: "fhirhub-admin", Role: "admin", Scope: "user/*.cruds", TTL: ttl})
	if err != nil {
		return err
	}
	fmt.Printf("admin token (valid %s; `fhirhub token -h` mints others):\n%s\n", ttl, tok)
	return nil
}

// token implements `fhirhub token`: it mints an access token with the
// embedded issuer's key and prints it.
func token(_ context.Context, args []string) error {
	var cfg config
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	authFlags(fs, &cfg)
	var g auth.TokenRequest
	fs.StringVar(&g.Role, "role", "", "role of the caller: one of the roles in README.md's Security section (required)")
	fs.StringVar(&g.Scope, "scope", "user/*.cruds", "SMART scopes, space-separated (patient/, user/, system/ with .cruds or .read/.write)")
	fs.StringVar(&g.Tenant, "tenant", "", "tenant (Organization id) of the caller")
	fs.StringVar(&g.Facility, "facility", "", "facility (Organization id) of the caller")
	fs.StringVar(&g.Patient, "patient", "", "patient context: patient/ scopes are confined to this Patient id")
	fs.StringVar(&g.Subject, "subject", "", "sub of the token (default: the role)")
	fs.DurationVar(&g.TTL, "ttl", time.Hour, "lifetime of the token")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fhirhub token -role doctor [-tenant demo] [-facility f1] [-scope 'user/*.read'] [-ttl 1h] [-patient id]")
		fmt.Fprintln(fs.Output(), "Mints a token of the embedded issuer (the key in -auth-key-file, shared with `fhirhub serve`).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if g.Role == "" {
		fs.Usage()
		return errors.New("token: -role is required")
	}
	iss, err := openIssuer(&cfg)
	if err != nil {
		return err
	}
	tok, err := iss.Mint(g)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
