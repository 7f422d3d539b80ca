package service

import (
	"encoding/base64"

	"github.com/fhirhub/fhirhub/fhir"
)

// OperationOutcome returns the OperationOutcome describing err for a
// client. Errors that are not *fhir.Error are reported without detail
// (their text may hold internals); the caller logs them.
func OperationOutcome(err error) fhir.Object {
	fe := fhir.AsError(err)
	if fe == nil {
		fe = &fhir.Error{Code: issueCode(err), Message: internalMessage(err)}
	}
	return OutcomeOf(fe.Issues()...)
}

// issueCode returns the issue type of an error that is not a *fhir.Error
// (store sentinels, timeouts): what its status means, exception for
// internal errors.
func issueCode(err error) fhir.IssueType {
	switch Status(err) {
	case 404:
		return fhir.IssueNotFound
	case 410:
		return fhir.IssueDeleted
	case 409, 412:
		return fhir.IssueConflict
	case 503:
		return fhir.IssueTimeout
	}
	return fhir.IssueException
}

func internalMessage(err error) string {
	switch Status(err) {
	case 404:
		return "resource not found"
	case 410:
		return "resource deleted"
	case 409:
		return "version conflict: the resource has changed"
	case 412:
		return "precondition failed: the resource has another version"
	case 503:
		return "the request took too long"
	}
	return "internal error"
}

// OutcomeOf builds an OperationOutcome from issues.
func OutcomeOf(issues ...fhir.Issue) fhir.Object {
	out := make([]any, 0, len(issues))
	for _, is := range issues {
		sev := is.Severity
		if sev == "" {
			sev = fhir.SeverityError
		}
		m := fhir.Object{"severity": string(sev), "code": string(is.Code)}
		if is.Diagnostics != "" {
			m["diagnostics"] = is.Diagnostics
		}
		if len(is.Expression) > 0 {
			ex := make([]any, len(is.Expression))
			for i, x := range is.Expression {
				ex[i] = x
			}
			m["expression"] = ex
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		out = append(out, fhir.Object{"severity": "information", "code": "informational", "diagnostics": "all OK"})
	}
	return fhir.Object{"resourceType": "OperationOutcome", "issue": out}
}

// binaryData returns the decoded Binary.data of b.
func binaryData(b fhir.Object) ([]byte, error) {
	s, _ := b["data"].(string)
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(data) == 0 {
		return nil, fhir.Errorf(fhir.IssueInvalid, "Binary.data must hold the base64 JSON Patch").At("Binary.data")
	}
	return data, nil
}
