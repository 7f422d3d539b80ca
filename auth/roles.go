package auth

import "slices"

// Groups of resource types that roles are granted together. A type in no
// group is reachable only by roles granted every type (*).
var (
	// Registration: who the patient is and who pays.
	typesRegistration = []string{"Patient", "RelatedPerson", "Person", "Coverage", "Consent"}
	// Care: the clinical record.
	typesCare = []string{"Encounter", "EpisodeOfCare", "Condition", "Observation", "DiagnosticReport",
		"Procedure", "AllergyIntolerance", "CarePlan", "CareTeam", "ClinicalImpression", "FamilyMemberHistory",
		"Immunization", "RiskAssessment", "Flag", "DetectedIssue", "Composition", "DocumentReference", "Binary",
		"Goal", "ServiceRequest", "Specimen", "ImagingStudy", "Media", "Provenance", "Communication",
		"CommunicationRequest", "Task", "QuestionnaireResponse", "NutritionOrder", "DeviceRequest"}
	// Medication: prescribing, dispensing and giving.
	typesMedication = []string{"Medication", "MedicationRequest", "MedicationDispense",
		"MedicationAdministration", "MedicationStatement"}
	// Laboratory orders and results.
	typesLab = []string{"ServiceRequest", "Specimen", "Observation", "DiagnosticReport", "Task", "Provenance"}
	// Imaging orders, studies and reports.
	typesImaging = []string{"ServiceRequest", "ImagingStudy", "Media", "Observation", "DiagnosticReport", "Task", "Provenance"}
	// Scheduling.
	typesScheduling = []string{"Appointment", "AppointmentResponse", "Schedule", "Slot"}
	// Directory: people, places and organisations of care.
	typesDirectory = []string{"Practitioner", "PractitionerRole", "Organization", "Location",
		"HealthcareService", "Endpoint"}
	// Supply: stock, procurement and devices.
	typesSupply = []string{"Medication", "SupplyRequest", "SupplyDelivery", "Device", "DeviceDefinition", "Substance"}
	// Finance: charges, invoices, payers and claims.
	typesFinance = []string{"ChargeItem", "ChargeItemDefinition", "Account", "Invoice", "PaymentNotice",
		"PaymentReconciliation", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse",
		"Claim", "ClaimResponse", "ExplanationOfBenefit"}
	// Patient experience: journeys, surveys, complaints, KPIs.
	typesPX = []string{"PlanDefinition", "CarePlan", "Task", "Questionnaire", "QuestionnaireResponse",
		"Communication", "CommunicationRequest", "MeasureReport", "Measure", "Observation"}
	// Care support around the patient (social work).
	typesSocial = []string{"RelatedPerson", "Consent", "CarePlan", "CareTeam", "Goal", "Communication",
		"CommunicationRequest", "Task", "QuestionnaireResponse", "DocumentReference"}

	all = []string{"*"}
)

// Grant gives Perm on Types ("*": every type).
type Grant struct {
	Types []string
	Perm  Perm
}

// Role is a named set of permissions (the roles of the systems fhirhub
// serves). Tokens name one role in their "role" claim; what a request may
// do is what both its scopes and its role allow.
type Role struct {
	Name        string
	Description string
	Grants      []Grant
	// Operator roles may use the /admin API (HL7 v2 message store,
	// replay); admin alone may run $reindex.
	Operator bool
}

var (
	rs    = PermRead | PermSearch
	crus  = PermCreate | PermRead | PermUpdate | PermSearch
	cruds = PermAll
)

// Roles is the table of roles; README.md's Security section shows it.
var Roles = []Role{
	{Name: "admin", Description: "everything, the /admin API and $reindex",
		Grants: []Grant{{all, cruds}}, Operator: true},
	{Name: "hospital-admin", Description: "reads everything; manages registration, scheduling and the directory",
		Grants: []Grant{{all, rs}, {typesRegistration, cruds}, {typesScheduling, cruds}, {typesDirectory, cruds}}},
	{Name: "department-manager", Description: "reads everything; manages scheduling and tasks",
		Grants: []Grant{{all, rs}, {typesScheduling, cruds}, {[]string{"Task"}, crus}}},
	{Name: "doctor", Description: "the clinical record and prescribing; reads registration, scheduling, directory",
		Grants: []Grant{{typesRegistration, rs}, {typesCare, cruds}, {typesMedication, cruds}, {typesScheduling, rs}, {typesDirectory, rs}}},
	{Name: "nurse", Description: "the clinical record without deleting; gives medication; reads prescriptions",
		Grants: []Grant{{typesRegistration, rs}, {typesCare, crus}, {typesMedication, rs},
			{[]string{"MedicationAdministration"}, crus}, {typesScheduling, rs}, {typesDirectory, rs}}},
	{Name: "clerk", Description: "receptionist: registration, appointments and encounters",
		Grants: []Grant{{typesRegistration, crus}, {typesScheduling, cruds}, {[]string{"Encounter"}, crus}, {typesDirectory, rs}}},
	{Name: "pharmacist", Description: "dispensing and stock; reads prescriptions, allergies, conditions and results",
		Grants: []Grant{{typesRegistration, rs}, {typesMedication, rs}, {[]string{"MedicationDispense"}, cruds},
			{typesSupply, crus}, {[]string{"AllergyIntolerance", "Condition", "Observation", "Encounter"}, rs}, {typesDirectory, rs}}},
	{Name: "lab-technician", Description: "laboratory orders, specimens and results",
		Grants: []Grant{{typesRegistration, rs}, {typesLab, crus}, {typesDirectory, rs}}},
	{Name: "radiology-technician", Description: "imaging orders, studies and reports",
		Grants: []Grant{{typesRegistration, rs}, {typesImaging, crus}, {typesDirectory, rs}}},
	{Name: "social-worker", Description: "care support: related persons, consents, care plans, communications",
		Grants: []Grant{{typesRegistration, rs}, {typesCare, rs}, {typesSocial, crus}, {typesDirectory, rs}}},
	{Name: "inventory-manager", Description: "stock, procurement and devices",
		Grants: []Grant{{typesSupply, cruds}, {typesDirectory, rs}}},
	{Name: "finance", Description: "billing, payers and claims; reads registration and encounters",
		Grants: []Grant{{typesFinance, cruds}, {typesRegistration, rs}, {[]string{"Encounter"}, rs}, {typesDirectory, rs}}},
	{Name: "px-coordinator", Description: "patient experience: journeys, surveys, complaints, KPIs",
		Grants: []Grant{{typesPX, crus}, {typesRegistration, rs}, {[]string{"Encounter"}, rs}, {typesScheduling, rs}, {typesDirectory, rs}}},
	{Name: "viewer", Description: "reads everything, writes nothing",
		Grants: []Grant{{all, rs}}},
	{Name: "integration", Description: "interfaces and pipelines (MLLP, Kafka): writes every type but deletes none; the /admin API",
		Grants: []Grant{{all, crus}}, Operator: true},
}

// RoleNamed returns the role called name, or nil.
func RoleNamed(name string) *Role {
	for i := range Roles {
		if Roles[i].Name == name {
			return &Roles[i]
		}
	}
	return nil
}

// Perm returns what the role allows on resource type typ.
func (r *Role) Perm(typ string) Perm {
	var p Perm
	for _, g := range r.Grants {
		if slices.Contains(g.Types, "*") || slices.Contains(g.Types, typ) {
			p |= g.Perm
		}
	}
	return p
}
