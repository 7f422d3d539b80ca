package mappings

// This file holds the vocabulary maps of the v2-to-FHIR IG that this
// package uses: HL7 v2 table values to FHIR codes. A value a map does not
// hold is kept as a coding of its v2 table where the FHIR element allows
// that (extensible and preferred bindings), and dropped or defaulted where
// the binding is required (statuses).

// gender maps table 0001 (administrative sex) to administrative-gender.
var gender = map[string]string{
	"M": "male", "F": "female", "O": "other", "A": "other", "U": "unknown", "N": "unknown",
}

// maritalStatus maps table 0002 to v3-MaritalStatus.
var maritalStatus = map[string][2]string{
	"A": {"L", "Legally Separated"},
	"D": {"D", "Divorced"},
	"M": {"M", "Married"},
	"S": {"S", "Never Married"},
	"W": {"W", "Widowed"},
	"P": {"T", "Domestic partner"},
	"E": {"L", "Legally Separated"},
	"N": {"A", "Annulled"},
	"I": {"I", "Interlocutory"},
	"B": {"U", "unmarried"},
	"U": {"UNK", "unknown"},
}

// encounterClass maps table 0004 (patient class) to v3-ActCode, as the
// IG's ConceptMap table-hl70004-to-v3-actcode does; the codes it leaves
// unmapped (R, B, C, N, U) stay in v2-0004.
var encounterClass = map[string][2]string{
	"E": {"EMER", "emergency"},
	"I": {"IMP", "inpatient encounter"},
	"O": {"AMB", "ambulatory"},
	"P": {"PRENC", "pre-admission"},
}

// observationStatus maps table 0085 (OBX-11) to observation-status.
var observationStatus = map[string]string{
	"C": "corrected", "D": "entered-in-error", "F": "final", "I": "registered",
	"N": "cancelled", "O": "registered", "P": "preliminary", "R": "preliminary",
	"S": "preliminary", "U": "final", "W": "entered-in-error", "X": "cancelled",
	"A": "amended",
}

// reportStatus maps table 0123 (OBR-25) to diagnostic-report-status, as
// the IG's ConceptMap table-hl70123-queries-to-diagnostic-report-status.
var reportStatus = map[string]string{
	"O": "registered", "I": "registered", "S": "registered", "A": "partial",
	"P": "preliminary", "C": "corrected", "R": "partial", "F": "final",
	"X": "cancelled", "M": "corrected", "Y": "unknown", "Z": "unknown",
}

// orderStatus maps table 0038 (ORC-5) to request-status.
var orderStatus = map[string]string{
	"A": "active", "CA": "revoked", "CM": "completed", "DC": "revoked",
	"ER": "entered-in-error", "HD": "on-hold", "IP": "active", "RP": "revoked",
	"SC": "active",
}

// orderControlStatus maps table 0119 (ORC-1) to request-status for the
// order controls that decide it whatever ORC-5 says.
var orderControlStatus = map[string]string{
	"CA": "revoked", "OC": "revoked", "CR": "revoked", "DC": "revoked",
	"OD": "revoked", "DR": "revoked", "HD": "on-hold", "OH": "on-hold",
}

// orderPriority maps table 0485 (TQ1-9, ORC-7.6, OBR-27.6) to
// request-priority.
var orderPriority = map[string]string{
	"S": "stat", "A": "asap", "R": "routine", "P": "urgent", "C": "urgent", "T": "urgent",
}

// interpretationV3 holds the table 0078 codes that are codes of
// v3-ObservationInterpretation with the same meaning (the IG's map is the
// identity for them).
var interpretationV3 = map[string]string{
	"<": "Off scale low", ">": "Off scale high", "A": "Abnormal", "AA": "Critical abnormal",
	"B": "Better", "D": "Significant change down", "DET": "Detected", "E": "Equivocal",
	"EX": "outside threshold", "H": "High", "HH": "Critical high", "HU": "Significantly high",
	"HX": "above high threshold", "I": "Intermediate", "IE": "Insufficient evidence",
	"IND": "Indeterminate", "L": "Low", "LL": "Critical low", "LU": "Significantly low",
	"LX": "below low threshold", "MS": "moderately susceptible", "N": "Normal",
	"ND": "Not detected", "NEG": "Negative", "NR": "Non-reactive", "NS": "Non-susceptible",
	"POS": "Positive", "R": "Resistant", "RR": "Reactive", "S": "Susceptible",
	"SDD": "Susceptible-dose dependent", "SYN-R": "Synergy - resistant",
	"SYN-S": "Synergy - susceptible", "U": "Significant change up", "VS": "very susceptible",
	"W": "Worse", "WR": "Weakly reactive",
}

// criticalInterpretation holds the table 0078 codes that mark a critical
// result (panic value) for the alert pipeline.
var criticalInterpretation = map[string]bool{"HH": true, "LL": true, "AA": true}

// subscriberRelationship maps table 0063 (IN1-17) to
// subscriber-relationship (Coverage.relationship).
var subscriberRelationship = map[string]string{
	"SEL": "self", "SPO": "spouse", "DOM": "common", "CHD": "child", "PAR": "parent",
	"FTH": "parent", "MTH": "parent", "EME": "other", "OTH": "other",
}

// allergyCategory maps table 0127 (AL1-2) to allergy-intolerance-category
// and allergy-intolerance-type.
var allergyCategory = map[string][2]string{
	"DA": {"medication", "allergy"},
	"FA": {"food", "allergy"},
	"EA": {"environment", "allergy"},
	"LA": {"environment", "allergy"},
	"AA": {"environment", "allergy"},
	"PA": {"environment", "allergy"},
	"MA": {"", "allergy"},
	"MC": {"", "intolerance"},
	"DI": {"medication", "intolerance"},
	"FI": {"food", "intolerance"},
}

// allergySeverity maps table 0128 (AL1-4) to allergy-intolerance-criticality
// and reaction-event-severity.
var allergySeverity = map[string][2]string{
	"SV": {"high", "severe"},
	"MO": {"low", "moderate"},
	"MI": {"low", "mild"},
	"U":  {"unable-to-assess", ""},
}

// diagnosisVerification maps table 0052 (DG1-6, diagnosis type) to
// condition-ver-status.
var diagnosisVerification = map[string]string{
	"A": "provisional", "W": "provisional", "F": "confirmed",
}

// diagnosisRole maps table 0052 (DG1-6) to diagnosis-role (Encounter.diagnosis.use).
var diagnosisRole = map[string][2]string{
	"A": {"AD", "Admission diagnosis"},
	"F": {"DD", "Discharge diagnosis"},
}

// radiologySections holds the table 0074 diagnostic service sections of
// imaging (OBR-24).
var radiologySections = map[string]bool{
	"RAD": true, "RX": true, "CT": true, "NMR": true, "NMS": true, "RUS": true,
	"VUS": true, "OUS": true, "CUS": true, "XRC": true, "MR": true, "US": true,
	"IMG": true, "MG": true,
}

// participationType maps PV1 practitioner fields to v3-ParticipationType.
var participationType = map[int][2]string{
	7:  {"ATND", "attender"},
	8:  {"REF", "referrer"},
	9:  {"CON", "consultant"},
	17: {"ADM", "admitter"},
}
