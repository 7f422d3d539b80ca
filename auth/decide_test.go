package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
)

func TestParseScope(t *testing.T) {
	cases := map[string]string{ // scope -> v2 form, "" when not a resource scope
		"user/*.read":                    "user/*.rs",
		"user/*.write":                   "user/*.cud",
		"system/*.*":                     "system/*.cruds",
		"patient/Observation.rs":         "patient/Observation.rs",
		"user/Patient.cruds":             "user/Patient.cruds",
		"user/Patient.cu":                "user/Patient.cu",
		"user/Patient.sr":                "", // out of order
		"user/Patient.rr":                "",
		"user/Patient.":                  "",
		"user/patient.rs":                "", // not a type name
		"patient/Observation.rs?code=x":  "", // granular scopes grant nothing yet
		"admin/*.rs":                     "",
		"openid":                         "",
		"launch/patient":                 "",
		"system/Observation.crud":        "system/Observation.crud",
		"user/DiagnosticReport.s":        "user/DiagnosticReport.s",
		"patient/*.read":                 "patient/*.rs",
		"user/Observation.cruds extra":   "",
		"user/ServiceRequest.d":          "user/ServiceRequest.d",
		"system/Binary.r":                "system/Binary.r",
		"user/*.rs?_security=restricted": "",
	}
	for in, want := range cases {
		s, ok := auth.ParseScope(in)
		if want == "" {
			assert.False(t, ok, in)
			continue
		}
		if assert.True(t, ok, in) {
			assert.Equal(t, want, s.String(), in)
		}
	}
}

func principal(role, patient string, scopes ...string) *auth.Principal {
	p := &auth.Principal{Subject: "someone", Role: role, Patient: patient}
	for _, s := range scopes {
		sc, ok := auth.ParseScope(s)
		if !ok {
			panic(s)
		}
		p.Scopes = append(p.Scopes, sc)
	}
	return p
}

// TestAllowIsTheIntersectionOfScopesAndRole covers the decisions users
// rely on: what each role may do with broad scopes, what narrow scopes
// take away, and patient/ scopes confined to the patient.
func TestAllowIsTheIntersectionOfScopesAndRole(t *testing.T) {
	all := []string{"user/*.cruds"}
	cases := []struct {
		name    string
		p       *auth.Principal
		typ     string
		perm    auth.Perm
		allowed bool
		patient string
	}{
		{"doctor reads Observations", principal("doctor", "", all...), "Observation", auth.PermRead, true, ""},
		{"doctor prescribes", principal("doctor", "", all...), "MedicationRequest", auth.PermCreate, true, ""},
		{"doctor may not write Patients", principal("doctor", "", all...), "Patient", auth.PermUpdate, false, ""},
		{"doctor may not read Invoices", principal("doctor", "", all...), "Invoice", auth.PermRead, false, ""},
		{"doctor with read scopes may not write", principal("doctor", "", "user/*.read"), "Observation", auth.PermCreate, false, ""},
		{"doctor with Observation scope may not read Condition", principal("doctor", "", "user/Observation.rs"), "Condition", auth.PermRead, false, ""},
		{"nurse may not delete Observations", principal("nurse", "", all...), "Observation", auth.PermDelete, false, ""},
		{"nurse records administration", principal("nurse", "", all...), "MedicationAdministration", auth.PermCreate, true, ""},
		{"nurse may not prescribe", principal("nurse", "", all...), "MedicationRequest", auth.PermCreate, false, ""},
		{"clerk registers patients", principal("clerk", "", all...), "Patient", auth.PermCreate, true, ""},
		{"clerk books appointments", principal("clerk", "", all...), "Appointment", auth.PermDelete, true, ""},
		{"clerk may not read Observations", principal("clerk", "", all...), "Observation", auth.PermRead, false, ""},
		{"pharmacist dispenses", principal("pharmacist", "", all...), "MedicationDispense", auth.PermCreate, true, ""},
		{"pharmacist may not prescribe", principal("pharmacist", "", all...), "MedicationRequest", auth.PermUpdate, false, ""},
		{"lab technician writes results", principal("lab-technician", "", all...), "Observation", auth.PermCreate, true, ""},
		{"lab technician may not read Conditions", principal("lab-technician", "", all...), "Condition", auth.PermRead, false, ""},
		{"radiology technician writes ImagingStudy", principal("radiology-technician", "", all...), "ImagingStudy", auth.PermUpdate, true, ""},
		{"social worker writes Consent", principal("social-worker", "", all...), "Consent", auth.PermCreate, true, ""},
		{"social worker may not write Observations", principal("social-worker", "", all...), "Observation", auth.PermCreate, false, ""},
		{"inventory manager writes SupplyDelivery", principal("inventory-manager", "", all...), "SupplyDelivery", auth.PermCreate, true, ""},
		{"inventory manager may not read Patients", principal("inventory-manager", "", all...), "Patient", auth.PermRead, false, ""},
		{"finance writes Invoices", principal("finance", "", all...), "Invoice", auth.PermCreate, true, ""},
		{"finance may not read Observations", principal("finance", "", all...), "Observation", auth.PermRead, false, ""},
		{"px coordinator writes Questionnaires", principal("px-coordinator", "", all...), "Questionnaire", auth.PermCreate, true, ""},
		{"viewer reads anything", principal("viewer", "", all...), "Condition", auth.PermSearch, true, ""},
		{"viewer may not search AuditEvents", principal("viewer", "", all...), "AuditEvent", auth.PermSearch, false, ""},
		{"hospital admin may not read AuditEvents", principal("hospital-admin", "", all...), "AuditEvent", auth.PermRead, false, ""},
		{"admin searches AuditEvents", principal("admin", "", all...), "AuditEvent", auth.PermSearch | auth.PermRead, true, ""},
		{"admin may not delete AuditEvents", principal("admin", "", all...), "AuditEvent", auth.PermDelete, false, ""},
		{"admin may not update AuditEvents", principal("admin", "", all...), "AuditEvent", auth.PermUpdate, false, ""},
		{"viewer writes nothing", principal("viewer", "", all...), "Observation", auth.PermCreate, false, ""},
		{"hospital admin manages Practitioners", principal("hospital-admin", "", all...), "Practitioner", auth.PermDelete, true, ""},
		{"department manager may not write Observations", principal("department-manager", "", all...), "Observation", auth.PermUpdate, false, ""},
		{"integration writes anything", principal("integration", "", all...), "Observation", auth.PermUpdate, true, ""},
		{"integration deletes nothing", principal("integration", "", all...), "Observation", auth.PermDelete, false, ""},
		{"admin searches every type", principal("admin", "", all...), auth.AllTypes, auth.PermSearch, true, ""},
		{"doctor may not search every type", principal("doctor", "", all...), auth.AllTypes, auth.PermSearch, false, ""},
		{"unknown role gets nothing", principal("surgeon", "", all...), "Observation", auth.PermRead, false, ""},
		{"no scopes, nothing", principal("admin", ""), "Observation", auth.PermRead, false, ""},
		{"patient scope is confined", principal("doctor", "p1", "patient/*.rs"), "Observation", auth.PermSearch, true, "p1"},
		{"patient scope without a patient grants nothing", principal("doctor", "", "patient/*.rs"), "Observation", auth.PermRead, false, ""},
		{"a user scope lifts the confinement", principal("doctor", "p1", "patient/*.rs", "user/Observation.rs"), "Observation", auth.PermRead, true, ""},
		{"system scope", principal("integration", "", "system/Observation.cu"), "Observation", auth.PermCreate, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			access, err := c.p.Allow(c.typ, c.perm)
			if !c.allowed {
				assert.Error(t, err)
				assert.Equal(t, fhir.IssueForbidden, fhir.ErrorCode(err))
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, c.patient, access.Patient)
			}
		})
	}
}

func TestOperatorAndAdmin(t *testing.T) {
	for _, r := range auth.Roles {
		p := principal(r.Name, "")
		assert.Equal(t, r.Name == "admin" || r.Name == "integration", p.Operator() == nil, r.Name)
		assert.Equal(t, r.Name == "admin", p.Admin() == nil, r.Name)
	}
}

// ExampleParseScope shows a SMART v1 scope read in v2 terms.
func ExampleParseScope() {
	s, _ := auth.ParseScope("patient/Observation.read")
	fmt.Println(s, s.Perm.Has(auth.PermSearch), strings.Contains(s.Perm.String(), "c"))
	// Output: patient/Observation.rs true false
}
