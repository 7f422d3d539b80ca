package audit

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// Action is AuditEvent.action (http://hl7.org/fhir/audit-event-action).
type Action string

// The actions of AuditEvent.action.
const (
	ActionCreate  Action = "C"
	ActionRead    Action = "R"
	ActionUpdate  Action = "U"
	ActionDelete  Action = "D"
	ActionExecute Action = "E" // searches, Bundles, operations
)

// Outcome is AuditEvent.outcome (http://hl7.org/fhir/audit-event-outcome).
type Outcome string

// The outcomes of AuditEvent.outcome.
const (
	OutcomeSuccess Outcome = "0"
	OutcomeMinor   Outcome = "4" // the request failed (4xx)
	OutcomeSerious Outcome = "8" // the server failed (5xx)
)

// OutcomeOf returns the outcome of an HTTP status.
func OutcomeOf(status int) Outcome {
	switch {
	case status >= 500:
		return OutcomeSerious
	case status >= 400:
		return OutcomeMinor
	}
	return OutcomeSuccess
}

// ActionOf returns the action of a restful-interaction code.
func ActionOf(interaction string) Action {
	switch interaction {
	case "create":
		return ActionCreate
	case "read", "vread", "history-instance", "history-type", "history-system", "history":
		return ActionRead
	case "update", "patch":
		return ActionUpdate
	case "delete":
		return ActionDelete
	}
	return ActionExecute
}

// Code systems and identifiers used in the AuditEvents fhirhub writes.
const (
	SystemInteraction = "http://hl7.org/fhir/restful-interaction"
	SystemEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	SystemEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	SystemObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	SystemSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	// SystemRole codes fhirhub's roles (auth.Roles) in agent.role.
	SystemRole = "http://fhirhub.dev/fhir/CodeSystem/role"
	// SystemOperatorAction codes the /admin actions in a second subtype.
	SystemOperatorAction = "http://fhirhub.dev/fhir/CodeSystem/operator-action"
	// SystemSubject identifies token subjects in agent.who.identifier.
	SystemSubject = "http://fhirhub.dev/fhir/sid/token-subject"
	// SystemHL7Message identifies stored HL7 v2 messages by their id.
	SystemHL7Message = "http://fhirhub.dev/fhir/sid/hl7v2-message"
	// AgentPrefix starts agent.who.reference: AgentReference(subject).
	AgentPrefix = "urn:fhirhub:subject:"
)

// AgentReference is the agent.who.reference of a token subject, what
// AuditEvent?agent= searches for: "urn:fhirhub:subject:" + the subject
// with URL path escaping.
func AgentReference(subject string) string {
	return AgentPrefix + url.PathEscape(subject)
}

// Event is one recorded interaction. Only Interaction is required.
type Event struct {
	// Time is when the interaction was answered (zero: when recorded).
	Time time.Time
	// Interaction is a restful-interaction code (read, vread, update,
	// patch, delete, history-instance, history-type, history-system,
	// create, search-type, search-system, transaction, batch, operation).
	Interaction string
	// OperatorAction names an /admin action (hl7v2-message-list,
	// hl7v2-message-read, hl7v2-replay): a second subtype coding.
	OperatorAction string
	// Action is C, R, U, D or E (empty: ActionOf(Interaction)).
	Action Action
	// Status is the HTTP status of the answer; Outcome follows from it.
	Status int
	// IssueCode is the OperationOutcome issue code of a refusal or failure
	// (e.g. forbidden); it goes with the status in outcomeDesc.
	IssueCode string

	// Subject and Role are the caller's token subject (user or client id)
	// and role; empty when unauthenticated or without authentication.
	Subject, Role string
	// Scope is the caller's tenant and facility: the AuditEvent is
	// stored in that tenant (and tagged with the facility), where the
	// caller's auditors find it.
	Scope store.Scope
	// Address is the client's network address (IP).
	Address string

	// What is the resource the interaction touched: Type/id, or
	// Type/id/_history/version when a version was read or written.
	What string
	// Identifier identifies a non-FHIR object (an HL7 v2 message) as
	// system|value: entity.what.identifier.
	Identifier [2]string
	// ResourceType is the type searched or acted on when What is empty.
	ResourceType string
	// Query is the raw query string of a search or conditional
	// interaction (may hold patient data: it is stored in entity.query,
	// readable by AuditEvent readers only, and never logged).
	Query string
	// Description describes the entity (no patient data), e.g. "$validate".
	Description string
	// Patient is the Patient id the interaction was confined to (the
	// token's patient/ context): a second entity in the role Patient.
	Patient string
	// RequestID is the request's id (X-Request-Id), entity.detail.
	RequestID string
	// Entry locates the Bundle entry this event records, as
	// "Bundle.entry[n]" (entity.detail "bundle-entry"); empty for the
	// event of a whole request. The entry's event has the request id of
	// its Bundle's event.
	Entry string
}

// Observer describes the server that records events
// (AuditEvent.source).
type Observer struct {
	// Site is AuditEvent.source.site, e.g. the host name.
	Site string
	// Name is the observer's display, e.g. "fhirhub".
	Name string
	// URL identifies the server (its FHIR base URL) in observer.identifier.
	URL string
}

func coding(system, code, display string) fhir.Object {
	c := fhir.Object{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

// Resource returns ev as an AuditEvent with id; recorded defaults to now.
func (ev *Event) Resource(id string, obs Observer, now time.Time) fhir.Object {
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	action := ev.Action
	if action == "" {
		action = ActionOf(ev.Interaction)
	}
	subtype := []any{coding(SystemInteraction, ev.Interaction, "")}
	if ev.OperatorAction != "" {
		subtype = append(subtype, coding(SystemOperatorAction, ev.OperatorAction, ""))
	}
	out := fhir.Object{
		"resourceType": "AuditEvent",
		"id":           id,
		"type":         coding(SystemEventType, "rest", "RESTful Operation"),
		"subtype":      subtype,
		"action":       string(action),
		"recorded":     at.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"outcome":      string(OutcomeOf(ev.Status)),
		"agent":        []any{ev.agent()},
		"source":       obs.source(),
		"entity":       ev.entities(),
	}
	if ev.Status >= 400 {
		d := strconv.Itoa(ev.Status)
		if ev.IssueCode != "" {
			d += " " + ev.IssueCode
		}
		out["outcomeDesc"] = d
	}
	return out
}

func (ev *Event) agent() fhir.Object {
	a := fhir.Object{"requestor": true}
	if ev.Subject != "" {
		a["who"] = fhir.Object{
			"reference":  AgentReference(ev.Subject),
			"identifier": fhir.Object{"system": SystemSubject, "value": ev.Subject},
		}
		a["altId"] = ev.Subject
	} else {
		a["name"] = "anonymous"
	}
	if ev.Role != "" {
		a["role"] = []any{fhir.Object{"coding": []any{coding(SystemRole, ev.Role, "")}}}
	}
	if ev.Address != "" {
		// type 2: IP address (http://hl7.org/fhir/network-type).
		a["network"] = fhir.Object{"address": ev.Address, "type": "2"}
	}
	return a
}

func (o Observer) source() fhir.Object {
	name := o.Name
	if name == "" {
		name = "fhirhub"
	}
	obs := fhir.Object{"display": name}
	if o.URL != "" {
		obs["identifier"] = fhir.Object{"system": "urn:ietf:rfc:3986", "value": o.URL}
	}
	src := fhir.Object{
		"observer": obs,
		// 3: web server (security-source-type).
		"type": []any{coding(SystemSourceType, "3", "Web Server")},
	}
	if o.Site != "" {
		src["site"] = o.Site
	}
	return src
}

func (ev *Event) entities() []any {
	e := fhir.Object{}
	typ := ev.ResourceType
	switch {
	case ev.What != "":
		e["what"] = fhir.Object{"reference": ev.What}
		typ, _, _ = strings.Cut(ev.What, "/")
	case ev.Identifier[1] != "":
		e["what"] = fhir.Object{"identifier": fhir.Object{"system": ev.Identifier[0], "value": ev.Identifier[1]}}
	case typ != "":
		e["what"] = fhir.Object{"type": typ}
	}
	// 1: person (a Patient), 2: system object (audit-entity-type).
	if typ == "Patient" {
		e["type"] = coding(SystemEntityType, "1", "Person")
	} else {
		e["type"] = coding(SystemEntityType, "2", "System Object")
	}
	if ev.Query != "" {
		e["query"] = base64.StdEncoding.EncodeToString([]byte(ev.Query))
		// 24: query (object-role).
		e["role"] = coding(SystemObjectRole, "24", "Query")
	}
	if ev.Description != "" {
		e["description"] = ev.Description
	}
	var details []any
	if ev.RequestID != "" {
		details = append(details, fhir.Object{"type": "request-id", "valueString": ev.RequestID})
	}
	if ev.Entry != "" {
		details = append(details, fhir.Object{"type": "bundle-entry", "valueString": ev.Entry})
	}
	if details != nil {
		e["detail"] = details
	}
	out := []any{e}
	if ev.Patient != "" && ev.What != "Patient/"+ev.Patient && !strings.HasPrefix(ev.What, "Patient/"+ev.Patient+"/") {
		out = append(out, fhir.Object{
			"what": fhir.Object{"reference": "Patient/" + ev.Patient},
			"type": coding(SystemEntityType, "1", "Person"),
			"role": coding(SystemObjectRole, "1", "Patient"),
		})
	}
	return out
}
