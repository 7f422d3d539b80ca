package hl7v2

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentifierTypes(t *testing.T) {
	m := MustReadTestdata(t, "adt_a01_admit.hl7")
	ids := ParseCXs(MustGet(t, m, "PID-3"))
	require.Len(t, ids, 3)
	assert.Equal(t, CX{ID: "MRN-100234", AssigningAuthority: HD{NamespaceID: "MAIN-HOSP"}, IdentifierTypeCode: "MR",
		AssigningFacility: HD{NamespaceID: "MAIN-HOSP"}}, ids[0])
	assert.Equal(t, "NI", ids[1].IdentifierTypeCode)
	assert.Equal(t, HD{NamespaceID: "DISCOVERY", UniversalID: "2.16.840.1.113883.3.9999.7", UniversalIDType: "ISO"},
		ids[2].AssigningAuthority)
	assert.Equal(t, ids[2], ParseCX(MustGet(t, m, "PID-3[3]")))

	assert.Equal(t, HD{NamespaceID: "MAIN-HOSP", UniversalID: "2.16.840.1.113883.3.9999.1", UniversalIDType: "ISO"},
		ParseHD(MustGet(t, m, "MSH-4")))
	assert.Equal(t, "MAIN-HOSP^2.16.840.1.113883.3.9999.1^ISO", ParseHD(MustGet(t, m, "MSH-4")).String())
	assert.Equal(t, "SYNTH-EHR", ParseHD(MustGet(t, m, "MSH-3")).String())
	assert.Equal(t, "^1.2.3", HD{UniversalID: "1.2.3"}.String())
	assert.True(t, ParseHD(MustGet(t, m, "MSH-99")).IsZero())

	oru := MustReadTestdata(t, "oru_r01_lab.hl7")
	assert.Equal(t, EI{EntityID: "LAB-88123", NamespaceID: "PATH-LAB"}, ParseEI(MustGet(t, oru, "OBR-3")))
	assert.Equal(t, EI{EntityID: "SPC-88123-1", NamespaceID: "PATH-LAB"}, ParseEI(MustGet(t, oru, "SPM-2")))
}

func TestNameAndContactTypes(t *testing.T) {
	m := MustReadTestdata(t, "adt_a01_admit.hl7")
	names := ParseXPNs(MustGet(t, m, "PID-5"))
	require.Len(t, names, 2)
	assert.Equal(t, XPN{Family: FN{Surname: "Ndlovu-Müller"}, Given: "Zoë", Middle: "Thandeka", Prefix: "Ms", NameTypeCode: "L"}, names[0])
	assert.Equal(t, "M", names[1].NameTypeCode)

	addr := ParseXADs(MustGet(t, m, "PID-11"))
	require.Len(t, addr, 2)
	assert.Equal(t, XAD{Street: SAD{StreetOrMailingAddress: "12 Jacaranda Ave"}, OtherDesignation: "Unit 4", City: "Pretoria",
		State: "GP", PostalCode: "0181", Country: "ZAF", AddressType: "H"}, addr[0])
	assert.Equal(t, "M", addr[1].AddressType)

	phones := ParseXTNs(MustGet(t, m, "PID-13"))
	require.Len(t, phones, 3)
	assert.Equal(t, XTN{UseCode: "PRN", EquipmentType: "PH", CountryCode: "27", AreaCode: "12", LocalNumber: "5550100"}, phones[0])
	assert.Equal(t, "zoe.synthetic@example.org", phones[1].Email)
	assert.Equal(t, "12", ParseXTN(MustGet(t, m, "PID-14")).Extension)

	doc := ParseXCN(MustGet(t, m, "PV1-7"))
	assert.Equal(t, "DR-0877", doc.ID)
	assert.Equal(t, FN{Surname: "Pillay"}, doc.Family)
	assert.Equal(t, "Anand", doc.Given)
	assert.Equal(t, "Dr", doc.Prefix)
	assert.Equal(t, HD{NamespaceID: "MAIN-HOSP", UniversalID: "2.16.840.1.113883.3.9999.1", UniversalIDType: "ISO"}, doc.AssigningAuthority)
	assert.Len(t, ParseXCNs(MustGet(t, m, "PV1-8")), 1)

	// XCN in a component (OBR-32 as v2.5 NDL: its name is subcomponents).
	rad := MustReadTestdata(t, "oru_r01_radiology_pdf.hl7")
	v := MustGet(t, rad, "OBR-32.1")
	assert.Equal(t, "DR-1200", ParseXCN(v).ID)
	assert.Equal(t, "Smit", ParseXCN(v).Family.Surname)

	loc := ParsePL(MustGet(t, m, "PV1-3"))
	assert.Equal(t, PL{PointOfCare: "W3", Room: "312", Bed: "B", Facility: HD{NamespaceID: "MAIN-HOSP"}, PersonLocationType: "N",
		Building: "Block C", Floor: "3"}, loc)
	assert.False(t, loc.IsZero())
}

func TestCodedTypes(t *testing.T) {
	m := MustReadTestdata(t, "oru_r01_lab.hl7")
	assert.Equal(t, CWE{Identifier: "2951-2", Text: "Sodium [Moles/volume] in Serum or Plasma", CodingSystem: "LN"},
		ParseCWE(MustGet(t, m, "OBX-3")))
	assert.Equal(t, "278149003", ParseCE(MustGet(t, m, "OBX[4]-5")).Identifier)
	assert.Equal(t, "SCT", ParseCNE(MustGet(t, m, "OBX[4]-5")).CodingSystem)
	assert.True(t, ParseCWE(MustGet(t, m, "OBX-99")).IsZero())
	assert.Equal(t, CWE{Identifier: "R", Text: "Routine", CodingSystem: "HL70485"}, ParseCWE(MustGet(t, m, "TQ1-9")))
	full := MustParse(t, "MSH|^~\\&\rOBX|||a^b^c^d^e^f^g^h^i^j^k^l^m^n\r")
	assert.Equal(t, CWE{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"}, ParseCWE(MustGet(t, full, "OBX-3")))
	assert.Len(t, ParseCWEs(MustGet(t, MustReadTestdata(t, "adt_a01_admit.hl7"), "AL1-5")), 2)
}

func TestNM(t *testing.T) {
	tests := map[string]string{
		"": "", "0": "0", "139": "139", "+007.50": "7.50", ".5": "0.5", "5.": "5", "-0.0": "0.0", "-12.30": "-12.30",
		" 42 ": "42", "000": "0", "-.25": "-0.25",
	}
	for in, want := range tests {
		n, err := ParseNM(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, n.Text, in)
	}
	for _, bad := range []string{"abc", "1e5", "1.2.3", "--1", "+", ".", "1,5", "0x10"} {
		_, err := ParseNM(bad)
		e := asErr(t, err)
		assert.Equal(t, CodeDataType, e.Code, bad)
	}
	n, _ := ParseNM("5.9")
	assert.InDelta(t, 5.9, n.Float64(), 1e-9)
}

func TestSNAndCQ(t *testing.T) {
	m := MustParse(t, lines(`MSH|^~\&`,
		`OBX|1|SN|||<^0.3`, `OBX|2|SN|||^1^:^128`, `OBX|3|SN|||^10^-^20`, `OBX|4|SN|||^2^+`,
		`OBX|5|SN|||~^7`, `OBX|6|SN|||?^1`, `OBX|7|SN|||^x`,
		`TQ1|1|2^mL&milliliter&UCUM`, `TQ1|2|two^mL`))
	sn := func(path string) (SN, error) { return ParseSN(MustGet(t, m, path)) }
	got, err := sn("OBX[1]-5")
	require.NoError(t, err)
	assert.Equal(t, SN{Comparator: "<", Num1: NM{"0.3"}}, got)
	got, _ = sn("OBX[2]-5")
	assert.Equal(t, SN{Num1: NM{"1"}, Separator: ":", Num2: NM{"128"}}, got)
	got, _ = sn("OBX[3]-5")
	assert.Equal(t, SN{Num1: NM{"10"}, Separator: "-", Num2: NM{"20"}}, got)
	got, _ = sn("OBX[4]-5")
	assert.Equal(t, SN{Num1: NM{"2"}, Separator: "+"}, got)
	_, err = sn("OBX[6]-5")
	assert.Equal(t, CodeDataType, asErr(t, err).Code)
	assert.Equal(t, Location{Segment: "OBX", Sequence: 6, Field: 5, Rep: 1, Component: 1, Position: 7}, asErr(t, err).Loc)
	_, err = sn("OBX[7]-5")
	assert.Equal(t, CodeDataType, asErr(t, err).Code)
	assert.Equal(t, Location{Segment: "OBX", Sequence: 7, Field: 5, Rep: 1, Component: 2, Position: 8}, asErr(t, err).Loc)

	cq, err := ParseCQ(MustGet(t, m, "TQ1-2"))
	require.NoError(t, err)
	assert.Equal(t, CQ{Quantity: NM{"2"}, Units: CWE{Identifier: "mL", Text: "milliliter", CodingSystem: "UCUM"}}, cq)
	_, err = ParseCQ(MustGet(t, m, "TQ1[2]-2"))
	assert.Equal(t, CodeDataType, asErr(t, err).Code)
}

func TestDTM(t *testing.T) {
	sast := time.FixedZone("+0200", 2*3600)
	tests := []struct {
		in     string
		time   time.Time
		prec   Precision
		digits int
		offset bool
	}{
		{"2025", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), PrecisionYear, 0, false},
		{"202503", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), PrecisionMonth, 0, false},
		{"20250314", time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), PrecisionDay, 0, false},
		{"2025031408", time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC), PrecisionHour, 0, false},
		{"202503140830", time.Date(2025, 3, 14, 8, 30, 0, 0, time.UTC), PrecisionMinute, 0, false},
		{"20250314083015", time.Date(2025, 3, 14, 8, 30, 15, 0, time.UTC), PrecisionSecond, 0, false},
		{"20250314083015.1", time.Date(2025, 3, 14, 8, 30, 15, 100e6, time.UTC), PrecisionFraction, 1, false},
		{"20250314083015.1234", time.Date(2025, 3, 14, 8, 30, 15, 123400e3, time.UTC), PrecisionFraction, 4, false},
		{"20250314083015+0200", time.Date(2025, 3, 14, 8, 30, 15, 0, sast), PrecisionSecond, 0, true},
		{"202503140830-0530", time.Date(2025, 3, 14, 8, 30, 0, 0, time.FixedZone("", -(5*3600+1800))), PrecisionMinute, 0, true},
		{"20240229", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), PrecisionDay, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDTM(tt.in, nil)
			require.NoError(t, err)
			assert.True(t, tt.time.Equal(d.Time), "%v != %v", d.Time, tt.time)
			assert.Equal(t, tt.prec, d.Precision)
			assert.Equal(t, tt.digits, d.FractionDigits)
			assert.Equal(t, tt.offset, d.HasOffset)
			assert.Equal(t, tt.in, d.String())
		})
	}
	local, err := ParseDTM("20250314083015", sast)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 3, 14, 6, 30, 15, 0, time.UTC), local.Time.UTC())
	zero, err := ParseDTM("", nil)
	require.NoError(t, err)
	assert.True(t, zero.IsZero())
	assert.Equal(t, "", zero.String())
	for _, bad := range []string{"25", "2025031", "20251301", "20250230", "20250314250000", "20250314086000",
		"2025.5", "20250314083015.12345", "20250314083015+02", "20250314083015+2500", "abcd", "20250314083015+02x0",
		"1994050216163360"} {
		_, err := ParseDTM(bad, nil)
		assert.Equal(t, CodeDataType, asErr(t, err).Code, bad)
	}
	bad := MustParse(t, "MSH|^~\\&\rPID|1\rPID|2||||||19801301\r")
	_, err = ParseTS(MustGet(t, bad, "PID[2]-7"), nil)
	assert.Equal(t, Location{Segment: "PID", Sequence: 2, Field: 7, Rep: 1, Component: 1, Position: 3}, asErr(t, err).Loc)
	m := MustReadTestdata(t, "adt_a01_admit.hl7")
	ts, err := ParseTS(MustGet(t, m, "MSH-7"), nil)
	require.NoError(t, err)
	assert.Equal(t, "20250314083015+0200", ts.String())
	v23 := MustParse(t, "MSH|^~\\&\rOBR|1||||||200301011200^M\r")
	ts, err = ParseTS(MustGet(t, v23, "OBR-7"), nil)
	require.NoError(t, err)
	assert.Equal(t, PrecisionMinute, ts.Precision)
}

func TestED(t *testing.T) {
	m := MustReadTestdata(t, "oru_r01_radiology_pdf.hl7")
	ed := ParseED(MustGet(t, m, "OBX[3]-5"))
	assert.Equal(t, "AP", ed.TypeOfData)
	assert.Equal(t, "PDF", ed.DataSubtype)
	assert.Equal(t, "Base64", ed.Encoding)
	pdf, err := ed.Bytes()
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-1.4")))
	assert.True(t, bytes.HasSuffix(pdf, []byte("%%EOF\n")))

	// dcm4che's PDF report is cut short in the published file (its Base64
	// has 4025 characters, not a multiple of four): a data type error.
	ext := externalDir(t, "hl7v2")
	dcm := MustParseFile(t, ext+"/dcm4che/ORU_R01-PDF.hl7")
	dcmED := ParseED(MustGet(t, dcm, "OBX[4]-5"))
	assert.True(t, strings.HasPrefix(dcmED.Data, "JVBERi0xLjMN"), "%PDF-1.3")
	_, err = dcmED.Bytes()
	assert.Equal(t, CodeDataType, asErr(t, err).Code)

	wrapped := ED{Encoding: "Base64", Data: "SGVs\r\nbG8=\\.br\\"}
	b, err := wrapped.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(b))
	b, err = ED{Encoding: "Hex", Data: "48 65 6C6C 6F"}.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(b))
	b, err = ED{Encoding: "A", Data: "Hello"}.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(b))
	_, err = ED{Encoding: "Base64", Data: "!!!"}.Bytes()
	assert.Equal(t, CodeDataType, asErr(t, err).Code)
	_, err = ED{Encoding: "Hex", Data: "XYZ"}.Bytes()
	assert.Equal(t, CodeDataType, asErr(t, err).Code)
	_, err = ED{Encoding: "UU", Data: "x"}.Bytes()
	assert.Equal(t, CodeTableValueNotFound, asErr(t, err).Code)
}

func TestMSGAndText(t *testing.T) {
	m := MustReadTestdata(t, "oru_r01_radiology_pdf.hl7")
	assert.Equal(t, MSG{Code: "ORU", Trigger: "R01", Structure: "ORU_R01"}, ParseMSG(MustGet(t, m, "MSH-9")))
	assert.Equal(t, "ORU^R01^ORU_R01", ParseMSG(MustGet(t, m, "MSH-9")).String())
	assert.Equal(t, "ACK", MSG{Code: "ACK"}.String())
	assert.Equal(t, "ADT^A01", MSG{Code: "ADT", Trigger: "A01"}.String())

	assert.Equal(t, "FINDINGS:\nHeart size normal. No focal consolidation.\nSmall left pleural effusion # see prior 2024-11-02.",
		ParseTX(MustGet(t, m, "OBX-5")))
	assert.Equal(t, "IMPRESSION:\n1. Small left pleural effusion.\n2. No acute cardiopulmonary disease.",
		ParseFT(MustGet(t, m, "OBX[2]-5")))
	assert.Equal(t, "IMPRESSION:", ParseST(MustGet(t, m, "OBX[2]-5")))
	assert.Equal(t, "Prior study comparison limited#", MustGet(t, m, "OBX[4]-5").String())
	assert.True(t, strings.HasSuffix(MustGet(t, m, "OBX[4]-5").String(), "#"), "a truncation character is data")
}

// MustParseFile parses a file.
func MustParseFile(tb testing.TB, path string) *Message {
	tb.Helper()
	data := mustRead(tb, path)
	m, err := Parse(data)
	require.NoError(tb, err, path)
	return m
}
