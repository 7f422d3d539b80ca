package rest

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
)

// The patient compartment (R4 compartmentdefinition-patient) confines
// what patient/ scopes allow: reads and searches inside it, writes that
// keep resources in it, and the searches of conditional writes and
// conditional references inside it.

// confinedWrite wraps a write handler: the searches of its conditional
// criteria are decided by criteriaGuard, and for callers confined to a
// patient (only patient/ scopes allow the write), every resource written
// must be in that patient's compartment, before and after
// (compartmentGuard).
func (a *API) confinedWrite(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := principalOf(r.Context())
		if p == nil {
			return h(w, r)
		}
		ctx := service.WithCriteriaGuard(r.Context(), a.criteriaGuard(p))
		if confinedTo(ctx) != "" {
			ctx = service.WithWriteGuard(ctx, a.compartmentGuard(p))
		}
		return h(w, r.WithContext(ctx))
	}
}

// criteriaGuard is the service.CriteriaGuard of p's requests. Conditional
// criteria and the conditional references of a Bundle search like a
// search of their own: the caller must be allowed to search the type, and
// when only p's patient/ scopes allow it, the search is confined to the
// patient's compartment, as patient/ searches are, so that what matches
// (and hence whether the write creates, updates or fails) reveals nothing
// outside it. A type that cannot be confined (no compartment parameter)
// is refused.
func (a *API) criteriaGuard(p *auth.Principal) service.CriteriaGuard {
	return func(ctx context.Context, typ string, params url.Values) error {
		access, err := p.Allow(typ, auth.PermSearch)
		if err != nil {
			return err
		}
		if access.Patient == "" {
			return nil
		}
		return a.confineParams(typ, params, access.Patient)
	}
}

// compartmentGuard is the service.WriteGuard of p's requests: a write
// that only p's patient/ scopes allow must leave the resource in p's
// patient's compartment, and may only replace or delete a resource that
// is in it (another one is not found, as for reads). Writes that p's
// other scopes allow are not confined.
func (a *API) compartmentGuard(p *auth.Principal) service.WriteGuard {
	return func(ctx context.Context, wr service.Write) error {
		perm := auth.PermUpdate
		switch {
		case wr.Next == nil:
			perm = auth.PermDelete
		case wr.Current == nil:
			perm = auth.PermCreate
		}
		access, err := p.Allow(wr.Type, perm)
		if err != nil && perm == auth.PermCreate {
			// An update that creates: the route needed u.
			access, err = p.Allow(wr.Type, auth.PermUpdate)
		}
		if err != nil {
			return err
		}
		patient := access.Patient
		if patient == "" {
			return nil
		}
		if wr.Current != nil {
			obj, err := fhir.ParseObject(wr.Current.Content)
			if err != nil || a.compartmentParam(wr.Type) == "" || !a.inCompartment(wr.Type, wr.ID, obj, patient) {
				return fhir.Errorf(fhir.IssueNotFound, "%s/%s is not known", wr.Type, wr.ID)
			}
		}
		if wr.Next != nil {
			id, _ := wr.Next["id"].(string)
			if a.compartmentParam(wr.Type) == "" || !a.inCompartment(wr.Type, id, wr.Next, patient) {
				return fhir.Errorf(fhir.IssueForbidden,
					"a patient/ scope may only write resources in its patient's compartment (%s must reference Patient/%s)", wr.Type, patient)
			}
		}
		return nil
	}
}

// compartmentParams are the reference search parameters that place a
// resource in a Patient's compartment (the first one a type has is used
// to confine its searches), as the store's change events do.
var compartmentParams = []string{"patient", "subject", "beneficiary", "individual", "who", "actor"}

// compartmentParam returns the search parameter of typ that confines a
// search to one Patient's compartment ("_id" for Patient), or "".
func (a *API) compartmentParam(typ string) string {
	if typ == "Patient" {
		return "_id"
	}
	for _, code := range compartmentParams {
		if p := a.svc.Registry().Lookup(typ, code); p != nil && slices.Contains(p.Targets, "Patient") {
			return code
		}
	}
	return ""
}

// inCompartment reports whether resource obj of typ/id is in patient's
// compartment.
func (a *API) inCompartment(typ, id string, obj fhir.Object, patient string) bool {
	if typ == "Patient" {
		return id == patient
	}
	values, err := a.svc.Registry().Extract(obj)
	if err != nil {
		return false
	}
	abs := a.cfg.BaseURL + "/Patient/" + patient
	for _, r := range values.References {
		if !slices.Contains(compartmentParams, r.Param) {
			continue
		}
		if (r.Type == "Patient" && r.ID == patient) || r.URL == abs || r.URL == "Patient/"+patient {
			return true
		}
	}
	return false
}

// confine adds the criterion that keeps a search inside patient's
// compartment; types that have no such parameter are refused.
func (a *API) confine(w http.ResponseWriter, typ string, params url.Values, patient string) error {
	if err := a.confineParams(typ, params, patient); err != nil {
		return forbidden(w, err)
	}
	return nil
}

// confineParams adds to params the criterion that keeps a search of typ
// inside patient's compartment: a forbidden error for a type that has no
// such parameter.
func (a *API) confineParams(typ string, params url.Values, patient string) error {
	code := a.compartmentParam(typ)
	if code == "" {
		return fhir.Errorf(fhir.IssueForbidden,
			"a patient/ scope cannot search %s: it cannot be confined to the patient's compartment", typeOrAll(typ))
	}
	if code == "_id" {
		params.Add("_id", patient)
	} else {
		params.Add(code, "Patient/"+patient)
	}
	return nil
}

func typeOrAll(typ string) string {
	if typ == "" || typ == auth.AllTypes {
		return "every type"
	}
	return typ
}
