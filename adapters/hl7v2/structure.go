package hl7v2

import "strings"

// This file holds the groups shared by the message structures of HL7
// v2.5.1 chapters 3 (ADT) and 4 and 7 (orders and results), and the
// structure table 0354.
//
// The structure parsers (ParseADT, ParseORU, ParseORM, ParseOMI) read the
// segments in order and put each into the group the abstract message
// syntax gives it; NTE and ROL segments go to the group they follow, so a
// note after an OBX belongs to that observation and one after an OBR to
// the order. They are lenient, as receivers must be: Z-segments and
// segments the structure does not define are kept in the Extra list of
// the innermost open group, and a segment out of place is kept too, with a
// CodeSegmentSequence warning. A missing required segment (PID in an ADT,
// OBR in an ORU, ORC in an ORM) is a CodeSegmentSequence error.

// Visit is the visit group: PV1 and PV2 (either may be absent).
type Visit struct {
	PV1, PV2 Segment
	ROL      []Segment
}

// Insurance is the insurance group: IN1, IN2, IN3 and their roles.
type Insurance struct {
	IN1, IN2 Segment
	IN3      []Segment
	ROL      []Segment
}

// Observation is an OBX with the notes that follow it.
type Observation struct {
	OBX   Segment
	NTE   []Segment
	Extra []Segment
}

// Timing is a TQ1 with its TQ2 segments.
type Timing struct {
	TQ1 Segment
	TQ2 []Segment
}

// Specimen is an SPM with its OBX segments (ORU^R01 SPECIMEN).
type Specimen struct {
	SPM   Segment
	OBX   []Segment
	Extra []Segment
}

// Patient is the PATIENT group of order and result messages.
// Observations are the PATIENT_OBSERVATION groups of v2.7 and later.
type Patient struct {
	PID, PD1     Segment
	NTE, NK1     []Segment
	Observations []Observation
	Visit        Visit
	Insurance    []Insurance
	GT1          Segment
	AL1          []Segment
	Extra        []Segment
}

// Order is an order group: ORDER_OBSERVATION of ORU^R01, ORDER of ORM^O01
// and OMI^O23.
type Order struct {
	ORC    Segment
	Timing []Timing
	// Detail is the OBR (in ORM^O01 also RQD, RQ1, RXO, ODS or ODT).
	Detail       Segment
	NTE          []Segment
	CTD          Segment
	DG1          []Segment
	Observations []Observation
	FT1, CTI     []Segment
	BLG          Segment
	IPC          []Segment
	Specimens    []Specimen
	Extra        []Segment
}

// OBR returns the order's OBR, or the zero Segment when its detail is
// another segment or absent.
func (o *Order) OBR() Segment {
	if o.Detail.Name() == "OBR" {
		return o.Detail
	}
	return Segment{}
}

// StructureFor returns the message structure HL7 table 0354 (v2.5.1)
// gives to a message type and trigger event: ADT^A04 is ADT_A01, ORU^R01
// is ORU_R01. A pair it does not know gives "CODE_TRIGGER"; ACK gives ACK.
func StructureFor(code, trigger string) string {
	if code == "ACK" {
		return "ACK"
	}
	key := code + "_" + trigger
	if s, ok := structures[key]; ok {
		return s
	}
	if trigger == "" {
		return code
	}
	return key
}

// structures maps CODE_TRIGGER to its structure where they differ.
var structures = func() map[string]string {
	m := map[string]string{}
	add := func(structure string, triggers string) {
		code := structure[:strings.IndexByte(structure, '_')]
		for _, t := range strings.Fields(triggers) {
			m[code+"_"+t] = structure
		}
	}
	add("ADT_A01", "A01 A04 A08 A13")
	add("ADT_A05", "A05 A14 A28 A31")
	add("ADT_A06", "A06 A07")
	add("ADT_A09", "A09 A10 A11")
	add("ADT_A21", "A21 A22 A23 A25 A26 A27 A29 A32 A33")
	add("ADT_A30", "A30 A34 A35 A36 A46 A47 A48 A49")
	add("ADT_A39", "A39 A40 A41 A42")
	add("ADT_A43", "A43 A44")
	add("ADT_A50", "A50 A51")
	add("ADT_A52", "A52 A53 A55")
	add("ADT_A61", "A61 A62")
	add("SIU_S12", "S12 S13 S14 S15 S16 S17 S18 S19 S20 S21 S22 S23 S24 S26 S27")
	add("MDM_T01", "T01 T03 T05 T07 T09 T11")
	add("MDM_T02", "T02 T04 T06 T08 T10")
	add("BAR_P01", "P01 P05")
	add("DFT_P03", "P03")
	add("ORU_R01", "R01")
	add("ORU_R30", "R30 R31 R32")
	add("OUL_R21", "R21")
	add("ORM_O01", "O01")
	add("OMI_O23", "O23")
	add("OML_O21", "O21")
	add("RDE_O11", "O11 O25")
	add("VXU_V04", "V04")
	add("QRY_A19", "A19")
	return m
}()

// structureParser tracks the segment being placed, for error locations.
type structureParser struct {
	m    *Message
	errs []*Error
	seq  map[string]int
}

func newStructureParser(m *Message) *structureParser {
	return &structureParser{m: m, seq: map[string]int{}}
}

// next returns segment i and counts its occurrence.
func (p *structureParser) next(i int) Segment {
	s := p.m.SegmentAt(i)
	p.seq[s.Name()]++
	return s
}

func (p *structureParser) loc(s Segment) Location {
	return Location{Segment: s.Name(), Sequence: p.seq[s.Name()], Position: s.Index() + 1}
}

// misplaced records a warning for a segment out of place.
func (p *structureParser) misplaced(s Segment) {
	e := errAt(CodeSegmentSequence, p.loc(s), "segment out of place for the message structure")
	e.Severity = SeverityWarning
	p.errs = append(p.errs, e)
}

// missing records an error for a required segment that is absent.
func (p *structureParser) missing(name string) {
	p.errs = append(p.errs, errAt(CodeSegmentSequence, Location{Segment: name, Sequence: 1}, "required segment "+name+" missing"))
}

// isZ reports whether a segment is a locally defined Z-segment.
func isZ(name string) bool { return len(name) > 0 && name[0] == 'Z' }
