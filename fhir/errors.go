package fhir

import (
	"errors"
	"fmt"
	"strings"
)

// IssueType is an OperationOutcome issue type (FHIR R4 valueset-issue-type).
type IssueType string

// The issue types fhirhub reports.
const (
	IssueInvalid         IssueType = "invalid"
	IssueStructure       IssueType = "structure"
	IssueRequired        IssueType = "required"
	IssueValue           IssueType = "value"
	IssueInvariant       IssueType = "invariant"
	IssueSecurity        IssueType = "security"
	IssueLogin           IssueType = "login"
	IssueForbidden       IssueType = "forbidden"
	IssueProcessing      IssueType = "processing"
	IssueNotSupported    IssueType = "not-supported"
	IssueDuplicate       IssueType = "duplicate"
	IssueMultipleMatches IssueType = "multiple-matches"
	IssueNotFound        IssueType = "not-found"
	IssueDeleted         IssueType = "deleted"
	IssueTooLong         IssueType = "too-long"
	IssueCodeInvalid     IssueType = "code-invalid"
	IssueConflict        IssueType = "conflict"
	IssueTooCostly       IssueType = "too-costly"
	IssueBusinessRule    IssueType = "business-rule"
	IssueException       IssueType = "exception"
	IssueTimeout         IssueType = "timeout"
	IssueThrottled       IssueType = "throttled"
	IssueInformational   IssueType = "informational"
)

// Severity is an OperationOutcome issue severity.
type Severity string

// Issue severities.
const (
	SeverityFatal       Severity = "fatal"
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// Issue is one OperationOutcome.issue.
//
// Diagnostics is shown to the client and may quote submitted values; it must
// never be logged. Expression holds FHIR paths such as "Patient.name[0].given".
type Issue struct {
	Severity    Severity
	Code        IssueType
	Diagnostics string
	Expression  []string
}

// Error is the error type of fhirhub: an issue type that decides the HTTP
// status and OperationOutcome, a client-safe message, the FHIR paths
// concerned, further issues (validation reports all it finds) and a cause.
//
// Error() is meant for logs: it prints the code, the paths and the cause but
// not Message, which may quote patient data from the request.
type Error struct {
	Code       IssueType
	Message    string
	Expression []string
	// More holds additional issues reported together with this one.
	More  []Issue
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("fhir: ")
	b.WriteString(string(e.Code))
	if len(e.Expression) > 0 {
		b.WriteString(" at ")
		b.WriteString(strings.Join(e.Expression, ","))
	}
	if len(e.More) > 0 {
		fmt.Fprintf(&b, " (+%d issues)", len(e.More))
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// Issues returns every issue of e, the first one built from e itself.
func (e *Error) Issues() []Issue {
	out := make([]Issue, 0, 1+len(e.More))
	out = append(out, Issue{Severity: SeverityError, Code: e.Code, Diagnostics: e.Message, Expression: e.Expression})
	return append(out, e.More...)
}

// Errorf returns an *Error with the given code and a client-visible message.
func Errorf(code IssueType, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns e with path appended to its expressions, for chaining:
// fhir.Errorf(fhir.IssueValue, "bad date").At("Patient.birthDate").
func (e *Error) At(path ...string) *Error {
	e.Expression = append(e.Expression, path...)
	return e
}

// Wrap returns e with cause set.
func (e *Error) Wrap(cause error) *Error {
	e.Cause = cause
	return e
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// ErrorCode returns the issue type of the *Error in err's chain, or
// IssueException when there is none.
func ErrorCode(err error) IssueType {
	if fe := AsError(err); fe != nil {
		return fe.Code
	}
	return IssueException
}
