// Package rest serves the FHIR R4 RESTful API (http.html) over HTTP with
// gorilla/mux: the instance, type and system interactions, batch and
// transaction Bundles, search, history, $validate and the
// CapabilityStatement, in application/fhir+json; with a Verifier, behind
// OAuth2 bearer tokens, SMART scopes and roles (package auth), with SMART
// discovery (app-launch conformance.html).
package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/ratelimit"
	"github.com/fhirhub/fhirhub/service"
)

// Config configures the API.
type Config struct {
	Service *service.Service
	// BaseURL is the public base of the API, e.g. http://localhost:8080/fhir.
	BaseURL string
	// ResourceTypes lists the resource types served.
	ResourceTypes []string
	// Reference validates raw resource JSON for $validate (google/fhir
	// jsonformat); nil uses the service's validator only.
	Reference func(data []byte) error
	// MaxBodyBytes bounds request bodies (0: 16 MiB).
	MaxBodyBytes int64
	// Timeout bounds one request's work (0: 60 s).
	Timeout time.Duration
	Logger  *slog.Logger
	// Version is reported in the CapabilityStatement.
	Version string
	// Auth verifies bearer tokens. Every endpoint but /metadata and
	// /.well-known/smart-configuration then needs one, and each
	// interaction is allowed by the caller's scopes and role (see
	// auth.Principal.Allow). Nil serves everyone: for tests of other
	// features and the explicit -auth=off of development.
	Auth Verifier
	// SMART describes the authorization server in discovery documents.
	SMART SMART
	// Audit records an AuditEvent for every interaction but /metadata
	// and discovery (nil: none). AuditEvents written by it are not
	// audited again: they do not pass through the API.
	Audit Auditor
	// RateLimit limits each client's requests (nil: no limit): by token
	// subject once authenticated, else by client address. Refusals are
	// 429 with Retry-After and are not audited (a flood must not fill
	// the audit trail).
	RateLimit Limiter
	// CORS says that browser apps of configured origins may call the API
	// (the server is wrapped in httpsec's CORS handler); the
	// CapabilityStatement reports it.
	CORS bool
}

// Limiter decides whether a client may make one more request
// (*ratelimit.Limiter does).
type Limiter interface {
	// Allow takes a token from key's bucket, or says how long until one.
	Allow(key string) (bool, time.Duration)
}

// API is the FHIR REST API handler.
type API struct {
	cfg    Config
	svc    *service.Service
	log    *slog.Logger
	router *mux.Router
	reqSeq atomic.Int64
	start  time.Time
}

// New returns the API for cfg; mount it with Handler under the base path.
func New(cfg Config) (*API, error) {
	if cfg.Service == nil {
		return nil, errors.New("rest: config needs a Service")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, svc: cfg.Service, log: log, start: time.Now()}
	a.routes()
	return a, nil
}

// Handler returns the http.Handler serving the API at path prefix
// (e.g. "/fhir").
func (a *API) Handler() http.Handler { return a.router }

// handlerFunc is an HTTP handler that returns an error; serve turns the
// error into an OperationOutcome response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) routes() {
	r := mux.NewRouter()
	r.StrictSlash(false)
	p := basePath(a.cfg.BaseURL)
	sub := r.PathPrefix(p).Subrouter()
	h := func(f handlerFunc) http.Handler { return a.serve(f) }

	g := a.guard
	sub.Handle("/metadata", h(a.metadata)).Methods(http.MethodGet, http.MethodHead)
	sub.Handle("/metadata", h(methodNotAllowed))
	sub.Handle("/.well-known/smart-configuration", h(a.smartConfiguration)).Methods(http.MethodGet, http.MethodHead)
	// Guarded routes name their restful-interaction code (the subtype of
	// their AuditEvent).
	sub.Handle("/_history", g("history-system", auth.PermRead, a.historySystem)).Methods(http.MethodGet)
	sub.Handle("/_search", g("search-system", 0, a.searchSystem)).Methods(http.MethodPost)
	sub.Handle("/{type}/_search", g("search-type", auth.PermSearch, a.searchType)).Methods(http.MethodPost)
	sub.Handle("/{type}/_history", g("history-type", auth.PermRead, a.historyType)).Methods(http.MethodGet)
	sub.Handle("/$reindex", g("operation", 0, a.reindex)).Methods(http.MethodPost)
	sub.Handle("/{type}/$reindex", g("operation", 0, a.reindex)).Methods(http.MethodPost)
	sub.Handle("/{type}/$validate", g("operation", auth.PermRead, a.validate)).Methods(http.MethodPost)
	sub.Handle("/{type}/{id}/$validate", g("operation", auth.PermRead, a.validate)).Methods(http.MethodPost)
	sub.Handle("/{type}/{id}/_history", g("history-instance", auth.PermRead, a.historyInstance)).Methods(http.MethodGet)
	sub.Handle("/{type}/{id}/_history/{vid}", g("vread", auth.PermRead, a.vread)).Methods(http.MethodGet, http.MethodHead)
	sub.Handle("/{type}/{id}", g("read", auth.PermRead, a.read)).Methods(http.MethodGet, http.MethodHead)
	sub.Handle("/{type}/{id}", g("update", auth.PermUpdate, a.confinedWrite(a.update))).Methods(http.MethodPut)
	sub.Handle("/{type}/{id}", g("delete", auth.PermDelete, a.confinedWrite(a.delete))).Methods(http.MethodDelete)
	sub.Handle("/{type}/{id}", g("patch", auth.PermUpdate, a.confinedWrite(a.patch))).Methods(http.MethodPatch)
	sub.Handle("/{type}", g("search-type", auth.PermSearch, a.searchType)).Methods(http.MethodGet, http.MethodHead)
	sub.Handle("/{type}", g("create", auth.PermCreate, a.confinedWrite(a.create))).Methods(http.MethodPost)
	sub.Handle("/{type}", g("update", auth.PermUpdate|auth.PermSearch, a.confinedWrite(a.conditionalUpdate))).Methods(http.MethodPut)
	sub.Handle("/{type}", g("delete", auth.PermDelete|auth.PermSearch, a.confinedWrite(a.conditionalDelete))).Methods(http.MethodDelete)
	sub.Handle("/{type}", g("patch", auth.PermUpdate|auth.PermSearch, a.confinedWrite(a.conditionalPatch))).Methods(http.MethodPatch)
	sub.Handle("", g("transaction", 0, a.bundle)).Methods(http.MethodPost)
	sub.Handle("/", g("transaction", 0, a.bundle)).Methods(http.MethodPost)
	sub.Handle("", g("search-system", 0, a.searchSystem)).Methods(http.MethodGet)
	sub.Handle("/", g("search-system", 0, a.searchSystem)).Methods(http.MethodGet)

	r.MethodNotAllowedHandler = a.serve(methodNotAllowed)
	r.NotFoundHandler = a.serve(func(w http.ResponseWriter, r *http.Request) error {
		return &httpError{status: http.StatusNotFound, err: fhir.Errorf(fhir.IssueNotFound, "no such endpoint")}
	})
	a.router = r
}

func basePath(base string) string {
	if i := strings.Index(base, "://"); i >= 0 {
		rest := base[i+3:]
		if j := strings.Index(rest, "/"); j >= 0 {
			return strings.TrimSuffix(rest[j:], "/")
		}
		return ""
	}
	return strings.TrimSuffix(base, "/")
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	return &httpError{status: http.StatusMethodNotAllowed, err: fhir.Errorf(fhir.IssueNotSupported, "method %s is not supported here", r.Method)}
}

// httpError carries a status that is not derived from the error itself
// (405, 406, 413, 415).
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return service.Status(err)
}

type ctxKey int

const requestIDKey ctxKey = 0

// serve wraps h: request id, timeout, panic recovery, and the error
// response (an OperationOutcome with the request id; internal errors are
// logged with ids only, never with request content).
func (a *API) serve(h handlerFunc) http.Handler { return a.serveAudited("", h) }

// serveAudited is serve that also records the request's AuditEvent, with
// interaction as its subtype, when the API has an Auditor and interaction
// is set.
func (a *API) serveAudited(interaction string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := r.Header.Get("X-Request-Id")
		if reqID == "" || len(reqID) > 64 {
			reqID = fmt.Sprintf("%x-%d", a.start.UnixNano()&0xffffff, a.reqSeq.Add(1))
		}
		w.Header().Set("X-Request-Id", reqID)
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestIDKey, reqID), a.cfg.Timeout)
		defer cancel()
		var ex *exchange
		var sw *audit.StatusRecorder
		if interaction != "" && a.cfg.Audit != nil {
			ex = &exchange{interaction: interaction}
			ctx = context.WithValue(ctx, exchangeKey, ex)
			sw = &audit.StatusRecorder{ResponseWriter: w}
			w = sw
		}
		r = r.WithContext(ctx)
		begin := time.Now()
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					a.log.Error("panic serving request", "request_id", reqID, "method", r.Method,
						"route", routeName(r), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = &httpError{status: http.StatusInternalServerError, err: fhir.Errorf(fhir.IssueException, "internal error")}
				}
			}()
			if interaction == "" || a.cfg.Auth == nil {
				// Public routes, and every route without authentication:
				// limited by address.
				if err = a.limit(w, ratelimit.KeyForAddress(r)); err != nil {
					return
				}
			}
			err = h(w, r)
		}()
		if err != nil {
			a.writeError(w, r, reqID, err)
		}
		if ex != nil {
			status := sw.Status
			if err != nil {
				status = statusOf(err)
			}
			if status != http.StatusTooManyRequests {
				a.record(r, ex, reqID, status, err)
			}
		}
		a.log.Debug("request", "request_id", reqID, "method", r.Method, "route", routeName(r),
			"status", statusOrOK(err), "duration", time.Since(begin))
	})
}

func statusOrOK(err error) int {
	if err == nil {
		return 200
	}
	return statusOf(err)
}

// routeName is the matched route template (no ids or query: no PHI).
func routeName(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if t, err := route.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	status := statusOf(err)
	if status >= 500 {
		a.log.Error("request failed", "request_id", reqID, "method", r.Method, "route", routeName(r), "status", status, "err", err.Error())
	}
	var oo fhir.Object
	if fe := fhir.AsError(err); fe != nil && status < 500 {
		oo = service.OperationOutcome(fe)
	} else {
		oo = service.OperationOutcome(err)
	}
	if issues, ok := oo["issue"].([]any); ok && len(issues) > 0 {
		if first, ok := issues[0].(fhir.Object); ok {
			d, _ := first["diagnostics"].(string)
			first["diagnostics"] = strings.TrimSpace(d + " (request id " + reqID + ")")
		}
	}
	writeResource(w, r, status, oo)
}

// writeResource writes obj as the response body with status.
func writeResource(w http.ResponseWriter, r *http.Request, status int, obj fhir.Object) {
	writeJSON(w, r, status, fhir.MarshalJSON(obj))
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json; charset=utf-8")
	if r.URL.Query().Get("_pretty") == "true" {
		body = pretty(body)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
