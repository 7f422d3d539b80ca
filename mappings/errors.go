package mappings

import (
	"errors"
	"fmt"

	"github.com/fhirhub/fhirhub/fhir"
)

// ErrUnsupported is in the chain of the error Map returns for a message
// type or trigger event this package does not map (errors.Is). Callers
// treat it as permanent: replaying the message will not help until a
// mapping exists.
var ErrUnsupported = errors.New("mappings: unsupported message type")

// fieldError returns the error for a message that cannot be mapped because
// of the field at loc ("PID-3", "OBX[4]-5"): a *fhir.Error with code
// invalid, the location as its expression and a message that names the
// position and the rule broken, never a value of the message, so that it
// can be logged. cause (an *hl7v2.Error, or nil) carries no values either.
func fieldError(loc string, cause error, format string, args ...any) error {
	msg := loc + ": " + fmt.Sprintf(format, args...)
	var c error = errors.New("mappings: " + msg)
	if cause != nil {
		c = fmt.Errorf("mappings: %s: %w", msg, cause)
	}
	return &fhir.Error{Code: fhir.IssueInvalid, Message: msg, Expression: []string{loc}, Cause: c}
}

// unsupported returns the error for a message type that is not mapped.
func unsupported(msgType string) error {
	return &fhir.Error{
		Code:       fhir.IssueNotSupported,
		Message:    "MSH-9: message type " + msgType + " is not mapped to FHIR",
		Expression: []string{"MSH-9"},
		Cause:      fmt.Errorf("%w: %s", ErrUnsupported, msgType),
	}
}
