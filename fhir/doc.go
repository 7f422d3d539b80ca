// Package fhir holds the FHIR R4 vocabulary shared by the rest of fhirhub:
// resources as parsed JSON objects, the canonical JSON encoding, and the one
// error type (Error) that carries an OperationOutcome issue type and the FHIR
// path of what went wrong (FHIR R4 json.html, operationoutcome.html).
//
// The package is pure: it does no I/O and imports nothing else of fhirhub.
package fhir
