package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// create: POST [base]/[type], conditional with If-None-Exist.
func (a *API) create(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("If-None-Exist") != "" {
		if _, err := allow(w, r, mux.Vars(r)["type"], auth.PermSearch); err != nil {
			return err
		}
	}
	obj, err := a.readResource(w, r)
	if err != nil {
		return err
	}
	res, err := a.svc.Create(r.Context(), mux.Vars(r)["type"], obj, r.Header.Get("If-None-Exist"))
	if err != nil {
		return err
	}
	if res.Status == http.StatusOK && parsePrefer(r).ret == "" {
		// An existing match: return it like a read.
		return a.writeStored(w, r, http.StatusOK, res.Resource)
	}
	return a.writeResult(w, r, res)
}

// criteria returns the search criteria of a conditional interaction: the
// request's query string.
func criteria(r *http.Request) (string, error) {
	if r.URL.RawQuery == "" {
		return "", fhir.Errorf(fhir.IssueInvalid, "a conditional interaction needs search criteria in the query string")
	}
	return r.URL.RawQuery, nil
}

// conditionalUpdate: PUT [base]/[type]?criteria.
func (a *API) conditionalUpdate(w http.ResponseWriter, r *http.Request) error {
	c, err := criteria(r)
	if err != nil {
		return err
	}
	obj, err := a.readResource(w, r)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.svc.ConditionalUpdate(r.Context(), mux.Vars(r)["type"], c, obj, im)
	if err != nil {
		return err
	}
	return a.writeResult(w, r, res)
}

// conditionalDelete: DELETE [base]/[type]?criteria.
func (a *API) conditionalDelete(w http.ResponseWriter, r *http.Request) error {
	c, err := criteria(r)
	if err != nil {
		return err
	}
	res, err := a.svc.ConditionalDelete(r.Context(), mux.Vars(r)["type"], c)
	if err != nil {
		return err
	}
	return a.writeDeleted(w, r, res)
}

// conditionalPatch: PATCH [base]/[type]?criteria.
func (a *API) conditionalPatch(w http.ResponseWriter, r *http.Request) error {
	c, err := criteria(r)
	if err != nil {
		return err
	}
	body, err := a.readBody(w, r, jsonPatch...)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.svc.ConditionalPatch(r.Context(), mux.Vars(r)["type"], c, body, im)
	if err != nil {
		return err
	}
	return a.writeResult(w, r, res)
}

// searchParams returns the parameters of a search: the query string, plus
// the form body for POST _search.
func (a *API) searchParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := a.readBody(w, r, "application/x-www-form-urlencoded")
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fhir.Errorf(fhir.IssueInvalid, "invalid form body")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return params, nil
}

func (a *API) searchType(w http.ResponseWriter, r *http.Request) error {
	return a.search(w, r, mux.Vars(r)["type"])
}

func (a *API) searchSystem(w http.ResponseWriter, r *http.Request) error {
	return a.search(w, r, "")
}

// search: GET [base]/[type]?params, POST [base]/[type]/_search, and the
// system-level forms. Unknown parameters are reported in an outcome entry,
// or refused with 400 under Prefer: handling=strict.
func (a *API) search(w http.ResponseWriter, r *http.Request, typ string) error {
	if err := checkAccept(r); err != nil {
		return err
	}
	params, err := a.searchParams(w, r)
	if err != nil {
		return err
	}
	if ex := exchangeOf(r.Context()); ex != nil && r.Method == http.MethodPost {
		ex.query = params.Encode()
	}
	patient, err := a.authorizeSearch(w, r, typ, params)
	if err != nil {
		return err
	}
	res, q, warnings, err := a.svc.Search(r.Context(), typ, params)
	if err != nil {
		return err
	}
	if len(warnings) > 0 && parsePrefer(r).strict {
		return &fhir.Error{Code: fhir.IssueInvalid, Message: warnings[0].Diagnostics, Expression: warnings[0].Expression, More: warnings[1:]}
	}
	bundle := a.svc.SearchBundle(typ, q, params, res, warnings)
	a.filterEntries(r, bundle, patient)
	writeResource(w, r, http.StatusOK, bundle)
	return nil
}

// authorizeSearch decides a search for the caller: the types searched
// (the type, else every _type, else all), the types its chains and _has
// look into, and, under patient/ scopes, the criterion that confines it to
// the patient (returned, so that included resources are filtered too).
func (a *API) authorizeSearch(w http.ResponseWriter, r *http.Request, typ string, params url.Values) (string, error) {
	if principalOf(r.Context()) == nil {
		return "", nil
	}
	patient := confinedTo(r.Context())
	if typ == "" {
		var types []string
		for _, t := range params["_type"] {
			types = append(types, strings.Split(t, ",")...)
		}
		if len(types) == 0 {
			types = []string{auth.AllTypes}
		}
		for _, t := range types {
			access, err := allow(w, r, strings.TrimSpace(t), auth.PermSearch)
			if err != nil {
				return "", err
			}
			if access.Patient != "" {
				return "", forbidden(w, fhir.Errorf(fhir.IssueForbidden, "a patient/ scope cannot search across types in this release; search one type"))
			}
		}
	} else if patient != "" {
		if err := a.confine(w, typ, params, patient); err != nil {
			return "", err
		}
	}
	if err := a.checkSearchTypes(w, r, typ, params); err != nil {
		return "", err
	}
	return patient, nil
}

func (a *API) historySystem(w http.ResponseWriter, r *http.Request) error {
	return a.history(w, r, "", "", "_history")
}

func (a *API) historyType(w http.ResponseWriter, r *http.Request) error {
	t := mux.Vars(r)["type"]
	return a.history(w, r, t, "", t+"/_history")
}

func (a *API) historyInstance(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	return a.history(w, r, v["type"], v["id"], v["type"]+"/"+v["id"]+"/_history")
}

// history: _history at system, type and instance level with _since, _at,
// _count and cursor paging.
func (a *API) history(w http.ResponseWriter, r *http.Request, typ, id, path string) error {
	if err := checkAccept(r); err != nil {
		return err
	}
	if patient := confinedTo(r.Context()); patient != "" && (typ != "Patient" || id != patient) {
		return forbidden(w, fhir.Errorf(fhir.IssueForbidden, "under a patient/ scope only the patient's own Patient history can be read in this release"))
	}
	params := r.URL.Query()
	q := store.HistoryQuery{Type: typ, ID: id, Cursor: params.Get(service.CursorParam)}
	var err error
	if s := params.Get("_since"); s != "" {
		if q.Since, err = parseInstant(s); err != nil {
			return fhir.Errorf(fhir.IssueInvalid, "invalid _since %q", s).At("_since")
		}
	}
	if s := params.Get("_at"); s != "" {
		if q.At, err = parseInstant(s); err != nil {
			return fhir.Errorf(fhir.IssueInvalid, "invalid _at %q", s).At("_at")
		}
	}
	if s := params.Get("_count"); s != "" {
		if q.Count, err = strconv.Atoi(s); err != nil || q.Count < 0 {
			return fhir.Errorf(fhir.IssueInvalid, "invalid _count %q", s).At("_count")
		}
	}
	page, err := a.svc.History(r.Context(), q)
	if err != nil {
		return err
	}
	keep := url.Values{}
	for _, k := range []string{"_since", "_at", "_count"} {
		if v := params.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	bundle := a.svc.HistoryBundle(page, keep, path)
	if typ == "" {
		hideAuditEvents(r, bundle)
	}
	writeResource(w, r, http.StatusOK, bundle)
	return nil
}

// parseInstant accepts a FHIR instant or dateTime (a date means its start).
func parseInstant(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fhir.Errorf(fhir.IssueInvalid, "invalid instant")
}

// bundle: POST [base] with a batch or transaction Bundle.
func (a *API) bundle(w http.ResponseWriter, r *http.Request) error {
	obj, err := a.readResource(w, r)
	if err != nil {
		return err
	}
	if t, _ := obj["type"].(string); t == "batch" || t == "transaction" {
		noteInteraction(r, t)
		entries, _ := obj["entry"].([]any)
		noteDescription(r, t+" Bundle of "+strconv.Itoa(len(entries))+" entries")
	}
	confined, err := a.checkBundle(w, r, obj)
	if err != nil {
		return err
	}
	if p := principalOf(r.Context()); p != nil {
		ctx := service.WithCriteriaGuard(r.Context(), a.criteriaGuard(p))
		if confined {
			ctx = service.WithWriteGuard(ctx, a.compartmentGuard(p))
		}
		r = r.WithContext(ctx)
	}
	out, err := a.svc.Bundle(r.Context(), obj, service.BundleOptions{Representation: parsePrefer(r).ret == "representation"})
	if err != nil {
		return err
	}
	noteBundleEntries(r, stringOf(obj["type"]), obj, out)
	writeResource(w, r, http.StatusOK, out)
	return nil
}

// validate: POST [base]/[type]/$validate and [base]/[type]/[id]/$validate
// with the resource (or a Parameters with a "resource" part). The result
// is an OperationOutcome with every issue found by the R4 definitions
// (google/fhir jsonformat when configured, and the write-path validator).
func (a *API) validate(w http.ResponseWriter, r *http.Request) error {
	noteDescription(r, "$validate")
	v := mux.Vars(r)
	body, err := a.readBody(w, r, fhirJSON...)
	if err != nil {
		return err
	}
	obj, err := fhir.ParseObject(body)
	if err != nil {
		writeResource(w, r, http.StatusOK, service.OperationOutcome(err))
		return nil
	}
	if fhir.ResourceType(obj) == "Parameters" && v["type"] != "Parameters" {
		params, _ := obj["parameter"].([]any)
		obj = nil
		for _, p := range params {
			if pm, ok := p.(map[string]any); ok && pm["name"] == "resource" {
				obj, _ = pm["resource"].(map[string]any)
			}
		}
		if obj == nil {
			return fhir.Errorf(fhir.IssueRequired, "Parameters has no resource part").At("Parameters.parameter")
		}
		body = fhir.MarshalJSON(obj)
	}
	if rt := fhir.ResourceType(obj); rt != v["type"] {
		writeResource(w, r, http.StatusOK, service.OperationOutcome(
			fhir.Errorf(fhir.IssueInvalid, "resourceType %q does not match %q", rt, v["type"]).At("resourceType")))
		return nil
	}
	var issues []fhir.Issue
	if a.cfg.Reference != nil {
		if err := a.cfg.Reference(body); err != nil {
			issues = append(issues, issuesOf(err)...)
		}
	}
	if err := a.svc.Validator().Resource(obj); err != nil && len(issues) == 0 {
		issues = append(issues, issuesOf(err)...)
	}
	writeResource(w, r, http.StatusOK, service.OutcomeOf(issues...))
	return nil
}

func issuesOf(err error) []fhir.Issue {
	if fe := fhir.AsError(err); fe != nil {
		return fe.Issues()
	}
	return []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.IssueInvalid, Diagnostics: "invalid resource"}}
}

// reindex: POST [base]/$reindex and [base]/[type]/$reindex recompute the
// search index (after a SearchParameter was added) and answer with a
// Parameters resource holding the count.
func (a *API) reindex(w http.ResponseWriter, r *http.Request) error {
	noteDescription(r, "$reindex")
	if p := principalOf(r.Context()); p != nil {
		if err := p.Admin(); err != nil {
			return forbidden(w, err)
		}
	}
	n, err := a.svc.Reindex(r.Context(), mux.Vars(r)["type"])
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusOK, fhir.Object{
		"resourceType": "Parameters",
		"parameter":    []any{fhir.Object{"name": "count", "valueInteger": n}},
	})
	return nil
}
