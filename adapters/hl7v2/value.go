package hl7v2

import (
	"iter"
	"strings"
)

type level uint8

const (
	levelNone level = iota
	levelField
	levelRep
	levelComp
	levelSub
)

// childKind is, for each level, the smallest leaf kind that starts one of
// its children: a repetition separator starts a repetition of a field,
// and so on.
var childKind = [...]uint32{levelField: uint32(clsRep), levelRep: uint32(clsComp), levelComp: uint32(clsSub)}

// Value is a handle to a field, a repetition, a component or a
// subcomponent of a Message. The zero Value stands for a node that is not
// there; all its methods return empty results.
//
// HL7 datatypes are composites: at field level their parts are components,
// and a datatype used inside a component has subcomponents as parts. Part
// steps one level down whatever the level, which is what the datatype
// parsers (ParseCX, ParseXPN, ...) use; Rep, Comp and Sub address a level
// directly.
//
// A node is a range of the message's index: reaching the i-th child costs
// a pass over the node (a few entries for a field), so visit all children
// with Reps or Parts rather than Part(i) in a loop over a long field.
type Value struct {
	m      *Message
	lo, hi int32 // leaves [lo, hi)
	seg    int32 // segment index
	field  int32
	// rep, comp and sub are the node's 1-based indexes at the levels below
	// the field, 0 above its own level.
	rep, comp, sub uint16
	level          level
}

// child returns the i-th child of v spanning leaves [lo, hi).
func (v Value) child(i int, lo, hi int32) Value {
	c := v
	c.lo, c.hi, c.level = lo, hi, v.level+1
	n := uint16(min(i, 0xFFFF))
	switch c.level {
	case levelRep:
		c.rep = n
	case levelComp:
		c.comp = n
	case levelSub:
		c.sub = n
	}
	return c
}

// Location returns where the node is, for an error report (see
// Location); the zero Location for an absent node.
func (v Value) Location() Location {
	if v.level == levelNone {
		return Location{}
	}
	s := Segment{m: v.m, i: v.seg}
	return Location{Segment: s.Name(), Sequence: s.Sequence(), Field: int(v.field),
		Rep: int(v.rep), Component: int(v.comp), Sub: int(v.sub), Position: int(v.seg) + 1}
}

// partLocation is the location of v's i-th part, present or not.
func (v Value) partLocation(i int) Location {
	l := v.Location()
	switch v.level {
	case levelField:
		l.Rep = i
	case levelRep:
		l.Component = i
	case levelComp:
		l.Sub = i
	}
	return l
}

// Exists reports whether the node is present in the message, even empty.
func (v Value) Exists() bool { return v.level != levelNone }

// RawBytes returns the node's ER7 text, still escaped, with its inner
// delimiters. The slice aliases the message: do not modify it.
func (v Value) RawBytes() []byte {
	if v.level == levelNone {
		return nil
	}
	l := v.m.leaves
	return v.m.raw[leafStart(l, v.lo):leafEnd(l, v.hi-1)]
}

// Raw returns the node's ER7 text, still escaped, with its inner
// delimiters.
func (v Value) Raw() string { return string(v.RawBytes()) }

// IsEmpty reports whether the node is absent or has no text.
func (v Value) IsEmpty() bool { return len(v.RawBytes()) == 0 }

// IsNull reports whether the node is the explicit null `""`, which tells
// the receiver to delete the value it holds (HL7 v2.5.1 section 2.5.3).
func (v Value) IsNull() bool {
	b := v.RawBytes()
	return len(b) == 2 && b[0] == '"' && b[1] == '"'
}

// Parts returns the children one level down (see Part), in order.
func (v Value) Parts() iter.Seq[Value] {
	return func(yield func(Value) bool) {
		switch v.level {
		case levelNone:
			return
		case levelSub:
			yield(v)
			return
		}
		t := childKind[v.level]
		l := v.m.leaves
		start, i := v.lo, 1
		for k := v.lo + 1; k < v.hi; k++ {
			if leafKind(l[k]) >= t {
				if !yield(v.child(i, start, k)) {
					return
				}
				start, i = k, i+1
			}
		}
		yield(v.child(i, start, v.hi))
	}
}

// Part returns the i-th (1-based) child one level down: a repetition of a
// field, a component of a repetition, a subcomponent of a component. A
// subcomponent is its own first part.
func (v Value) Part(i int) Value {
	if i < 1 {
		return Value{}
	}
	for p := range v.Parts() {
		i--
		if i == 0 {
			return p
		}
	}
	return Value{}
}

// NumParts returns the number of children one level down (1 for a
// subcomponent, 0 for an absent node).
func (v Value) NumParts() int {
	switch v.level {
	case levelNone:
		return 0
	case levelSub:
		return 1
	}
	t := childKind[v.level]
	l := v.m.leaves
	n := 1
	for k := v.lo + 1; k < v.hi; k++ {
		if leafKind(l[k]) >= t {
			n++
		}
	}
	return n
}

// Rep returns the i-th (1-based) repetition of a field. Any other node is
// its own first repetition.
func (v Value) Rep(i int) Value {
	if v.level == levelField {
		return v.Part(i)
	}
	if i == 1 {
		return v
	}
	return Value{}
}

// NumReps returns the number of repetitions of a field (1 for other nodes,
// 0 when absent).
func (v Value) NumReps() int {
	if v.level == levelField {
		return v.NumParts()
	}
	if v.level == levelNone {
		return 0
	}
	return 1
}

// Comp returns the i-th (1-based) component: of the first repetition for a
// field. A component or subcomponent is its own first component.
func (v Value) Comp(i int) Value {
	switch v.level {
	case levelField:
		return v.Part(1).Part(i)
	case levelRep:
		return v.Part(i)
	}
	if i == 1 {
		return v
	}
	return Value{}
}

// NumComps returns the number of components of the (first) repetition.
func (v Value) NumComps() int {
	switch v.level {
	case levelField:
		return v.Part(1).NumParts()
	case levelRep:
		return v.NumParts()
	case levelNone:
		return 0
	}
	return 1
}

// Sub returns the i-th (1-based) subcomponent of the first component (of
// the first repetition).
func (v Value) Sub(i int) Value {
	switch v.level {
	case levelField, levelRep:
		return v.Comp(1).Part(i)
	case levelComp:
		return v.Part(i)
	}
	if i == 1 {
		return v
	}
	return Value{}
}

// NumSubs returns the number of subcomponents of the first component.
func (v Value) NumSubs() int {
	switch v.level {
	case levelField, levelRep:
		return v.Comp(1).NumParts()
	case levelComp:
		return v.NumParts()
	case levelNone:
		return 0
	}
	return 1
}

// Reps returns the repetitions of a field (v itself for other nodes).
func (v Value) Reps() iter.Seq[Value] {
	if v.level == levelField {
		return v.Parts()
	}
	return func(yield func(Value) bool) {
		if v.level != levelNone {
			yield(v)
		}
	}
}

func (v Value) firstLeaf() []byte {
	if v.level == levelNone {
		return nil
	}
	l := v.m.leaves
	return v.m.raw[leafStart(l, v.lo):leafEnd(l, v.lo)]
}

// String returns the decoded text of the node's first subcomponent, the
// way terse paths read values: "PID-5" reads PID-5.1.1. Escape sequences
// are resolved and the text converted to UTF-8 from the message's
// character set; formatting commands (\.br\, \H\ ...) are kept as they are
// (Text renders them). The explicit null `""` reads as "": test IsNull.
func (v Value) String() string {
	b := v.firstLeaf()
	if len(b) == 0 || v.IsNull() {
		return ""
	}
	return v.m.decode(b, false)
}

// Text is String for text datatypes (TX, FT, ST): formatting commands are
// rendered, \.br\ and \.sp\ as line breaks, and at field level the
// repetitions are joined with line breaks.
func (v Value) Text() string {
	if v.level != levelField {
		b := v.firstLeaf()
		if len(b) == 0 || v.IsNull() {
			return ""
		}
		return v.m.decode(b, true)
	}
	var sb strings.Builder
	n := 0
	for r := range v.Parts() {
		if n > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(r.Text())
		n++
	}
	return sb.String()
}

// parts holds the first children of a node, for the datatype parsers.
type parts struct {
	p [25]Value
}

// split returns the first 25 children of v one level down in one pass.
func split(v Value) parts {
	var ps parts
	i := 0
	for p := range v.Parts() {
		if i == len(ps.p) {
			break
		}
		ps.p[i] = p
		i++
	}
	return ps
}

// at returns the i-th (1-based) child, or the zero Value.
func (ps *parts) at(i int) Value {
	if i < 1 || i > len(ps.p) {
		return Value{}
	}
	return ps.p[i-1]
}
