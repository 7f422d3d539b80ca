package rest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/ratelimit"
	"github.com/fhirhub/fhirhub/store"
)

// Verifier verifies bearer access tokens (auth.Verifier does).
type Verifier interface {
	// Verify returns the caller of token, or a fhir.Error with code login.
	Verify(ctx context.Context, token string) (*auth.Principal, error)
}

// SMART describes the authorization server in the SMART configuration
// document (/.well-known/smart-configuration) and the
// CapabilityStatement's rest.security.
type SMART struct {
	Issuer        string
	JWKSURI       string
	TokenEndpoint string
	// ClientCredentials is set when TokenEndpoint grants client_credentials.
	ClientCredentials bool
}

const (
	principalKey ctxKey = iota + 1
	accessKey
)

// principalOf returns the caller of an authenticated request, nil when
// the API runs without a Verifier.
func principalOf(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

// confinedTo returns the Patient the request's interaction is confined to
// (only patient/ scopes allowed it), or "".
func confinedTo(ctx context.Context) string {
	a, _ := ctx.Value(accessKey).(auth.Access)
	return a.Patient
}

// challenge is the WWW-Authenticate value of a 401 or 403 (RFC 6750 §3).
func challenge(code string) string {
	if code == "" {
		return `Bearer realm="fhirhub"`
	}
	return `Bearer realm="fhirhub", error="` + code + `"`
}

// authenticate verifies the request's bearer token.
func authenticate(ctx context.Context, v Verifier, w http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	token, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", challenge(""))
		return nil, fhir.Errorf(fhir.IssueLogin, "this endpoint needs an OAuth2 bearer token (Authorization: Bearer <token>)")
	}
	p, err := v.Verify(ctx, token)
	if err != nil {
		w.Header().Set("WWW-Authenticate", challenge("invalid_token"))
		return nil, err
	}
	return p, nil
}

// forbidden marks a refusal of an authenticated caller.
func forbidden(w http.ResponseWriter, err error) error {
	w.Header().Set("WWW-Authenticate", challenge("insufficient_scope"))
	return err
}

// guard serves h, the interaction named (its AuditEvent's subtype), to
// callers allowed perm on the route's {type} (every
// type when the route has none); perm 0 only authenticates, leaving the
// decision to h. Without a Verifier it serves everyone.
func (a *API) guard(interaction string, perm auth.Perm, h handlerFunc) http.Handler {
	if a.cfg.Auth == nil {
		return a.serveAudited(interaction, h)
	}
	return a.serveAudited(interaction, func(w http.ResponseWriter, r *http.Request) error {
		p, err := authenticate(r.Context(), a.cfg.Auth, w, r)
		if err != nil {
			if lerr := a.limit(w, ratelimit.KeyForAddress(r)); lerr != nil {
				return lerr
			}
			return err
		}
		if err := a.limit(w, ratelimit.KeyForSubject(p.Subject)); err != nil {
			return err
		}
		ex := exchangeOf(r.Context())
		if ex != nil {
			ex.principal = p
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		// Everything the request reads and writes stays in the caller's
		// tenant and facility (store.Scope).
		ctx = store.WithScope(ctx, store.Scope{Tenant: p.Tenant, Facility: p.Facility})
		if perm != 0 {
			typ := mux.Vars(r)["type"]
			if typ == "" {
				typ = auth.AllTypes
			}
			access, err := p.Allow(typ, perm)
			if err != nil {
				return forbidden(w, err)
			}
			if ex != nil {
				ex.patient = access.Patient
			}
			ctx = context.WithValue(ctx, accessKey, access)
		}
		return h(w, r.WithContext(ctx))
	})
}

// limit takes a request from key's rate-limit bucket: a throttled error
// (429, with Retry-After) when it is empty.
func (a *API) limit(w http.ResponseWriter, key string) error {
	if a.cfg.RateLimit == nil {
		return nil
	}
	if ok, wait := a.cfg.RateLimit.Allow(key); !ok {
		return ratelimit.Throttled(w, wait)
	}
	return nil
}

// allow is Principal.Allow for the request's caller (everything when the
// API runs without a Verifier).
func allow(w http.ResponseWriter, r *http.Request, typ string, perm auth.Perm) (auth.Access, error) {
	p := principalOf(r.Context())
	if p == nil {
		return auth.Access{}, nil
	}
	access, err := p.Allow(typ, perm)
	if err != nil {
		return access, forbidden(w, err)
	}
	return access, nil
}

// checkSearchTypes refuses a search whose chains or _has name resource
// types the caller may not search: they reveal those resources' content.
func (a *API) checkSearchTypes(w http.ResponseWriter, r *http.Request, typ string, params url.Values) error {
	p := principalOf(r.Context())
	if p == nil {
		return nil
	}
	for key := range params {
		for _, t := range a.searchedTypes(typ, key) {
			if _, err := allow(w, r, t, auth.PermSearch); err != nil {
				return err
			}
		}
	}
	return nil
}

// searchedTypes returns the resource types a search parameter key
// (name[:modifier][.chain...] or _has:Type:...) looks into besides typ.
func (a *API) searchedTypes(typ, key string) []string {
	if rest, ok := strings.CutPrefix(key, "_has:"); ok {
		t, _, _ := strings.Cut(rest, ":")
		return []string{t}
	}
	links := strings.Split(key, ".")
	if len(links) < 2 {
		return nil
	}
	var out []string
	current := []string{typ}
	for _, link := range links[:len(links)-1] {
		code, mod, _ := strings.Cut(link, ":")
		var next []string
		if mod != "" {
			next = []string{mod}
		} else {
			for _, t := range current {
				if sp := a.svc.Registry().Lookup(t, code); sp != nil {
					next = append(next, sp.Targets...)
				}
			}
			if len(next) == 0 {
				next = []string{auth.AllTypes}
			}
		}
		out = append(out, next...)
		current = next
	}
	return out
}

// filterEntries drops the entries of a search Bundle that the caller may
// not read: included resources of types it has no read permission for,
// and, when confined to a patient, resources outside that compartment.
func (a *API) filterEntries(r *http.Request, bundle fhir.Object, patient string) {
	p := principalOf(r.Context())
	entries, _ := bundle["entry"].([]any)
	if p == nil || len(entries) == 0 {
		return
	}
	kept := entries[:0]
	for _, e := range entries {
		em, _ := e.(fhir.Object)
		res, _ := em["resource"].(fhir.Object)
		typ := fhir.ResourceType(res)
		if search, _ := em["search"].(fhir.Object); search["mode"] == "outcome" {
			kept = append(kept, e)
			continue
		}
		if _, err := p.Allow(typ, auth.PermRead); err != nil {
			continue
		}
		if patient != "" {
			id, _ := res["id"].(string)
			if a.compartmentParam(typ) == "" || !a.inCompartment(typ, id, res, patient) {
				continue
			}
		}
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		delete(bundle, "entry")
	} else {
		bundle["entry"] = kept
	}
}

// checkBundle decides each entry of a batch or transaction on its own, as
// if it were sent alone; any refusal refuses the Bundle. Writes that
// patient/ scopes alone allow, conditional ones too, are confined to the
// patient's compartment (confined reports that some are: the caller
// guards the writes with compartmentGuard, and every Bundle's criteria
// and conditional references with criteriaGuard); reads and searches
// they alone would allow are refused.
func (a *API) checkBundle(w http.ResponseWriter, r *http.Request, bundle fhir.Object) (confined bool, err error) {
	if principalOf(r.Context()) == nil {
		return false, nil
	}
	entries, _ := bundle["entry"].([]any)
	for i, e := range entries {
		at := "Bundle.entry[" + strconv.Itoa(i) + "].request"
		em, _ := e.(map[string]any)
		req, _ := em["request"].(map[string]any)
		method, _ := req["method"].(string)
		raw, _ := req["url"].(string)
		path, query, _ := strings.Cut(raw, "?")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		typ := parts[0]
		var perm auth.Perm
		switch method {
		case http.MethodGet, http.MethodHead:
			perm = auth.PermRead
			if len(parts) == 1 || parts[1] == "_search" {
				perm = auth.PermSearch
			}
		case http.MethodPost:
			perm = auth.PermCreate
		case http.MethodPut, http.MethodPatch:
			perm = auth.PermUpdate
		case http.MethodDelete:
			perm = auth.PermDelete
		default:
			continue // the service refuses it
		}
		if query != "" || req["ifNoneExist"] != nil {
			perm |= auth.PermSearch
		}
		if typ == "" || strings.HasPrefix(typ, "$") || strings.HasPrefix(typ, "_") {
			typ = auth.AllTypes
		}
		access, err := allow(w, r, typ, perm)
		if err != nil {
			fe := fhir.AsError(err)
			return false, fe.At(at)
		}
		if access.Patient != "" {
			if method == http.MethodGet || method == http.MethodHead {
				return false, forbidden(w, fhir.Errorf(fhir.IssueForbidden,
					"a patient/ scope allows only writes inside a Bundle in this release (no reads or searches)").At(at))
			}
			confined = true
		}
		q, _ := url.ParseQuery(query)
		if q.Has("_include") || q.Has("_revinclude") {
			if _, err := allow(w, r, auth.AllTypes, auth.PermRead); err != nil {
				return false, fhir.Errorf(fhir.IssueForbidden, "_include and _revinclude inside a Bundle need read access to every type").At(at)
			}
		}
		if err := a.checkSearchTypes(w, r, typ, q); err != nil {
			return false, err
		}
	}
	return confined, nil
}

// hideAuditEvents drops the AuditEvent entries of a system history Bundle
// for callers that may not read them (auth.AuditType).
func hideAuditEvents(r *http.Request, bundle fhir.Object) {
	p := principalOf(r.Context())
	entries, _ := bundle["entry"].([]any)
	if p == nil || len(entries) == 0 {
		return
	}
	if _, err := p.Allow(auth.AuditType, auth.PermRead); err == nil {
		return
	}
	kept := entries[:0]
	for _, e := range entries {
		em, _ := e.(fhir.Object)
		req, _ := em["request"].(fhir.Object)
		u, _ := req["url"].(string)
		if typ, _, _ := strings.Cut(u, "/"); typ == auth.AuditType {
			continue
		}
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		delete(bundle, "entry")
	} else {
		bundle["entry"] = kept
	}
}
