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

// Value is a handle to a field, a repetition, a component or a
// subcomponent of a Message. The zero Value stands for a node that is not
// there; all its methods return empty results.
//
// HL7 datatypes are composites: at field level their parts are components,
// and a datatype used inside a component has subcomponents as parts. Part
// steps one level down whatever the level, which is what the datatype
// parsers (ParseCX, ParseXPN, ...) use; Rep, Comp and Sub address a level
// directly.
type Value struct {
	m     *Message
	level level
	idx   int32
}

// Exists reports whether the node is present in the message, even empty.
func (v Value) Exists() bool { return v.level != levelNone }

// leaves returns the range [lo, hi) of subcomponent indexes under v.
func (v Value) leaves() (lo, hi int32) {
	m := v.m
	switch v.level {
	case levelField:
		return m.comps[m.reps[m.fields[v.idx]]], m.comps[m.reps[m.fields[v.idx+1]]]
	case levelRep:
		return m.comps[m.reps[v.idx]], m.comps[m.reps[v.idx+1]]
	case levelComp:
		return m.comps[v.idx], m.comps[v.idx+1]
	case levelSub:
		return v.idx, v.idx + 1
	}
	return 0, 0
}

// children returns the range of child indexes one level down.
func (v Value) children() (lo, hi int32) {
	m := v.m
	switch v.level {
	case levelField:
		return m.fields[v.idx], m.fields[v.idx+1]
	case levelRep:
		return m.reps[v.idx], m.reps[v.idx+1]
	case levelComp:
		return m.comps[v.idx], m.comps[v.idx+1]
	}
	return 0, 0
}

// RawBytes returns the node's ER7 text, still escaped, with its inner
// delimiters. The slice aliases the message: do not modify it.
func (v Value) RawBytes() []byte {
	if v.level == levelNone {
		return nil
	}
	lo, hi := v.leaves()
	return v.m.raw[v.m.subs[2*lo]:v.m.subs[2*(hi-1)+1]]
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

// Part returns the i-th (1-based) child one level down: a repetition of a
// field, a component of a repetition, a subcomponent of a component. A
// subcomponent is its own first part.
func (v Value) Part(i int) Value {
	if v.level == levelNone || i < 1 {
		return Value{}
	}
	if v.level == levelSub {
		if i == 1 {
			return v
		}
		return Value{}
	}
	lo, hi := v.children()
	if int32(i) > hi-lo {
		return Value{}
	}
	return Value{m: v.m, level: v.level + 1, idx: lo + int32(i) - 1}
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
	lo, hi := v.children()
	return int(hi - lo)
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
	return func(yield func(Value) bool) {
		for i := 1; i <= v.NumReps(); i++ {
			if !yield(v.Rep(i)) {
				return
			}
		}
	}
}

func (v Value) firstLeaf() []byte {
	if v.level == levelNone {
		return nil
	}
	lo, _ := v.leaves()
	return v.m.raw[v.m.subs[2*lo]:v.m.subs[2*lo+1]]
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
	n := v.NumReps()
	if n == 1 {
		return v.Rep(1).Text()
	}
	var sb strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteByte('\n')
		}
		sb.WriteString(v.Rep(i).Text())
	}
	return sb.String()
}
