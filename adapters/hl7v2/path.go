package hl7v2

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a terse path to a node of a message:
//
//	SEG[occ]-field[rep].component.subcomponent
//
// for example "PID-3[2].1" (first component of the second repetition of
// PID-3), "OBX[2]-5" (OBX-5 of the second OBX) or "PID-5.1.1". Every index
// is 1-based. The separator before the field may also be '.', the ones
// after it '-', and an index may be written in parentheses, so
// "PID.3(2).1" and "PID-3(2)-1" name the same node as "PID-3[2].1"; note
// that HAPI's Terser counts repetitions in parentheses from 0, this
// package from 1 in both forms.
//
// The path's last part decides the node: "PID-3" is the whole field,
// "PID-3[1]" its first repetition, "PID-3.1" the first component of the
// first repetition.
type Path struct {
	Segment    string
	Occurrence int // 0 means 1
	Field      int
	Rep        int // 0 when the path stops before the repetition
	Comp       int // 0 when the path stops before the component
	Sub        int // 0 when the path stops before the subcomponent
	repGiven   bool
}

// Largest indexes a path may hold, so that Set on a path cannot build an
// absurdly large segment.
const (
	maxPathField = 9999
	maxPathRep   = 9999
	maxPathComp  = 999
)

// ParsePath parses a terse path (see Path).
func ParsePath(s string) (Path, error) {
	var p Path
	bad := func(why string) (Path, error) {
		return Path{}, fmt.Errorf("hl7v2: terse path %q: %s", s, why)
	}
	i := 0
	for i < len(s) && isAlnum(s[i]) {
		i++
	}
	if i == 0 || i > 8 {
		return bad("no segment ID")
	}
	p.Segment = s[:i]
	rest := s[i:]
	var ok bool
	if p.Occurrence, rest, ok = bracketed(rest, maxPathRep); !ok {
		return bad("bad segment occurrence")
	}
	if rest == "" || (rest[0] != '-' && rest[0] != '.') {
		return bad("no field number")
	}
	if p.Field, rest, ok = number(rest[1:], maxPathField); !ok || p.Field < 1 {
		return bad("bad field number")
	}
	if p.Rep, rest, ok = bracketed(rest, maxPathRep); !ok {
		return bad("bad repetition")
	}
	p.repGiven = p.Rep > 0
	if rest != "" {
		if rest[0] != '-' && rest[0] != '.' {
			return bad("unexpected text after the field")
		}
		if p.Comp, rest, ok = number(rest[1:], maxPathComp); !ok || p.Comp < 1 {
			return bad("bad component number")
		}
		if rest != "" {
			if rest[0] != '-' && rest[0] != '.' {
				return bad("unexpected text after the component")
			}
			if p.Sub, rest, ok = number(rest[1:], maxPathComp); !ok || p.Sub < 1 || rest != "" {
				return bad("bad subcomponent number")
			}
		}
	}
	return p, nil
}

// MustParsePath is ParsePath for constant paths; it panics on an invalid
// one. Use it for package-level variables.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// bracketed reads an optional "[n]" or "(n)" (n >= 1).
func bracketed(s string, max int) (int, string, bool) {
	if s == "" || (s[0] != '[' && s[0] != '(') {
		return 0, s, true
	}
	closer := byte(']')
	if s[0] == '(' {
		closer = ')'
	}
	n, rest, ok := number(s[1:], max)
	if !ok || n < 1 || rest == "" || rest[0] != closer {
		return 0, s, false
	}
	return n, rest[1:], true
}

func number(s string, max int) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 {
		return 0, s, false
	}
	n, _ := strconv.Atoi(s[:i])
	if n > max {
		return 0, s, false
	}
	return n, s[i:], true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// String returns the path in its canonical form, "SEG[occ]-f[rep].c.s"
// with defaults left out.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Segment)
	if p.Occurrence > 1 {
		fmt.Fprintf(&b, "[%d]", p.Occurrence)
	}
	fmt.Fprintf(&b, "-%d", p.Field)
	if p.repGiven {
		fmt.Fprintf(&b, "[%d]", p.Rep)
	}
	if p.Comp > 0 {
		fmt.Fprintf(&b, ".%d", p.Comp)
		if p.Sub > 0 {
			fmt.Fprintf(&b, ".%d", p.Sub)
		}
	}
	return b.String()
}

func (p Path) level() level {
	switch {
	case p.Sub > 0:
		return levelSub
	case p.Comp > 0:
		return levelComp
	case p.repGiven:
		return levelRep
	}
	return levelField
}

func (p Path) occurrence() int { return max(p.Occurrence, 1) }
func (p Path) rep() int        { return max(p.Rep, 1) }
func (p Path) comp() int       { return max(p.Comp, 1) }
func (p Path) sub() int        { return max(p.Sub, 1) }

func (p Path) location() Location {
	return Location{Segment: p.Segment, Sequence: p.occurrence(), Field: p.Field, Rep: p.Rep, Component: p.Comp, Sub: p.Sub}
}

// At returns the node p names, or the zero Value when the message does not
// have it.
func (m *Message) At(p Path) Value {
	v := m.Segment(p.Segment, p.occurrence()).Field(p.Field)
	lv := p.level()
	if lv >= levelRep {
		v = v.Part(p.rep())
	}
	if lv >= levelComp {
		v = v.Part(p.Comp)
	}
	if lv >= levelSub {
		v = v.Part(p.Sub)
	}
	return v
}

// Get returns the node a terse path names (see Path). Its String method
// reads the first subcomponent: m.Get("PID-5") reads the family name. The
// error reports an invalid path, not a missing node: a missing node is
// the zero Value.
func (m *Message) Get(path string) (Value, error) {
	p, err := ParsePath(path)
	if err != nil {
		return Value{}, err
	}
	return m.At(p), nil
}
