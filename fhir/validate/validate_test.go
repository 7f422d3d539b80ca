package validate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/validate"
)

// obs is a minimal valid Observation with extra members spliced in.
func obs(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"resourceType":"Observation","status":"final","code":{"text":"BP"}` + extra + `}`
}

func TestResourceRejects(t *testing.T) {
	cases := []struct {
		name string
		json string
		code fhir.IssueType
		path string
	}{
		// resourceType
		{"no resourceType", `{"id":"a"}`, fhir.IssueStructure, "resourceType"},
		{"unknown resourceType", `{"resourceType":"Patent"}`, fhir.IssueStructure, "resourceType"},
		{"abstract resourceType", `{"resourceType":"DomainResource"}`, fhir.IssueStructure, "resourceType"},
		{"resourceType not a string", `{"resourceType":1}`, fhir.IssueStructure, "resourceType"},
		{"R4B resourceType", `{"resourceType":"SubscriptionStatus"}`, fhir.IssueStructure, "resourceType"},
		{"contained without resourceType", `{"resourceType":"Patient","contained":[{"id":"p1"}]}`, fhir.IssueStructure, "Patient.contained[0].resourceType"},
		{"contained not an object", `{"resourceType":"Patient","contained":["x"]}`, fhir.IssueStructure, "Patient.contained[0]"},

		// unknown elements
		{"unknown element", `{"resourceType":"Patient","foo":1}`, fhir.IssueStructure, "Patient.foo"},
		{"unknown nested element", `{"resourceType":"Patient","name":[{"family":"Ng","nickname":"x"}]}`, fhir.IssueStructure, "Patient.name[0].nickname"},
		{"wrong case", `{"resourceType":"Patient","Gender":"male"}`, fhir.IssueStructure, "Patient.Gender"},
		{"unknown primitive extension", `{"resourceType":"Patient","_foo":{"id":"x"}}`, fhir.IssueStructure, "Patient._foo"},
		{"extension of a complex element", `{"resourceType":"Patient","_name":[{"id":"x"}]}`, fhir.IssueStructure, "Patient._name"},
		{"unknown choice type", obs(`"valueMoney":{"value":1}`), fhir.IssueStructure, "Observation.valueMoney"},
		{"medplum Meta element", `{"resourceType":"Patient","meta":{"project":"x"}}`, fhir.IssueStructure, "Patient.meta.project"},
		{"R5 element", `{"resourceType":"HealthcareService","offeredIn":[{"reference":"HealthcareService/1"}]}`, fhir.IssueStructure, "HealthcareService.offeredIn"},
		{"resourceType in a data type", `{"resourceType":"Patient","name":[{"resourceType":"HumanName"}]}`, fhir.IssueStructure, "Patient.name[0].resourceType"},

		// JSON kinds
		{"string for an object", obs(`"subject":"Patient/1"`), fhir.IssueStructure, "Observation.subject"},
		{"object for a string", `{"resourceType":"Patient","gender":{"code":"male"}}`, fhir.IssueStructure, "Patient.gender"},
		{"number for a string", `{"resourceType":"Patient","birthDate":1970}`, fhir.IssueStructure, "Patient.birthDate"},
		{"string for a number", obs(`"valueInteger":"7"`), fhir.IssueStructure, "Observation.valueInteger"},
		{"string for a boolean", `{"resourceType":"Patient","active":"true"}`, fhir.IssueStructure, "Patient.active"},
		{"number for a decimal's object", obs(`"valueQuantity":7`), fhir.IssueStructure, "Observation.valueQuantity"},
		{"array for a single value", obs(`"subject":[{"reference":"Patient/1"}]`), fhir.IssueStructure, "Observation.subject"},
		{"single value for an array", `{"resourceType":"Patient","name":{"family":"Ng"}}`, fhir.IssueStructure, "Patient.name"},
		{"single value for a primitive array", `{"resourceType":"Patient","name":[{"given":"Ana"}]}`, fhir.IssueStructure, "Patient.name[0].given"},

		// empty and null
		{"empty object", `{"resourceType":"Patient","name":[{}]}`, fhir.IssueStructure, "Patient.name[0]"},
		{"empty nested object", obs(`"subject":{}`), fhir.IssueStructure, "Observation.subject"},
		{"empty array", `{"resourceType":"Patient","name":[]}`, fhir.IssueStructure, "Patient.name"},
		{"null value", `{"resourceType":"Patient","gender":null}`, fhir.IssueStructure, "Patient.gender"},
		{"null array", `{"resourceType":"Patient","name":null}`, fhir.IssueStructure, "Patient.name"},
		{"null in an array of objects", `{"resourceType":"Patient","name":[{"family":"Ng"},null]}`, fhir.IssueStructure, "Patient.name[1]"},
		{"null in a primitive array without _given", `{"resourceType":"Patient","name":[{"given":["Ana",null]}]}`, fhir.IssueStructure, "Patient.name[0].given[1]"},
		{"null in both arrays", `{"resourceType":"Patient","name":[{"given":["Ana",null],"_given":[null,null]}]}`, fhir.IssueStructure, "Patient.name[0].given[1]"},
		{"empty string", `{"resourceType":"Patient","name":[{"family":""}]}`, fhir.IssueValue, "Patient.name[0].family"},
		{"empty primitive extension", `{"resourceType":"Patient","gender":"male","_gender":{}}`, fhir.IssueStructure, "Patient.gender"},

		// primitive extensions
		{"_given shorter than given", `{"resourceType":"Patient","name":[{"given":["Ana","Lu"],"_given":[null]}]}`, fhir.IssueStructure, "Patient.name[0].given"},
		{"_gender as an array", `{"resourceType":"Patient","gender":"male","_gender":[{"id":"g"}]}`, fhir.IssueStructure, "Patient.gender"},
		{"_given as an object", `{"resourceType":"Patient","name":[{"given":["Ana"],"_given":{"id":"g"}}]}`, fhir.IssueStructure, "Patient.name[0].given"},
		{"_given entry not an object", `{"resourceType":"Patient","name":[{"given":["Ana"],"_given":["x"]}]}`, fhir.IssueStructure, "Patient.name[0].given[0]"},
		{"null in _given without values", `{"resourceType":"Patient","name":[{"family":"Ng","_given":[null]}]}`, fhir.IssueStructure, "Patient.name[0].given[0]"},
		{"unknown element in _birthDate", `{"resourceType":"Patient","_birthDate":{"url":"x"}}`, fhir.IssueStructure, "Patient.birthDate.url"},
		{"extension without url in _birthDate", `{"resourceType":"Patient","_birthDate":{"extension":[{"valueCode":"unknown"}]}}`, fhir.IssueRequired, "Patient.birthDate.extension[0].url"},

		// choice elements
		{"two choice members", obs(`"valueString":"a","valueBoolean":true`), fhir.IssueStructure, "Observation.value"},
		{"choice member and another's extension", obs(`"valueString":"a","_valueBoolean":{"id":"x"}`), fhir.IssueStructure, "Observation.value"},
		{"two choice members in a backbone", obs(`"component":[{"code":{"text":"x"},"valueString":"a","valueInteger":1}]`), fhir.IssueStructure, "Observation.component[0].value"},
		{"required choice missing", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}}`, fhir.IssueRequired, "MedicationRequest.medication"},

		// required elements
		{"missing status", `{"resourceType":"Observation","code":{"text":"BP"}}`, fhir.IssueRequired, "Observation.status"},
		{"missing code", `{"resourceType":"Observation","status":"final"}`, fhir.IssueRequired, "Observation.code"},
		{"missing required in a backbone", `{"resourceType":"Patient","link":[{"other":{"reference":"Patient/2"}}]}`, fhir.IssueRequired, "Patient.link[0].type"},
		{"missing required in a content reference", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1"}]}]}`, fhir.IssueRequired, "Questionnaire.item[0].item[0].type"},
		{"extension without url", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`, fhir.IssueRequired, "Patient.extension[0].url"},
		{"missing required in a contained resource", `{"resourceType":"Patient","contained":[{"resourceType":"Observation","id":"o","code":{"text":"x"}}]}`, fhir.IssueRequired, "Patient.contained[0].status"},
		{"missing required in a bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final"}}]}`, fhir.IssueRequired, "Bundle.entry[0].resource.code"},
		{"missing required Bundle.type", `{"resourceType":"Bundle"}`, fhir.IssueRequired, "Bundle.type"},

		// primitive formats
		{"date with day 30 of February", `{"resourceType":"Patient","birthDate":"2021-02-30"}`, fhir.IssueValue, "Patient.birthDate"},
		{"date 29 February of a common year", `{"resourceType":"Patient","birthDate":"1900-02-29"}`, fhir.IssueValue, "Patient.birthDate"},
		{"date with a time", `{"resourceType":"Patient","birthDate":"1970-01-01T00:00:00Z"}`, fhir.IssueValue, "Patient.birthDate"},
		{"date of year 0000", `{"resourceType":"Patient","birthDate":"0000"}`, fhir.IssueValue, "Patient.birthDate"},
		{"dateTime without a time zone", obs(`"effectiveDateTime":"2021-01-01T10:00:00"`), fhir.IssueValue, "Observation.effectiveDateTime"},
		{"dateTime without seconds", obs(`"effectiveDateTime":"2021-01-01T10:00Z"`), fhir.IssueValue, "Observation.effectiveDateTime"},
		{"dateTime with hour 24", obs(`"effectiveDateTime":"2021-01-01T24:00:00Z"`), fhir.IssueValue, "Observation.effectiveDateTime"},
		{"dateTime with zone +15:00", obs(`"effectiveDateTime":"2021-01-01T10:00:00+15:00"`), fhir.IssueValue, "Observation.effectiveDateTime"},
		{"instant without a time zone", obs(`"issued":"2021-01-01T10:00:00.123"`), fhir.IssueValue, "Observation.issued"},
		{"instant as a date", obs(`"issued":"2021-01-01"`), fhir.IssueValue, "Observation.issued"},
		{"instant in a period", obs(`"effectivePeriod":{"start":"2021-01-01T10:00"}`), fhir.IssueValue, "Observation.effectivePeriod.start"},
		{"meta.lastUpdated as a date", `{"resourceType":"Patient","meta":{"lastUpdated":"2021-01-01"}}`, fhir.IssueValue, "Patient.meta.lastUpdated"},
		{"time without seconds", obs(`"valueTime":"10:00"`), fhir.IssueValue, "Observation.valueTime"},
		{"integer with a fraction", obs(`"valueInteger":1.5`), fhir.IssueValue, "Observation.valueInteger"},
		{"integer with an exponent", obs(`"valueInteger":1e3`), fhir.IssueValue, "Observation.valueInteger"},
		{"integer above 32 bits", obs(`"valueInteger":2147483648`), fhir.IssueValue, "Observation.valueInteger"},
		{"negative unsignedInt", `{"resourceType":"Patient","photo":[{"size":-1}]}`, fhir.IssueValue, "Patient.photo[0].size"},
		{"positiveInt zero", `{"resourceType":"Patient","telecom":[{"system":"phone","value":"1","rank":0}]}`, fhir.IssueValue, "Patient.telecom[0].rank"},
		{"id with a space", `{"resourceType":"Patient","id":"a b"}`, fhir.IssueValue, "Patient.id"},
		{"id of 65 characters", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, fhir.IssueValue, "Patient.id"},
		{"code with a leading space", `{"resourceType":"Patient","gender":" male"}`, fhir.IssueValue, "Patient.gender"},
		{"code with two spaces", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480  6"}]}}`, fhir.IssueValue, "Observation.code.coding[0].code"},
		{"uri with a space", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc .org","code":"8480-6"}]}}`, fhir.IssueValue, "Observation.code.coding[0].system"},
		{"string with a control character", `{"resourceType":"Patient","name":[{"family":"N\u0007g"}]}`, fhir.IssueValue, "Patient.name[0].family"},
		{"base64 of a wrong length", `{"resourceType":"Patient","photo":[{"data":"abc"}]}`, fhir.IssueValue, "Patient.photo[0].data"},
		{"oid without urn:oid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueOid":"1.2.3"}]}`, fhir.IssueValue, "Patient.extension[0].valueOid"},
		{"uuid in uppercase", `{"resourceType":"Patient","extension":[{"url":"http://x","valueUuid":"urn:uuid:057AA36E-B892-9964-75B9-FFB46B097E34"}]}`, fhir.IssueValue, "Patient.extension[0].valueUuid"},

		// required bindings
		{"status outside its value set", `{"resourceType":"Observation","status":"done","code":{"text":"BP"}}`, fhir.IssueCodeInvalid, "Observation.status"},
		{"gender outside its value set", `{"resourceType":"Patient","gender":"m"}`, fhir.IssueCodeInvalid, "Patient.gender"},
		{"comparator outside its value set", obs(`"valueQuantity":{"value":1,"comparator":"~"}`), fhir.IssueCodeInvalid, "Observation.valueQuantity.comparator"},
		{"code binding in a data type", `{"resourceType":"Patient","telecom":[{"system":"pager2","value":"1"}]}`, fhir.IssueCodeInvalid, "Patient.telecom[0].system"},
		{"CodeableConcept outside its value set", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"cured"}]}}`, fhir.IssueCodeInvalid, "Condition.clinicalStatus"},
		{"CodeableConcept from another system", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"active"}]}}`, fhir.IssueCodeInvalid, "Condition.clinicalStatus"},
		{"CodeableConcept with text only", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"text":"active"}}`, fhir.IssueCodeInvalid, "Condition.clinicalStatus"},
		{"DetectedIssue.status of R4", `{"resourceType":"DetectedIssue","status":"mitigated"}`, fhir.IssueCodeInvalid, "DetectedIssue.status"},

		// reference targets
		{"reference to a type not allowed", obs(`"subject":{"reference":"Medication/1"}`), fhir.IssueInvalid, "Observation.subject.reference"},
		{"versioned reference to a type not allowed", obs(`"subject":{"reference":"Medication/1/_history/2"}`), fhir.IssueInvalid, "Observation.subject.reference"},
		{"reference in an array", obs(`"performer":[{"reference":"Practitioner/1"},{"reference":"Device/2"}]`), fhir.IssueInvalid, "Observation.performer[1].reference"},
		{"reference in a choice", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationReference":{"reference":"Substance/1"}}`, fhir.IssueInvalid, "MedicationRequest.medicationReference.reference"},
		{"reference in a contained resource", `{"resourceType":"Patient","contained":[{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}}]}`, fhir.IssueInvalid, "Patient.contained[0].subject.reference"},
		{"medplum target", `{"resourceType":"MeasureReport","status":"complete","type":"summary","measure":"http://x/m","period":{"start":"2020"},"subject":{"reference":"Organization/1"}}`, fhir.IssueInvalid, "MeasureReport.subject.reference"},

		// inlined resources
		{"bundle entry of an unknown type", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Foo"}}]}`, fhir.IssueStructure, "Bundle.entry[0].resource.resourceType"},
		{"bundle entry with a bad date", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Patient","birthDate":"1970-13"}}]}`, fhir.IssueValue, "Bundle.entry[1].resource.birthDate"},
		{"parameter resource", `{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","gender":"x"}}]}`, fhir.IssueCodeInvalid, "Parameters.parameter[0].resource.gender"},
		{"response outcome", `{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201","outcome":{"resourceType":"OperationOutcome"}}}]}`, fhir.IssueRequired, "Bundle.entry[0].response.outcome.issue"},
	}
	v := validate.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := fhir.ParseObject([]byte(tc.json))
			require.NoError(t, err)
			err = v.Resource(obj)
			fe := fhir.AsError(err)
			require.NotNil(t, fe, "want an error, got %v", err)
			assert.Equal(t, tc.code, fe.Code, "code; message %q, more %v", fe.Message, fe.More)
			assert.Equal(t, []string{tc.path}, fe.Expression, "message %q, more %v", fe.Message, fe.More)
			assert.NotEmpty(t, fe.Message)
		})
	}
}

func TestResourceAccepts(t *testing.T) {
	cases := []struct {
		name string
		json string
	}{
		{"minimal Observation", obs("")},
		{"Observation of testdata", string(mustRead(t, "testdata/observation.json"))},
		{"Patient of testdata", string(mustRead(t, "testdata/patient.json"))},
		{"year-only date", `{"resourceType":"Patient","birthDate":"1970"}`},
		{"year-month date", `{"resourceType":"Patient","birthDate":"1970-02"}`},
		{"leap day", `{"resourceType":"Patient","birthDate":"2000-02-29"}`},
		{"dateTime with fractions and zone", obs(`"effectiveDateTime":"2021-01-01T10:00:00.123456+14:00"`)},
		{"dateTime as a date", obs(`"effectiveDateTime":"2021-01"`)},
		{"leap second", obs(`"issued":"2016-12-31T23:59:60Z"`)},
		{"decimal with exponent", obs(`"valueQuantity":{"value":1.50e-3}`)},
		{"integer extremes", obs(`"component":[{"code":{"text":"a"},"valueInteger":-2147483648},{"code":{"text":"b"},"valueInteger":2147483647}]`)},
		{"required primitive as extension only", `{"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"BP"}}`},
		{"choice member as extension only", obs(`"_valueString":{"extension":[{"url":"http://x","valueCode":"masked"}]}`)},
		{"choice member with its extension", obs(`"valueString":"a","_valueString":{"id":"v"}`)},
		{"primitive array with aligned extensions", `{"resourceType":"Patient","name":[{"given":["Ana",null,"Lu"],"_given":[null,{"extension":[{"url":"http://x","valueString":"b"}]},{"id":"g3"}]}]}`},
		{"extension on a primitive", `{"resourceType":"Patient","birthDate":"1970","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:00:00Z"}]}}`},
		{"nested extensions", `{"resourceType":"Patient","extension":[{"url":"http://x","extension":[{"url":"a","valueString":"1"},{"url":"b","valueMeta":{"versionId":"1"}}]}]}`},
		{"modifierExtension in a backbone", `{"resourceType":"Patient","contact":[{"modifierExtension":[{"url":"http://x","valueBoolean":true}],"name":{"text":"x"}}]}`},
		{"local reference", obs(`"subject":{"reference":"#p1"}`)},
		{"urn:uuid reference", obs(`"subject":{"reference":"urn:uuid:057aa36e-b892-9964-75b9-ffb46b097e34"}`)},
		{"absolute reference to any type", obs(`"subject":{"reference":"http://example.org/fhir/Medication/1"}`)},
		{"versioned reference", obs(`"subject":{"reference":"Patient/1/_history/3"}`)},
		{"reference to any resource", obs(`"focus":[{"reference":"Medication/1"}]`)},
		{"logical reference", obs(`"subject":{"identifier":{"system":"http://x","value":"1"}}`)},
		{"relative URL of no resource type", obs(`"subject":{"reference":"patients/1"}`)},
		{"contained resource", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}}`},
		{"transaction bundle", `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:057aa36e-b892-9964-75b9-ffb46b097e34","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`},
		{"Parameters with a resource", `{"resourceType":"Parameters","parameter":[{"name":"r","resource":{"resourceType":"Patient","active":true}},{"name":"n","valueInteger":3}]}`},
		{"content reference", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"linkId":"1.1.1","type":"display"}]}]}]}`},
		{"R4 EvidenceVariable", `{"resourceType":"EvidenceVariable","status":"draft","characteristic":[{"definitionCodeableConcept":{"text":"x"},"groupMeasure":"mean"}]}`},
		{"ExampleScenario.instance.resourceType", `{"resourceType":"ExampleScenario","status":"draft","instance":[{"resourceId":"a","resourceType":"Patient"}]}`},
		{"Bundle outcome resource", `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}}}]}`},
		{"CodeableConcept in its value set", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"55561003"},{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}`},
		{"binding of a skipped value set", `{"resourceType":"Patient","photo":[{"contentType":"image/x-anything"}]}`},
		{"whitespace-only string", `{"resourceType":"Patient","name":[{"text":"   "}]}`},
		{"string with tab and newline", `{"resourceType":"Patient","name":[{"text":"a\tb\r\nc"}]}`},
		{"base64 with whitespace between groups", `{"resourceType":"Binary","contentType":"text/plain","data":"aGVs bG8g\nd29y"}`},
		{"xhtml narrative", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}`},
	}
	v := validate.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := fhir.ParseObject([]byte(tc.json))
			require.NoError(t, err)
			assert.NoError(t, v.Resource(obj))
		})
	}
}

// TestResourceReportsEveryIssue checks that all problems are reported,
// ordered by path, the first one in the Error itself.
func TestResourceReportsEveryIssue(t *testing.T) {
	obj, err := fhir.ParseObject([]byte(`{"resourceType":"Observation","status":"done","foo":1,
		"subject":{"reference":"Medication/1"},"issued":"2021","component":[{"valueString":""}]}`))
	require.NoError(t, err)
	fe := fhir.AsError(validate.New().Resource(obj))
	require.NotNil(t, fe)
	var got []string
	for _, is := range fe.Issues() {
		got = append(got, string(is.Code)+" "+is.Expression[0])
	}
	assert.Equal(t, []string{
		"required Observation.code",
		"required Observation.component[0].code",
		"value Observation.component[0].valueString",
		"structure Observation.foo",
		"value Observation.issued",
		"code-invalid Observation.status",
		"invalid Observation.subject.reference",
	}, got)
	assert.Equal(t, fhir.IssueRequired, fe.Code)
	assert.Contains(t, fe.Error(), "(+6 issues)")
	assert.NotContains(t, fe.Error(), "Medication", "Error() is for logs and leaves out the message")
}

func TestResourceCapsIssues(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient"`)
	for i := 0; i < 3*validate.MaxIssues; i++ {
		fmt.Fprintf(&b, `,"x%d":1`, i)
	}
	b.WriteString(`}`)
	obj, err := fhir.ParseObject([]byte(b.String()))
	require.NoError(t, err)
	fe := fhir.AsError(validate.New().Resource(obj))
	require.NotNil(t, fe)
	assert.Len(t, fe.Issues(), validate.MaxIssues)
}

// TestResourceAcceptsFloat64 covers objects decoded by encoding/json.
func TestResourceAcceptsFloat64(t *testing.T) {
	v := validate.New()
	assert.NoError(t, v.Resource(fhir.Object{"resourceType": "Observation", "status": "final",
		"code": map[string]any{"text": "x"}, "valueInteger": float64(3)}))
	err := v.Resource(fhir.Object{"resourceType": "Observation", "status": "final",
		"code": map[string]any{"text": "x"}, "valueInteger": 3.5})
	assert.Equal(t, fhir.IssueValue, fhir.ErrorCode(err))
}

func TestResourceTypes(t *testing.T) {
	v := validate.New()
	types := v.ResourceTypes()
	assert.Len(t, types, 146, "FHIR R4 has 146 concrete resource types")
	assert.Contains(t, types, "Patient")
	assert.NotContains(t, types, "SubscriptionStatus", "R4B only")
	assert.True(t, v.IsResourceType("Observation"))
	assert.False(t, v.IsResourceType("Resource"))
	assert.False(t, v.IsResourceType("HumanName"))
	types[0] = "changed"
	assert.NotEqual(t, "changed", v.ResourceTypes()[0], "ResourceTypes returns a copy")
}

func TestElementOrder(t *testing.T) {
	v := validate.New()
	assert.Equal(t, []string{"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension",
		"identifier", "basedOn", "partOf", "status", "category", "code", "subject", "focus", "encounter",
		"effectiveDateTime", "effectivePeriod", "effectiveTiming", "effectiveInstant", "issued", "performer",
		"valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger", "valueRange",
		"valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod",
		"dataAbsentReason", "interpretation", "note", "bodySite", "method", "specimen", "device",
		"referenceRange", "hasMember", "derivedFrom", "component"}, v.ElementOrder("Observation"))
	assert.Equal(t, []string{"id", "extension", "modifierExtension", "low", "high", "type", "appliesTo", "age", "text"},
		v.ElementOrder("Observation.referenceRange"))
	assert.Equal(t, []string{"id", "extension", "value", "comparator", "unit", "system", "code"}, v.ElementOrder("Quantity"))
	assert.Nil(t, v.ElementOrder("Nothing"))
}

func TestResourceReportsChoiceConflictOnce(t *testing.T) {
	obj, err := fhir.ParseObject([]byte(obs(`"valueString":"a","valueBoolean":true,"valueInteger":1`)))
	require.NoError(t, err)
	fe := fhir.AsError(validate.New().Resource(obj))
	require.NotNil(t, fe)
	assert.Len(t, fe.Issues(), 1)
	assert.Equal(t, []string{"Observation.value"}, fe.Expression)
}
