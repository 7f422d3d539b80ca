package hl7v2

import (
	"bytes"
	"strings"
)

// Encode returns the message in ER7, every segment ended by CR (HL7
// v2.5.1 section 2.6). It writes the indexed nodes back with the message's
// delimiters, so encoding a parsed message gives its bytes again apart
// from segment terminators, a byte order mark and blank lines.
func (m *Message) Encode() []byte {
	return m.AppendEncode(make([]byte, 0, m.encodedSizeHint()))
}

// AppendEncode appends the ER7 encoding of m to dst.
func (m *Message) AppendEncode(dst []byte) []byte {
	for i := range m.segs {
		dst = m.appendSegment(dst, i)
		dst = append(dst, '\r')
	}
	return dst
}

func (m *Message) encodedSizeHint() int {
	n := 0
	for i := range m.segs {
		s, e := m.segmentSpan(i)
		n += e - s + 1
	}
	return n
}

// segmentSpan returns the offsets in m.raw of segment i's text.
func (m *Message) segmentSpan(i int) (start, end int) {
	s := m.segs[i]
	first, sentinel := int32(m.fields[s.f0]), int32(m.fields[s.f0+s.nf])
	return leafStart(m.leaves, first), leafEnd(m.leaves, sentinel-1)
}

// appendSegment writes segment i from its index: each leaf's text after
// the delimiter its kind names.
func (m *Message) appendSegment(dst []byte, i int) []byte {
	s := m.segs[i]
	d := m.delims
	seps := [...]byte{clsSub: d.Subcomponent, clsComp: d.Component, clsRep: d.Repetition, clsField: d.Field}
	l := m.leaves
	first, sentinel := int32(m.fields[s.f0]), int32(m.fields[s.f0+s.nf])
	for k := first; k < sentinel; k++ {
		if k > first && l[k]&glued == 0 {
			dst = append(dst, seps[leafKind(l[k])])
		}
		dst = append(dst, m.raw[leafStart(l, k):leafEnd(l, k)]...)
	}
	return dst
}

// NewMessage returns a message holding only "MSH" and the delimiters d in
// MSH-1 and MSH-2, to be filled with Set and AddSegment. Values are
// encoded as UTF-8 until MSH-18 is set to another character set.
func NewMessage(d Delimiters) (*Message, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	m := &Message{delims: d}
	if err := m.appendSegmentText([]byte("MSH" + d.String())); err != nil {
		return nil, err
	}
	return m, nil
}

// AddSegment appends an empty segment named name and returns it. name must
// be a segment ID of one to eight letters and digits, and neither MSH nor
// a batch envelope segment (FHS, BHS, BTS, FTS).
func (m *Message) AddSegment(name string) (Segment, error) {
	valid := len(name) >= 1 && len(name) <= 8
	switch name {
	case "MSH", "FHS", "BHS", "BTS", "FTS":
		valid = false
	}
	for i := 0; valid && i < len(name); i++ {
		valid = isAlnum(name[i])
	}
	if !valid {
		return Segment{}, errAt(CodeSegmentSequence, Location{}, "invalid segment ID for a new segment")
	}
	if err := m.appendSegmentText([]byte(name)); err != nil {
		return Segment{}, err
	}
	return Segment{m: m, i: int32(len(m.segs) - 1)}, nil
}

// appendSegmentText adds one segment, text without terminator.
func (m *Message) appendSegmentText(text []byte) error {
	from := len(m.raw)
	m.raw = append(m.raw, text...)
	// Each segment written by Set or AddSegment is indexed on its own; the
	// parse limits guard input, not what the program builds.
	lim := DefaultLimits()
	lim.MaxSegments = len(m.segs) + 1
	return m.indexFrom(from, lim)
}

// hasDelimiter reports whether s holds a delimiter of level lv or above
// (field separator for levelField; field or repetition separator for
// levelRep, and so on).
func (m *Message) hasDelimiter(s string, lv level) bool {
	d := m.delims
	ds := []byte{d.Field, d.Repetition, d.Component, d.Subcomponent}
	for i := 0; i < int(lv) && i < len(ds); i++ {
		if ds[i] != 0 && strings.IndexByte(s, ds[i]) >= 0 {
			return true
		}
	}
	return false
}

// Set stores value, escaped (see Escape), at path. The node the path
// names is replaced whole, so "PID-5" replaces every repetition and
// component of PID-5 while "PID-5.2" replaces only the given name; missing
// fields, repetitions and components are added empty. The text `""` is
// written so that it reads back as text, not as the null (see SetNull).
// The segment must exist (see AddSegment); MSH-1 and MSH-2 cannot be set.
// Set costs one pass over the segment, and the message keeps the
// segment's previous text until it is discarded.
func (m *Message) Set(path string, value string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	return m.SetAt(p, value)
}

// SetAt is Set with a parsed path.
func (m *Message) SetAt(p Path, value string) error {
	if value == `""` && m.delims.Escape != 0 {
		// Two double quotes are the null (see SetNull); as text they are
		// written as hexadecimal so that they read back as text.
		e := m.delims.Escape
		return m.setRaw(p, []byte{e, 'X', '2', '2', '2', '2', e})
	}
	return m.setRaw(p, appendEscaped(nil, value, m.delims, m.charset))
}

// SetNull stores the explicit null `""` at path: it tells the receiver to
// delete the value it holds (HL7 v2.5.1 section 2.5.3).
func (m *Message) SetNull(path string) error {
	return m.SetRaw(path, `""`)
}

// SetRaw stores raw ER7 text at path, unescaped: it may hold the
// delimiters of the levels below the node (components in a field, for
// example) but no delimiter of the node's level or above, and no line
// break.
func (m *Message) SetRaw(path string, raw string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	if strings.ContainsAny(raw, "\r\n") || m.hasDelimiter(raw, p.level()) {
		return errAt(CodeDataType, p.location(), "raw value holds a delimiter of its own level or a line break")
	}
	return m.setRaw(p, []byte(raw))
}

func (m *Message) setRaw(p Path, raw []byte) error {
	seg := m.Segment(p.Segment, p.occurrence())
	if !seg.Exists() {
		return errAt(CodeSegmentSequence, p.location(), "segment not in message")
	}
	si := int(seg.i)
	if m.segs[si].hdr && p.Field <= 2 {
		return errAt(CodeDataType, p.location(), "MSH-1 and MSH-2 hold the delimiters and cannot be set")
	}
	start, end := m.segmentSpan(si)
	// Find the deepest existing node on the path.
	target := [4]int{p.Field, p.rep(), p.comp(), p.sub()}
	lv := p.level()
	v := seg.Field(p.Field)
	depth := 0 // levels of the path that exist
	var anc Value
	if v.Exists() {
		anc, depth = v, 1
		for depth < int(lv) {
			next := anc.Part(target[depth])
			if !next.Exists() {
				break
			}
			anc, depth = next, depth+1
		}
	}
	out := m.raw[start:end:end]
	if depth == int(lv) {
		// The node exists: replace its text.
		ns, ne := leafStart(m.leaves, anc.lo)-start, leafEnd(m.leaves, anc.hi-1)-start
		text := make([]byte, 0, len(out)-(ne-ns)+len(raw))
		text = append(append(append(text, out[:ns]...), raw...), out[ne:]...)
		return m.replaceSegment(si, text)
	}
	// Insert padding and the value at the end of the deepest ancestor.
	d := m.delims
	seps := [4]byte{d.Field, d.Repetition, d.Component, d.Subcomponent}
	at := len(out)
	have := seg.NumFields()
	if depth > 0 {
		at = leafEnd(m.leaves, anc.hi-1) - start
		have = anc.NumParts()
	}
	var pad []byte
	for k := depth; k < int(lv); k++ {
		if seps[k] == 0 {
			return errAt(CodeDataType, p.location(), "the message declares no delimiter for this level")
		}
		n := target[k] - 1
		if k == depth {
			n = target[k] - have
		}
		pad = append(pad, bytes.Repeat([]byte{seps[k]}, n)...)
	}
	text := make([]byte, 0, len(out)+len(pad)+len(raw))
	text = append(append(append(append(text, out[:at]...), pad...), raw...), out[at:]...)
	return m.replaceSegment(si, text)
}

// replaceSegment indexes text as a new version of segment si.
func (m *Message) replaceSegment(si int, text []byte) error {
	n := len(m.segs)
	if err := m.appendSegmentText(text); err != nil {
		return err
	}
	if len(m.segs) != n+1 {
		m.segs = m.segs[:n]
		return errAt(CodeApplicationInternal, Location{}, "segment text did not index as one segment")
	}
	m.segs[si] = m.segs[n]
	m.segs = m.segs[:n]
	if si == 0 {
		if c, ok := CharsetFor(m.SegmentAt(0).Field(18).String()); ok {
			m.charset = c
		}
	}
	return nil
}
