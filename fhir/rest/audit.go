package rest

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/httpsec"
	"github.com/fhirhub/fhirhub/store"
)

// Auditor records the AuditEvent of an interaction without waiting for
// it to be stored (*audit.Writer does).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event)
}

// exchange gathers, while a request is served, what its AuditEvent says.
type exchange struct {
	interaction string
	principal   *auth.Principal
	patient     string // the patient/ context the request was confined to
	touched     *store.Resource
	query       string // search parameters of a POST _search
	description string
	// entries are the events of a processed Bundle's entries
	// (noteBundleEntries), recorded after the request's own.
	entries []audit.Event
}

const exchangeKey ctxKey = 100

func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey).(*exchange)
	return ex
}

// noteResource records the resource version an interaction read or wrote.
func noteResource(r *http.Request, res *store.Resource) {
	if ex := exchangeOf(r.Context()); ex != nil && res != nil {
		ex.touched = res
	}
}

// noteInteraction replaces the route's interaction code (a Bundle is a
// batch or a transaction).
func noteInteraction(r *http.Request, code string) {
	if ex := exchangeOf(r.Context()); ex != nil {
		ex.interaction = code
	}
}

// noteDescription describes the interaction's entity (an operation's
// name; never patient data).
func noteDescription(r *http.Request, d string) {
	if ex := exchangeOf(r.Context()); ex != nil {
		ex.description = d
	}
}

// record hands the request's AuditEvent to the Auditor.
func (a *API) record(r *http.Request, ex *exchange, reqID string, status int, err error) {
	v := mux.Vars(r)
	ev := audit.Event{
		Interaction: ex.interaction, Status: status, Address: httpsec.ClientAddress(r),
		RequestID: reqID, Patient: ex.patient, ResourceType: v["type"], Description: ex.description,
	}
	if err != nil {
		ev.IssueCode = string(fhir.ErrorCode(err))
	}
	if p := ex.principal; p != nil {
		ev.Subject, ev.Role = p.Subject, p.Role
		ev.Scope = store.Scope{Tenant: p.Tenant, Facility: p.Facility}
	}
	switch {
	case ex.touched != nil:
		ev.What = ex.touched.Reference() + "/_history/" + strconv.FormatInt(ex.touched.Version, 10)
	case v["id"] != "" && v["type"] != "":
		ev.What = v["type"] + "/" + v["id"]
		if vid := v["vid"]; vid != "" {
			ev.What += "/_history/" + vid
		}
	}
	switch {
	case ex.query != "":
		ev.Query = ex.query
	case r.URL.RawQuery != "" && v["id"] == "":
		// A search's or a conditional interaction's criteria.
		ev.Query = r.URL.RawQuery
	case r.Header.Get("If-None-Exist") != "":
		ev.Query = r.Header.Get("If-None-Exist")
	}
	a.cfg.Audit.Record(r.Context(), ev)
	for _, e := range ex.entries {
		e.Subject, e.Role, e.Address, e.RequestID, e.Patient, e.Scope = ev.Subject, ev.Role, ev.Address, reqID, ev.Patient, ev.Scope
		a.cfg.Audit.Record(r.Context(), e)
	}
}
