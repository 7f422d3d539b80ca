package hl7v2

import (
	"iter"
	"strings"
)

// Message is a parsed ER7 message: the bytes as received and an index of
// every segment, field, repetition, component and subcomponent in them.
//
// The index is flat: one entry per delimiter, giving where the value after
// it starts and which delimiter it is, and one per field, so that parsing
// costs a few allocations whatever the size of the message, segments and
// fields are reached in constant time, and a repetition, component or
// subcomponent in a pass over its field. Read it through Segment and Value
// handles; change it with Set and SetRaw. A Message may be read from
// several goroutines at once, but not while it is being changed.
type Message struct {
	raw     []byte
	delims  Delimiters
	charset Charset
	high    bool // raw holds bytes >= 0x80

	segs []segment
	// leaves holds, for every value between delimiters (a subcomponent, or
	// a component, repetition or field without inner delimiters), its start
	// in raw and the kind of delimiter before it (see leafKind); each
	// segment's leaves end with a sentinel leaf that starts one byte after
	// the segment. A value ends one byte before the next leaf starts (at
	// it, for leaves glued together in MSH). fields holds the index of the
	// first leaf of every field, each segment's followed by its sentinel.
	leaves []uint32
	fields []uint32
}

// Leaf encoding: the start offset in the low 28 bits, the kind of the
// delimiter before the leaf (clsSub ... clsField, kindSegment for the
// first leaf of a segment, kindEnd for the sentinel) in the next three,
// and the glued flag in the top bit.
const (
	kindShift   = 28
	maxOffset   = 1 << kindShift
	offMask     = maxOffset - 1
	kindSegment = uint32(0)
	kindField   = uint32(clsField) << kindShift
	kindEnd     = uint32(clsEOL) << kindShift
	glued       = uint32(1) << 31
)

func leafStart(leaves []uint32, k int32) int { return int(leaves[k] & offMask) }

// leafEnd returns the end of leaf k: one byte before the next leaf, or at
// it when the next leaf is glued to k.
func leafEnd(leaves []uint32, k int32) int {
	next := leaves[k+1]
	return int(next&offMask) - 1 + int(next>>31)
}

func leafKind(l uint32) uint32 { return (l >> kindShift) & 7 }

type segment struct {
	name string
	f0   int32 // index in fields of field 0 (the name)
	nf   int32 // number of fields including field 0; fields[f0+nf] is the sentinel
	hdr  bool  // MSH, FHS or BHS: fields 1 and 2 are the delimiters
}

// Delimiters returns the delimiters the message declares.
func (m *Message) Delimiters() Delimiters { return m.delims }

// Charset returns the character set values are decoded from (see
// Charset).
func (m *Message) Charset() Charset { return m.charset }

// Len returns the number of segments.
func (m *Message) Len() int { return len(m.segs) }

// SegmentAt returns the segment at 0-based position i, or the zero Segment
// when there is none.
func (m *Message) SegmentAt(i int) Segment {
	if i < 0 || i >= len(m.segs) {
		return Segment{}
	}
	return Segment{m: m, i: int32(i)}
}

// Segment returns the occ-th (1-based) segment named name, or the zero
// Segment. It scans the message: to visit many segments, range over
// Segments instead.
func (m *Message) Segment(name string, occ int) Segment {
	if occ < 1 {
		return Segment{}
	}
	for i := range m.segs {
		if m.segs[i].name == name {
			occ--
			if occ == 0 {
				return Segment{m: m, i: int32(i)}
			}
		}
	}
	return Segment{}
}

// Segments returns all segments in order.
func (m *Message) Segments() iter.Seq[Segment] {
	return func(yield func(Segment) bool) {
		for i := range m.segs {
			if !yield(Segment{m: m, i: int32(i)}) {
				return
			}
		}
	}
}

// SegmentsNamed returns the segments named name, in order.
func (m *Message) SegmentsNamed(name string) iter.Seq[Segment] {
	return func(yield func(Segment) bool) {
		for i := range m.segs {
			if m.segs[i].name == name && !yield(Segment{m: m, i: int32(i)}) {
				return
			}
		}
	}
}

// Segment is a handle to one segment of a Message. The zero Segment stands
// for a segment that is not there: its fields are all absent.
type Segment struct {
	m *Message
	i int32
}

// Exists reports whether s is a segment of a message.
func (s Segment) Exists() bool { return s.m != nil }

// Message returns the message s belongs to (nil for the zero Segment).
func (s Segment) Message() *Message { return s.m }

// Name returns the segment ID (the text before the first field separator).
func (s Segment) Name() string {
	if s.m == nil {
		return ""
	}
	return s.m.segs[s.i].name
}

// Index returns the 0-based position of s in its message, or -1.
func (s Segment) Index() int {
	if s.m == nil {
		return -1
	}
	return int(s.i)
}

// Sequence returns the 1-based occurrence of s among the segments of its
// name (ERR-2.2 "segment sequence"), counting from the start.
func (s Segment) Sequence() int {
	if s.m == nil {
		return 0
	}
	name, n := s.m.segs[s.i].name, 0
	for i := 0; i <= int(s.i); i++ {
		if s.m.segs[i].name == name {
			n++
		}
	}
	return n
}

// Location returns the location of field (0 for the segment itself) for an
// error report.
func (s Segment) Location(field int) Location {
	return Location{Segment: s.Name(), Sequence: s.Sequence(), Field: field, Position: int(s.i) + 1}
}

// NumFields returns the number of the last field present (MSH counts
// MSH-1, the field separator, as a field).
func (s Segment) NumFields() int {
	if s.m == nil {
		return 0
	}
	return int(s.m.segs[s.i].nf) - 1
}

// Field returns field n (1-based, as in PID-3); Field(0) is the segment
// name. A field beyond the last one is absent.
func (s Segment) Field(n int) Value {
	if s.m == nil || n < 0 || n >= int(s.m.segs[s.i].nf) {
		return Value{}
	}
	f := s.m.segs[s.i].f0 + int32(n)
	return Value{m: s.m, level: levelField, lo: int32(s.m.fields[f]), hi: int32(s.m.fields[f+1]), seg: s.i, field: int32(n)}
}

// Encode returns the segment in ER7, without a segment terminator.
func (s Segment) Encode() []byte {
	if s.m == nil {
		return nil
	}
	return s.m.appendSegment(nil, int(s.i))
}

// knownSegments holds the segment IDs of HL7 v2.1-2.8, so that parsing
// does not allocate a name string for them; knownIDs maps the three
// bytes of each, packed, to the same string.
var knownSegments, knownIDs = func() (map[string]string, map[uint32]string) {
	ids := strings.Fields(`ABS ACC ADD ADJ AFF AIG AIL AIP AIS AL1 APR ARQ ARV AUT BHS BLC BLG BPO BPX BTS BTX
	BUI CDM CDO CER CM0 CM1 CM2 CNS CON CSP CSR CSS CTD CTI DB1 DEV DG1 DMI DON DRG DSC DSP ECD ECR EDU
	EQP EQU ERQ ERR EVN FAC FHS FT1 FTS GOL GP1 GP2 GT1 IAM IAR IIM ILT IN1 IN2 IN3 INV IPC IPR ISD ITM
	IVC IVT LAN LCC LCH LDP LOC LRL MFA MFE MFI MRG MSA MSH NCK NDS NK1 NPU NSC NST NTE OBR OBX ODS ODT
	OM1 OM2 OM3 OM4 OM5 OM6 OM7 OMC ORC ORG OVR PAC PCE PCR PD1 PDA PDC PEO PES PID PKG PMT PR1 PRA PRB
	PRC PRD PRT PSG PSH PSL PSS PTH PV1 PV2 PYE QAK QID QPD QRD QRF QRI RCP RDF RDT REL RF1 RFI RGS RMI
	ROL RQ1 RQD RXA RXC RXD RXE RXG RXO RXR RXV SAC SCD SCH SCP SDD SFT SGH SGT SHP SID SLT SPM SPR STF
	STZ TCC TCD TQ1 TQ2 TXA UAC UB1 UB2 URD URS VAR VND VTQ`)
	byName := make(map[string]string, len(ids))
	byID := make(map[uint32]string, len(ids))
	for _, id := range ids {
		byName[id] = id
		byID[pack3([]byte(id))] = id
	}
	return byName, byID
}()

func pack3(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

func internName(b []byte) string {
	if len(b) == 3 {
		if s, ok := knownIDs[pack3(b)]; ok {
			return s
		}
	}
	return string(b)
}
