package mappings

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// These are table tests of the datatype maps; the golden files test them
// in context.

// mustBuilder returns a builder for a minimal message from sender fac.
func mustBuilder(t *testing.T, fac string) *builder {
	t.Helper()
	m, err := hl7v2.Parse([]byte("MSH|^~\\&|APP|" + fac + "|||20250101120000+0200||ADT^A01|1|P|2.5.1\r"))
	require.NoError(t, err)
	b, err := newBuilder(m, Options{Location: time.FixedZone("SAST", 7200)})
	require.NoError(t, err)
	return b
}

// field parses text as field 1 of a Z-segment.
func field(t *testing.T, text string) hl7v2.Value {
	t.Helper()
	m, err := hl7v2.Parse([]byte("MSH|^~\\&|A|B|||20250101||ADT^A01|1|P|2.5.1\rZZZ|" + text + "\r"))
	require.NoError(t, err)
	return m.Segment("ZZZ", 1).Field(1)
}

func TestDefaultIdentifierSystem(t *testing.T) {
	for _, c := range []struct {
		name string
		hd   hl7v2.HD
		want string
	}{
		{"namespace", hl7v2.HD{NamespaceID: "MAIN-HOSP"}, "urn:fhirhub:hl7v2:id:MAIN-HOSP"},
		{"namespace wins over OID", hl7v2.HD{NamespaceID: "MAIN-HOSP", UniversalID: "2.16.840.1", UniversalIDType: "ISO"}, "urn:fhirhub:hl7v2:id:MAIN-HOSP"},
		{"namespace that is an OID", hl7v2.HD{NamespaceID: "2.16.840.1.113883.4.1"}, "urn:oid:2.16.840.1.113883.4.1"},
		{"universal OID", hl7v2.HD{UniversalID: "2.16.840.1.113883.4.1", UniversalIDType: "ISO"}, "urn:oid:2.16.840.1.113883.4.1"},
		{"universal UUID", hl7v2.HD{UniversalID: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", UniversalIDType: "UUID"}, "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"universal URI", hl7v2.HD{UniversalID: "https://example.org/mrn", UniversalIDType: "URI"}, "https://example.org/mrn"},
		{"space is escaped", hl7v2.HD{NamespaceID: "GHH OE"}, "urn:fhirhub:hl7v2:id:GHH%20OE"},
		{"empty", hl7v2.HD{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, DefaultIdentifierSystem(c.hd)) })
	}
}

func TestIdentifierFromCX(t *testing.T) {
	b := mustBuilder(t, "SENDER")
	for _, c := range []struct {
		name, cx string
		want     fhir.Object
	}{
		{"authority and type", "MRN-1^^^MAIN-HOSP^MR", fhir.Object{"value": "MRN-1", "system": "urn:fhirhub:hl7v2:id:MAIN-HOSP",
			"type": fhir.Object{"coding": []any{fhir.Object{"system": v2Table("0203"), "code": "MR"}}}}},
		{"assigning facility when no authority", "X-9^^^^PI^CLINIC-2", fhir.Object{"value": "X-9", "system": "urn:fhirhub:hl7v2:id:CLINIC-2",
			"type": fhir.Object{"coding": []any{fhir.Object{"system": v2Table("0203"), "code": "PI"}}}}},
		{"sender when neither", "77", fhir.Object{"value": "77", "system": "urn:fhirhub:hl7v2:id:SENDER"}},
		{"validity period", "A1^^^H^MR^^20200101^20301231", fhir.Object{"value": "A1", "system": "urn:fhirhub:hl7v2:id:H",
			"type":   fhir.Object{"coding": []any{fhir.Object{"system": v2Table("0203"), "code": "MR"}}},
			"period": fhir.Object{"start": "2020-01-01", "end": "2030-12-31"}}},
		{"no id", "^^^H^MR", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := b.identifierFromCX(hl7v2.ParseCX(field(t, c.cx)), "ZZZ-1")
			require.NoError(t, err)
			assert.Equal(t, string(fhir.MarshalJSON(c.want)), string(fhir.MarshalJSON(got)))
		})
	}
	_, err := b.identifierFromCX(hl7v2.ParseCX(field(t, "A1^^^H^MR^^2020130")), "PID-3")
	require.Error(t, err)
	assert.Equal(t, []string{"PID-3"}, fhir.AsError(err).Expression)
	assert.NotContains(t, err.Error(), "2020130", "errors carry no message values")
}

func TestDateTimePrecisionAndOffset(t *testing.T) {
	b := mustBuilder(t, "S")
	for _, c := range []struct{ in, dateTime, date, instant string }{
		{"2025", "2025", "2025", ""},
		{"202503", "2025-03", "2025-03", ""},
		{"20250314", "2025-03-14", "2025-03-14", "2025-03-14T00:00:00+02:00"},
		{"2025031408", "2025-03-14T08:00:00+02:00", "2025-03-14", "2025-03-14T08:00:00+02:00"},
		{"202503140830", "2025-03-14T08:30:00+02:00", "2025-03-14", "2025-03-14T08:30:00+02:00"},
		{"20250314083015-0500", "2025-03-14T08:30:15-05:00", "2025-03-14", "2025-03-14T08:30:15-05:00"},
		{"20250314083015.25+0000", "2025-03-14T08:30:15.25Z", "2025-03-14", "2025-03-14T08:30:15.25Z"},
		{"20250314233000-0300", "2025-03-14T23:30:00-03:00", "2025-03-14", "2025-03-14T23:30:00-03:00"},
	} {
		t.Run(c.in, func(t *testing.T) {
			d, err := b.ts(field(t, c.in), "ZZZ-1")
			require.NoError(t, err)
			assert.Equal(t, c.dateTime, dateTime(d))
			assert.Equal(t, c.date, date(d), "the date as written, in its own offset")
			assert.Equal(t, c.instant, instant(d))
		})
	}
	_, err := b.ts(field(t, "20250230"), "PID-7")
	require.Error(t, err)
	assert.Equal(t, []string{"PID-7"}, fhir.AsError(err).Expression)
}

func TestCodeableConcept(t *testing.T) {
	for _, c := range []struct {
		name, cwe, table string
		want             string
	}{
		{"LOINC", "2951-2^Sodium^LN", "", `{"coding":[{"code":"2951-2","display":"Sodium","system":"http://loinc.org"}]}`},
		{"HL7 table named", "M^Married^HL70002", "", `{"coding":[{"code":"M","display":"Married","system":"http://terminology.hl7.org/CodeSystem/v2-0002"}]}`},
		{"field's table when none named", "F", v2Table("0001"), `{"coding":[{"code":"F","system":"http://terminology.hl7.org/CodeSystem/v2-0001"}]}`},
		{"alternate and original text", "I20.0^Unstable angina^I10^4557003^Preinfarction syndrome^SCT^^^angina, unstable",
			"", `{"coding":[{"code":"I20.0","display":"Unstable angina","system":"http://hl7.org/fhir/sid/icd-10"},{"code":"4557003","display":"Preinfarction syndrome","system":"http://snomed.info/sct"}],"text":"angina, unstable"}`},
		{"local system kept", "CHEST^Chest pain^99LOCAL", "", `{"coding":[{"code":"CHEST","display":"Chest pain","system":"urn:fhirhub:hl7v2:codesystem:99LOCAL"}]}`},
		{"text only", "^Chest pain", "", `{"text":"Chest pain"}`},
		{"escapes decoded", "X^A \\T\\ B^L", "", `{"coding":[{"code":"X","display":"A & B","system":"urn:fhirhub:hl7v2:codesystem:L"}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, string(fhir.MarshalJSON(codeableConcept(hl7v2.ParseCWE(field(t, c.cwe)), c.table))))
		})
	}
	assert.Nil(t, codeableConcept(hl7v2.CWE{}, v2Table("0001")))
}

func TestHumanNameAddressContactPoint(t *testing.T) {
	b := mustBuilder(t, "S")
	n, err := b.humanName(hl7v2.ParseXPN(field(t, "Ndlovu-Müller^Zoë^Thandeka^II^Ms^^L")), "PID-5")
	require.NoError(t, err)
	assert.Equal(t, `{"family":"Ndlovu-Müller","given":["Zoë","Thandeka"],"prefix":["Ms"],"suffix":["II"],"use":"official"}`, string(fhir.MarshalJSON(n)))

	a, err := b.address(hl7v2.ParseXAD(field(t, "12 Jacaranda Ave^Unit 4^Pretoria^GP^0181^ZAF^M")), "PID-11")
	require.NoError(t, err)
	assert.Equal(t, `{"city":"Pretoria","country":"ZAF","line":["12 Jacaranda Ave","Unit 4"],"postalCode":"0181","state":"GP","type":"postal"}`, string(fhir.MarshalJSON(a)))

	for _, c := range []struct{ xtn, def, want string }{
		{"^PRN^PH^^27^12^5550100", "home", `{"system":"phone","use":"home","value":"+27 12 5550100"}`},
		{"^PRN^CP^^27^82^5550199", "home", `{"system":"phone","use":"mobile","value":"+27 82 5550199"}`},
		{"^WPN^PH^^27^12^5550300^12", "work", `{"system":"phone","use":"work","value":"+27 12 5550300 ext. 12"}`},
		{"^NET^Internet^zoe@example.org", "home", `{"system":"email","value":"zoe@example.org"}`},
		{"(012)555-0100", "work", `{"system":"phone","use":"work","value":"(012)555-0100"}`},
		{"^^FX^^27^12^5550999", "home", `{"system":"fax","use":"home","value":"+27 12 5550999"}`},
	} {
		assert.Equal(t, c.want, string(fhir.MarshalJSON(contactPoint(hl7v2.ParseXTN(field(t, c.xtn)), c.def))), c.xtn)
	}
}

func TestObservationValues(t *testing.T) {
	b := mustBuilder(t, "S")
	for _, c := range []struct{ vt, value, units, want string }{
		{"NM", "7.50", "mmol/L^^UCUM", `{"valueQuantity":{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"mmol/L","value":7.50}}`},
		{"NM", "139", "mmol/L", `{"valueQuantity":{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"mmol/L","value":139}}`},
		{"NM", "12", "beats^per minute^L", `{"valueQuantity":{"code":"beats","system":"urn:fhirhub:hl7v2:codesystem:L","unit":"per minute","value":12}}`},
		{"NM", "<5", "U/L", `{"valueQuantity":{"code":"U/L","comparator":"<","system":"http://unitsofmeasure.org","unit":"U/L","value":5}}`},
		{"NM", "see note", "", `{"valueString":"see note"}`},
		{"SN", ">=^10", "", `{"valueQuantity":{"comparator":">=","value":10}}`},
		{"SN", "^10^-^20", "g/L", `{"valueRange":{"high":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":20},"low":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":10}}}`},
		{"SN", "^1^:^128", "", `{"valueRatio":{"denominator":{"value":128},"numerator":{"value":1}}}`},
		{"SN", "^2^+", "", `{"valueString":"2+"}`},
		{"SN", "=^4.5", "", `{"valueQuantity":{"value":4.5}}`},
		{"ST", "A \\T\\ B \\S\\ C", "", `{"valueString":"A & B ^ C"}`},
		{"TX", "line 1~line 2", "", `{"valueString":"line 1\nline 2"}`},
		{"FT", "\\H\\Bold\\N\\\\.br\\next", "", `{"valueString":"Bold\nnext"}`},
		{"CWE", "260385009^Negative^SCT", "", `{"valueCodeableConcept":{"coding":[{"code":"260385009","display":"Negative","system":"http://snomed.info/sct"}]}}`},
		{"DT", "20240520", "", `{"valueDateTime":"2024-05-20"}`},
		{"TS", "202405201030", "", `{"valueDateTime":"2024-05-20T10:30:00+02:00"}`},
		{"TM", "1030", "", `{"valueTime":"10:30:00"}`},
		{"CQ", "5^mg&milligram&UCUM", "", `{"valueQuantity":{"code":"mg","system":"http://unitsofmeasure.org","unit":"milligram","value":5}}`},
		{"ED", "^AP^PDF^Base64^JVBERg==", "", `{}`},
	} {
		t.Run(c.vt+" "+c.value, func(t *testing.T) {
			m, err := hl7v2.Parse([]byte("MSH|^~\\&|A|B|||20250101||ORU^R01|1|P|2.5.1\rOBX|1|" + c.vt + "|X^Y^L||" + c.value + "|" + c.units + "\r"))
			require.NoError(t, err)
			obs := fhir.Object{}
			b.observationValue(m.Segment("OBX", 1), obs)
			assert.Equal(t, c.want, string(fhir.MarshalJSON(obs)))
		})
	}
}

func TestReferenceRange(t *testing.T) {
	u := hl7v2.CWE{Identifier: "g/L"}
	for _, c := range []struct{ in, want string }{
		{"3.5-5.1", `{"high":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":5.1},"low":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":3.5},"text":"3.5-5.1"}`},
		{"<5", `{"high":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":5},"text":"<5"}`},
		{">= 60", `{"low":{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":60},"text":">= 60"}`},
		{"negative", `{"text":"negative"}`},
	} {
		assert.Equal(t, c.want, string(fhir.MarshalJSON(referenceRange(c.in, u))), c.in)
	}
	assert.Nil(t, referenceRange(" ", u))
}

func TestCriteriaEscaping(t *testing.T) {
	got := criteria("identifier",
		token{"urn:fhirhub:hl7v2:obx", "LAB-1^PATH|2951-2|"},
		token{"urn:x", "a,b$c\\d"},
		token{"urn:x", "a b&c=d+e;f#g%h"},
		token{"urn:fhirhub:hl7v2:obx", "LAB-1^PATH|2951-2|"}, // duplicate: dropped
		token{"urn:x", ""},                                   // empty: dropped
	)
	assert.Equal(t, `identifier=urn:fhirhub:hl7v2:obx|LAB-1^PATH\|2951-2\|,urn:x|a\,b\$c\\d,urn:x|a%20b%26c%3Dd%2Be%3Bf%23g%25h`, got)
	q, err := url.ParseQuery(got)
	require.NoError(t, err, "url.ParseQuery reads the criteria as the server does")
	assert.Equal(t, `urn:fhirhub:hl7v2:obx|LAB-1^PATH\|2951-2\|,urn:x|a\,b\$c\\d,urn:x|a b&c=d+e;f#g%h`, q.Get("identifier"))
	assert.Equal(t, "", criteria("identifier"))
}

func TestUUIDv5(t *testing.T) {
	// RFC 9562 appendix A.4: the name "www.example.com" in the DNS name space.
	dns := uuid{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	assert.Equal(t, "2ed6657d-e927-568b-95e1-2665a8aea6a2", uuidV5(dns, "www.example.com").String())
	assert.Equal(t, uuidV5(nsURL, "a").String(), uuidV5(nsURL, "a").String())
	assert.NotEqual(t, uuidV5(nsURL, "a").String(), uuidV5(nsURL, "b").String())
}

func TestChangesClearWhatIsAbsentOrPresent(t *testing.T) {
	var ch changes
	ch.set("/name", []any{fhir.Object{"family": "X"}})
	ch.set("/gender", "") // empty: says nothing
	ch.setOrClear("/telecom", nil, true)
	res := fhir.Object{}
	ch.apply(res)
	assert.Equal(t, `{"name":[{"family":"X"}]}`, string(fhir.MarshalJSON(res)))
	assert.Equal(t, `[{"op":"add","path":"/name","value":[{"family":"X"}]},{"op":"add","path":"/telecom","value":null},{"op":"remove","path":"/telecom"}]`,
		string(fhir.MarshalJSON(ch.ops())))
}
