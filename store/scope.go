package store

import (
	"context"

	"github.com/fhirhub/fhirhub/fhir"
)

// Scope is the part of a store that a caller works in: its tenant and,
// optionally, one facility of that tenant. Every Store and Tx method takes
// the scope from its context (WithScope); a context without one is the
// default tenant "" with no facility, which is what a deployment that
// serves one organisation uses throughout.
//
// Tenants are disjoint stores: resource ids, searches, includes, history,
// conditional interactions and change events of one tenant never see
// another's, and a resource of another tenant is not found (ErrNotFound),
// never forbidden, so its existence is not revealed.
//
// A facility narrows what a caller sees within its tenant: resources
// tagged with that facility (a meta.tag of FacilitySystem) and resources
// with no facility tag, which are shared by the tenant's facilities
// (Patients, Practitioners, Organizations as a rule). Resources tagged
// with another facility are not found, as with another tenant's.
type Scope struct {
	Tenant   string
	Facility string
}

// FacilitySystem is the meta.tag system whose code names the facility
// (an Organization id of the tenant) a resource belongs to.
const FacilitySystem = "http://fhirhub.dev/fhir/CodeSystem/facility"

type scopeKey struct{}

// WithScope returns ctx with the store scope s.
func WithScope(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFrom returns the store scope of ctx (the zero Scope when none is set).
func ScopeFrom(ctx context.Context) Scope {
	s, _ := ctx.Value(scopeKey{}).(Scope)
	return s
}

// Sees reports whether a caller in scope s may see a resource of its
// tenant whose facility tag is facility ("" for none).
func (s Scope) Sees(facility string) bool {
	return s.Facility == "" || facility == "" || facility == s.Facility
}

// FacilityOf returns the code of obj's first meta.tag with FacilitySystem,
// or "".
func FacilityOf(obj fhir.Object) string {
	meta, _ := obj["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		tm, _ := t.(map[string]any)
		if sys, _ := tm["system"].(string); sys == FacilitySystem {
			code, _ := tm["code"].(string)
			return code
		}
	}
	return ""
}

// TagFacility adds a meta.tag for facility to obj unless it has one
// (FacilityOf) already.
func TagFacility(obj fhir.Object, facility string) {
	if facility == "" || FacilityOf(obj) != "" {
		return
	}
	meta, _ := obj["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, map[string]any{"system": FacilitySystem, "code": facility})
}
