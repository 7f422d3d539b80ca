// Package mappings maps HL7 v2 messages to FHIR R4 transaction Bundles,
// following the HL7 Version 2 to FHIR implementation guide (v2-to-FHIR IG,
// http://hl7.org/fhir/uv/v2mappings, STU 1): its message maps (ADT_A01 ...
// ORU_R01, ORM_O01, OMI_O23), segment maps (PID[Patient], PV1[Encounter],
// OBR[DiagnosticReport], OBX[Observation] ...), datatype maps
// (CX[Identifier], XPN[HumanName], XAD[Address], XTN[ContactPoint],
// CWE[CodeableConcept], DTM[dateTime] ...) and vocabulary maps (tables
// 0001, 0004, 0078, 0085, 0123 ...). The code is ours; where the IG leaves
// a choice open, the choice is documented beside the code that makes it.
//
// The package is pure: Map takes a parsed message (adapters/hl7v2) and
// returns a Bundle (fhir.Object); it reads no store, clock or network
// (Options.Now only dates a Provenance whose message has no MSH-7). The
// same message always gives the same bytes: fullUrls are name-based UUIDs
// (RFC 9562 v5) of the message identity and the entry's key.
//
// # Business keys, never blind POSTs
//
// Every resource is written conditionally on a business identifier, so
// that processing a message twice, or replaying a stream, leaves the same
// resources (the store makes no version when nothing changed): Patient by
// its PID-3 identifiers (assigning authority as system, see
// DefaultIdentifierSystem; several identifiers are OR-ed so that a Patient
// known by any of them is found, and a message whose identifiers select
// two Patients fails with 412 instead of guessing); Encounter by the visit
// number (PV1-19); Practitioner, Organization and Location by their ids;
// ServiceRequest by its placer, filler or accession number; DiagnosticReport
// by the filler order number; Observation by filler order, OBX-3 and OBX-4
// (ObservationSystem); Specimen, Condition, AllergyIntolerance and
// Coverage by their ids or keys derived from patient or visit and code.
// Resource ids are left to the server, except the Provenance's, which is
// derived from the message identity.
//
// # Merge semantics: ensure and patch
//
// HL7 v2 updates merge (v2.5.1 section 2.5.3): a field not sent leaves the
// receiver's value, a field sent as "" deletes it. A pure mapping cannot
// read the stored resource, so it expresses this in the Bundle with two
// entries per merged resource:
//
//  1. POST with ifNoneExist on the business key ("ensure"): creates the
//     resource from this message when none matches, and is a no-op when
//     one does; other entries refer to it by its fullUrl, which the
//     transaction resolves to the created or matched resource;
//  2. PATCH on the same criteria with a JSON Patch (RFC 6902) in a Binary
//     of contentType application/json-patch+json (FHIR R4 http.html#patch,
//     as our server accepts it in a Bundle): "add" for each element the
//     message sends (it replaces a top-level element whole: the PID-5
//     names replace Patient.name), and "add null" then "remove" for each
//     element sent as "", which deletes it whether or not it is there.
//
// The transaction runs POSTs before PATCHes (http.html#trules), so the
// PATCH always finds its resource. Patients are merged this way by every
// ADT event (order and result messages only ensure them: their senders do
// not master demographics, and a result for an unknown patient creates it
// from PID, which a later A08 completes). Encounters are merged by A08 and
// written whole (conditional PUT) by the visit events, which restate the
// visit; results, reports, specimens, allergies, diagnoses and coverages
// are written whole, each message being the whole truth about them (a
// corrected result is a new version of the same Observation).
//
// A JSON Patch body is opaque to the transaction, which resolves fullUrls
// and conditional references only in resources. So patches never hold
// references: reference elements (Encounter.location and participants,
// Patient.generalPractitioner) are written when the resource is created or
// written whole, and an A08 does not move an existing Encounter. Patient
// extensions (mother's maiden name, religion) are set at creation only, as
// a patch can only replace the whole extension list. Bed status
// (Location.operationalStatus) is patched too; a Practitioner is only
// ensured (created from the first message that names it: senders format
// one person's name differently). Reference data keeps the meta.source of
// the message that created it.
//
// # What the ingest pipeline adds
//
// The pipeline (pipelines/ingest) reads the store before committing a
// Bundle, which this package cannot:
//
//   - Ordering (pipelines/ingest/order.go): a message's event time is EVN-2
//     for ADT, else MSH-7. Each PUT or PATCH on criteria whose resource was
//     last written by another message with a later event time, which wrote
//     that resource with a PUT or PATCH of its own (not just an ensure),
//     is superseded: the PUT becomes an ensure, the PATCH is dropped (an
//     A40 keeps its /link and /active operations), and the message is
//     recorded processed with a note. Ensures always run, so a result for
//     an unknown patient still creates it from PID and a later A08, even
//     one dated before the result, completes it.
//   - A40 merges (pipelines/ingest/merge.go, see Merges): the Patient.link
//     entries get literal references (Patient/id, or the fullUrl of the
//     entry creating the Patient) beside their identifier, the Patients'
//     patches being applied to the versions read and written as PUTs with
//     If-Match; the merged Patient's Encounters, Observations,
//     DiagnosticReports, ServiceRequests, Conditions, AllergyIntolerances,
//     Coverages and the rest of its compartment (but not Provenance and
//     AuditEvent) are re-pointed to the survivor in the same transaction,
//     with If-Match on the versions read (up to ingest.Config.MaxRepoint
//     resources, 5,000 by default).
//   - Deletions are still not done: an allergy, diagnosis or coverage
//     missing from a later message is not deleted.
//
// # Resources carry their source
//
// Every resource written carries meta.source (Options.MessageRef), and
// each Bundle ends with one Provenance whose entity names the message by
// its control id (MSH-10) and whose targets are the resources the message
// wrote. Critical results (OBX-8 HH, LL, AA) carry CriticalResultExtension
// and CriticalResultTag for the alert pipeline.
//
// # Text and times
//
// Values are read with their escapes resolved and, for text datatypes
// (ST, TX, FT), formatting rendered; characters a FHIR string cannot hold
// (control characters) are dropped. Times keep the precision and offset
// they were sent with; a time without offset is in Options.Location.
//
// # Errors
//
// A message that cannot be mapped gives a *fhir.Error (code invalid) whose
// Expression names the segment and field ("PID-3", "OBX[4]-3") and whose
// text names the rule broken, never a value of the message: it may be
// logged. A message type not mapped gives code not-supported with
// ErrUnsupported in its chain.
package mappings
