package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

func (a *API) location(res *store.Resource) string {
	return a.cfg.BaseURL + "/" + res.Reference() + "/_history/" + strconv.FormatInt(res.Version, 10)
}

func setVersionHeaders(w http.ResponseWriter, res *store.Resource) {
	w.Header().Set("ETag", res.ETag())
	w.Header().Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
}

// read: GET [base]/[type]/[id], with If-None-Match and If-Modified-Since
// answered 304 when the client's copy is current.
func (a *API) read(w http.ResponseWriter, r *http.Request) error {
	if err := checkAccept(r); err != nil {
		return err
	}
	v := mux.Vars(r)
	res, err := a.svc.Read(r.Context(), v["type"], v["id"])
	if err != nil {
		if res != nil && res.Deleted {
			noteResource(r, res)
			setVersionHeaders(w, res)
		}
		return err
	}
	if err := a.checkConfined(r, res); err != nil {
		return err
	}
	if notModified(r, res) {
		setVersionHeaders(w, res)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return a.writeStored(w, r, http.StatusOK, res)
}

func notModified(r *http.Request, res *store.Resource) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		v, err := service.ParseETag(inm)
		return err == nil && v == res.Version
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !res.LastUpdated.Truncate(time.Second).After(t)
	}
	return false
}

// writeStored writes a stored version, shaped by _summary/_elements.
func (a *API) writeStored(w http.ResponseWriter, r *http.Request, status int, res *store.Resource) error {
	noteResource(r, res)
	setVersionHeaders(w, res)
	q := r.URL.Query()
	if q.Get("_summary") != "" || q.Get("_elements") != "" {
		obj, err := fhir.ParseObject(res.Content)
		if err != nil {
			return err
		}
		writeResource(w, r, status, a.svc.Shape(q).Apply(obj))
		return nil
	}
	writeJSON(w, r, status, res.Content)
	return nil
}

// vread: GET [base]/[type]/[id]/_history/[vid].
func (a *API) vread(w http.ResponseWriter, r *http.Request) error {
	if err := checkAccept(r); err != nil {
		return err
	}
	v := mux.Vars(r)
	version, err := strconv.ParseInt(v["vid"], 10, 64)
	if err != nil || version < 1 {
		return fhir.Errorf(fhir.IssueNotFound, "no version %q", v["vid"])
	}
	res, err := a.svc.VRead(r.Context(), v["type"], v["id"], version)
	if err != nil {
		if res != nil && res.Deleted {
			noteResource(r, res)
			setVersionHeaders(w, res)
		}
		return err
	}
	if err := a.checkConfined(r, res); err != nil {
		return err
	}
	return a.writeStored(w, r, http.StatusOK, res)
}

// ifMatch returns the version in If-Match, 0 when absent.
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, nil
	}
	v, err := service.ParseETag(h)
	if err != nil {
		return 0, fhir.Errorf(fhir.IssueInvalid, "If-Match must be a version ETag such as W/\"3\"")
	}
	return v, nil
}

// update: PUT [base]/[type]/[id] (update as create when it does not exist).
func (a *API) update(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	obj, err := a.readResource(w, r)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.svc.Update(r.Context(), v["type"], v["id"], obj, im)
	if err != nil {
		return err
	}
	return a.writeResult(w, r, res)
}

// writeResult answers a write per Prefer: return=minimal (no body),
// OperationOutcome, or representation (the default).
func (a *API) writeResult(w http.ResponseWriter, r *http.Request, res service.Result) error {
	if res.Resource == nil {
		w.WriteHeader(res.Status)
		return nil
	}
	noteResource(r, res.Resource)
	setVersionHeaders(w, res.Resource)
	if res.Status == http.StatusCreated || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		w.Header().Set("Location", a.location(res.Resource))
	}
	switch parsePrefer(r).ret {
	case "minimal":
		w.WriteHeader(res.Status)
		return nil
	case "OperationOutcome":
		writeResource(w, r, res.Status, service.OutcomeOf(fhir.Issue{
			Severity: fhir.SeverityInformation, Code: fhir.IssueInformational,
			Diagnostics: res.Resource.Reference() + " version " + strconv.FormatInt(res.Resource.Version, 10)}))
		return nil
	}
	writeJSON(w, r, res.Status, res.Resource.Content)
	return nil
}

// delete: DELETE [base]/[type]/[id].
func (a *API) delete(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.svc.Delete(r.Context(), v["type"], v["id"], im)
	if err != nil {
		return err
	}
	return a.writeDeleted(w, r, res)
}

func (a *API) writeDeleted(w http.ResponseWriter, r *http.Request, res service.Result) error {
	if res.Resource != nil {
		noteResource(r, res.Resource)
		w.Header().Set("ETag", res.Resource.ETag())
	}
	if parsePrefer(r).ret == "OperationOutcome" {
		writeResource(w, r, http.StatusOK, service.OutcomeOf(fhir.Issue{
			Severity: fhir.SeverityInformation, Code: fhir.IssueInformational, Diagnostics: "deleted"}))
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var jsonPatch = []string{"application/json-patch+json"}

// patch: PATCH [base]/[type]/[id] with a JSON Patch body.
func (a *API) patch(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	body, err := a.readBody(w, r, jsonPatch...)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.svc.Patch(r.Context(), v["type"], v["id"], body, im)
	if err != nil {
		return err
	}
	return a.writeResult(w, r, res)
}

// checkConfined answers 404 for a resource outside the compartment of the
// patient a patient/ scope confines the request to, as if it did not exist.
func (a *API) checkConfined(r *http.Request, res *store.Resource) error {
	patient := confinedTo(r.Context())
	if patient == "" {
		return nil
	}
	obj, err := fhir.ParseObject(res.Content)
	if err != nil || a.compartmentParam(res.Type) == "" || !a.inCompartment(res.Type, res.ID, obj, patient) {
		return fhir.Errorf(fhir.IssueNotFound, "%s/%s is not known", res.Type, res.ID)
	}
	return nil
}
