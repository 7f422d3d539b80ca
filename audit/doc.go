// Package audit records who did what through fhirhub as FHIR R4
// AuditEvent resources (auditevent.html): one per REST interaction
// (type rest, subtype from http://hl7.org/fhir/restful-interaction) and
// per operator action on the /admin API, with the action (C/R/U/D/E), the
// outcome (0/4/8), the agent (token subject and role, client network
// address), the entity (Type/id/_history/version, or the search query as
// entity.query) and the request id (entity.detail "request-id"). Each
// entry of a batch or transaction Bundle gets an event of its own besides
// the Bundle's, with the entry's interaction, entity and outcome, the
// Bundle's request id and the entry's place (entity.detail
// "bundle-entry", "Bundle.entry[n]").
//
// A Writer takes Events without waiting for the database and writes them
// in batches, one store transaction per batch, so that recording adds
// little to a request's latency; Close writes whatever is pending, so a
// clean shutdown loses nothing. The events are stored like any resource
// and searchable (AuditEvent?entity=&agent=&date=).
//
// Nothing of an event (the query, the subject) is logged: log lines carry
// counts and errors only.
package audit
