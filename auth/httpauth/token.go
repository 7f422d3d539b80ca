// Package httpauth serves the embedded issuer's OAuth2 token endpoint for
// backend services: the client credentials grant (RFC 6749 §4.4) with
// client_secret_basic or client_secret_post authentication, answered as
// in RFC 6749 §5.1 and §5.2.
package httpauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/fhirhub/fhirhub/auth"
)

// Config configures the token endpoint.
type Config struct {
	Issuer  *auth.Issuer
	Clients auth.Clients
	// TTL is the lifetime of the tokens (default 1 h).
	TTL    time.Duration
	Logger *slog.Logger
}

// TokenHandler returns the token endpoint (POST, form-encoded).
func TokenHandler(cfg Config) (http.Handler, error) {
	if cfg.Issuer == nil {
		return nil, errors.New("httpauth: config needs an Issuer")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
			return
		}
		form := r.PostForm
		if gt := form.Get("grant_type"); gt != "client_credentials" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
			return
		}
		id, secret, basic := r.BasicAuth()
		if basic {
			// RFC 6749 §2.3.1: form-encoded before base64.
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		} else {
			id, secret = form.Get("client_id"), form.Get("client_secret")
		}
		token, granted, err := cfg.Issuer.ClientCredentials(cfg.Clients, id, secret, form.Get("scope"), cfg.TTL)
		switch {
		case errors.Is(err, auth.ErrInvalidClient):
			log.Info("token request refused", "reason", "invalid_client")
			w.Header().Set("WWW-Authenticate", `Basic realm="fhirhub"`)
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
			return
		case errors.Is(err, auth.ErrInvalidScope):
			oauthError(w, http.StatusBadRequest, "invalid_scope", "a scope asked for is not allowed to this client")
			return
		case err != nil:
			log.Error("minting a token failed", "err", err.Error())
			oauthError(w, http.StatusInternalServerError, "server_error", "")
			return
		}
		log.Info("token issued", "client", id, "grant", "client_credentials")
		writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer",
			"expires_in": int(cfg.TTL.Seconds()), "scope": granted})
	}), nil
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]any{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
