package admin

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/httpsec"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// Auditor records the AuditEvent of an operator action without waiting
// for it to be stored (*audit.Writer does).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event)
}

// action describes an operator route in its AuditEvent: the
// restful-interaction code closest to it and fhirhub's operator action.
type action struct {
	interaction, operator string
}

var (
	actionList   = action{"search-type", "hl7v2-message-list"}
	actionRead   = action{"read", "hl7v2-message-read"}
	actionReplay = action{"operation", "hl7v2-replay"}
)

// requestID returns the request's X-Request-Id, or a new one; it is
// echoed in the response.
func requestID(w http.ResponseWriter, r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		id = service.NewUUID()
	}
	w.Header().Set("X-Request-Id", id)
	return id
}

// record hands the AuditEvent of an operator request to the Auditor.
func (a *API) record(r *http.Request, act action, p *auth.Principal, reqID string, status int, err error, detail string) {
	ev := audit.Event{Interaction: act.interaction, OperatorAction: act.operator, Status: status,
		RequestID: reqID, Description: detail}
	ev.Address = httpsec.ClientAddress(r)
	if p != nil {
		ev.Subject, ev.Role = p.Subject, p.Role
		ev.Scope = store.Scope{Tenant: p.Tenant, Facility: p.Facility}
	}
	if err != nil {
		ev.IssueCode = string(fhir.ErrorCode(err))
	}
	if id := mux.Vars(r)["id"]; id != "" {
		ev.Identifier = [2]string{audit.SystemHL7Message, id}
		if ev.Description == "" {
			ev.Description = "HL7 v2 message"
		}
	} else {
		ev.Query = r.URL.RawQuery
		if ev.Description == "" {
			ev.Description = "HL7 v2 message store"
		}
	}
	a.cfg.Audit.Record(r.Context(), ev)
}
