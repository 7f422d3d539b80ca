package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The medplum package holds the R4 4.0.1 definitions with medplum's own
// changes: elements and target types of its server, a resource and
// elements taken from R4B and R5. The generator undoes them, so that the
// tables say what FHIR R4 says. Each change was found by comparing the
// tables with the official R4 JSON schema and with google/fhir's R4 protos
// (TestTablesMatchGoogleFHIR keeps checking the latter).

// notR4Types are resource types the package adds.
var notR4Types = map[string]string{
	"SubscriptionStatus": "R4B resource",
}

// notR4Elements are elements the package adds, with their children.
var notR4Elements = map[string]string{
	"Binary.url":                          "medplum",
	"DeviceDefinition.bodySite":           "R5",
	"DeviceDefinition.classification":     "R5",
	"HealthcareService.offeredIn":         "R5",
	"Meta.account":                        "medplum",
	"Meta.accounts":                       "medplum",
	"Meta.author":                         "medplum",
	"Meta.compartment":                    "medplum",
	"Meta.deleted":                        "medplum",
	"Meta.onBehalfOf":                     "medplum",
	"Meta.project":                        "medplum",
	"ObservationDefinition.publisher":     "R5",
	"ResearchStudy.associatedParty":       "R5",
	"ResearchStudy.classifier":            "R5",
	"ResearchStudy.comparisonGroup":       "R5",
	"ResearchStudy.descriptionSummary":    "R5",
	"ResearchStudy.label":                 "R5",
	"ResearchStudy.name":                  "R5",
	"ResearchStudy.objective.description": "R5",
	"ResearchStudy.outcomeMeasure":        "R5",
	"ResearchStudy.progressStatus":        "R5",
	"ResearchStudy.recruitment":           "R5",
	"ResearchStudy.region":                "R5",
	"ResearchStudy.result":                "R5",
	"ResearchStudy.studyDesign":           "R5",
	"ResearchStudy.whyStopped":            "R5",
	// Replaced below by the R4 form.
	"EvidenceVariable.characteristic": "R5",
}

// notR4Targets are target resource types the package adds to references.
var notR4Targets = map[string][]string{
	"AuditEvent.source.observer": {"Subscription"},
	"MeasureReport.subject":      {"Organization", "CareTeam", "HealthcareService"},
	"ResearchStudy.site":         {"ResearchStudy", "Organization"},
}

// r4Types are element types the package changes, by path.
var r4Types = map[string]string{
	"Bundle.entry.response.outcome": "Resource", // OperationOutcome in the package
}

// r4Bindings are required bindings the package changes, by path.
var r4Bindings = map[string]string{
	"DetectedIssue.status": "http://hl7.org/fhir/ValueSet/observation-status|4.0.1", // detectedissue-status (R5)
}

// r4EvidenceVariableCharacteristic is EvidenceVariable.characteristic of
// R4 4.0.1 (evidencevariable.html), inserted where the package has its R5
// form.
const r4EvidenceVariableCharacteristic = `[
 {"path":"EvidenceVariable.characteristic","min":1,"max":"*","type":[{"code":"BackboneElement"}]},
 {"path":"EvidenceVariable.characteristic.id","min":0,"max":"1","type":[{"code":"http://hl7.org/fhirpath/System.String","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type","valueUrl":"string"}]}]},
 {"path":"EvidenceVariable.characteristic.extension","min":0,"max":"*","type":[{"code":"Extension"}]},
 {"path":"EvidenceVariable.characteristic.modifierExtension","min":0,"max":"*","type":[{"code":"Extension"}]},
 {"path":"EvidenceVariable.characteristic.description","min":0,"max":"1","type":[{"code":"string"}]},
 {"path":"EvidenceVariable.characteristic.definition[x]","min":1,"max":"1","type":[
   {"code":"Reference","targetProfile":["http://hl7.org/fhir/StructureDefinition/Group"]},
   {"code":"canonical","targetProfile":["http://hl7.org/fhir/StructureDefinition/ActivityDefinition"]},
   {"code":"CodeableConcept"},{"code":"Expression"},{"code":"DataRequirement"},{"code":"TriggerDefinition"}]},
 {"path":"EvidenceVariable.characteristic.usageContext","min":0,"max":"*","type":[{"code":"UsageContext"}]},
 {"path":"EvidenceVariable.characteristic.exclude","min":0,"max":"1","type":[{"code":"boolean"}]},
 {"path":"EvidenceVariable.characteristic.participantEffective[x]","min":0,"max":"1","type":[{"code":"dateTime"},{"code":"Period"},{"code":"Duration"},{"code":"Timing"}]},
 {"path":"EvidenceVariable.characteristic.timeFromStart","min":0,"max":"1","type":[{"code":"Duration"}]},
 {"path":"EvidenceVariable.characteristic.groupMeasure","min":0,"max":"1","type":[{"code":"code"}],
  "binding":{"strength":"required","valueSet":"http://hl7.org/fhir/ValueSet/group-measure|4.0.1"}}
]`

// applied records the corrections that matched the input.
var applied = map[string]bool{}

// checkApplied fails when a correction no longer matches the input, as
// when another version of the package drops what it undoes.
func checkApplied() error {
	var stale []string
	for _, m := range []map[string]string{notR4Types, notR4Elements, r4Types, r4Bindings} {
		for k := range m {
			if !applied[k] {
				stale = append(stale, k)
			}
		}
	}
	for k := range notR4Targets {
		if !applied[k] {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		return fmt.Errorf("corrections of r4fixes.go that match nothing in the definitions: %s", strings.Join(stale, ", "))
	}
	return nil
}

// toR4 applies the corrections above to the snapshot of sd.
func toR4(sd *structureDefinition) error {
	var out []elementDefinition
	for _, e := range sd.Snapshot.Element {
		if key, ok := dropped(e.Path); ok {
			applied[key] = true
			if e.Path == "EvidenceVariable.characteristic" {
				var r4 []elementDefinition
				if err := json.Unmarshal([]byte(r4EvidenceVariableCharacteristic), &r4); err != nil {
					return fmt.Errorf("r4 EvidenceVariable.characteristic: %w", err)
				}
				out = append(out, r4...)
			}
			continue
		}
		if drop, ok := notR4Targets[e.Path]; ok {
			for i := range e.Type {
				e.Type[i].TargetProfile = without(e.Type[i].TargetProfile, drop)
			}
			applied[e.Path] = true
		}
		if code, ok := r4Types[e.Path]; ok {
			e.Type = []elementType{{Code: code}}
			applied[e.Path] = true
		}
		if vs, ok := r4Bindings[e.Path]; ok && e.Binding != nil {
			e.Binding.ValueSet = vs
			applied[e.Path] = true
		}
		out = append(out, e)
	}
	sd.Snapshot.Element = out
	return nil
}

// dropped returns the entry of notR4Elements that removes path.
func dropped(path string) (string, bool) {
	for p := path; ; {
		if _, ok := notR4Elements[p]; ok {
			return p, true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

func without(profiles, types []string) []string {
	var out []string
	for _, p := range profiles {
		keep := true
		for _, t := range types {
			if p == sdPrefix+t {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}
