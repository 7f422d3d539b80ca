package hl7v2

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// Limits bound the work and memory a parse may spend, so that no input,
// however large or odd, costs more than a known amount. Memory for a parsed
// message is about its size plus 20 bytes per delimiter.
type Limits struct {
	// MaxBytes is the largest message accepted, in bytes.
	MaxBytes int
	// MaxSegments is the largest number of segments in one message.
	MaxSegments int
	// MaxNodes is the largest number of delimiters (field, repetition,
	// component and subcomponent separators) in one message.
	MaxNodes int
}

// DefaultLimits returns limits that admit any realistic message: 16 MiB,
// 100,000 segments and 2,000,000 delimiters.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 16 << 20, MaxSegments: 100_000, MaxNodes: 2_000_000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxSegments <= 0 {
		l.MaxSegments = d.MaxSegments
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	return l
}

// Character classes of the scanner.
const (
	clsData uint8 = iota
	clsSub
	clsComp
	clsRep
	clsField
	clsEOL
)

type classTables struct {
	scan [256]uint8 // delimiters and line ends
}

var defaultClasses = buildClasses(DefaultDelimiters())

func buildClasses(d Delimiters) *classTables {
	t := new(classTables)
	t.fill(d)
	return t
}

func (t *classTables) fill(d Delimiters) {
	t.scan = [256]uint8{}
	if d.Subcomponent != 0 {
		t.scan[d.Subcomponent] = clsSub
	}
	if d.Component != 0 {
		t.scan[d.Component] = clsComp
	}
	if d.Repetition != 0 {
		t.scan[d.Repetition] = clsRep
	}
	t.scan[d.Field] = clsField
	t.scan['\r'] = clsEOL
	t.scan['\n'] = clsEOL
}

func classesFor(d Delimiters) *classTables {
	if d == DefaultDelimiters() {
		return defaultClasses
	}
	return buildClasses(d)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Parse parses one ER7-encoded message (HL7 v2.5.1 section 2.6
// "Message construction rules") with DefaultLimits. It copies data, so the
// caller may reuse it.
//
// Segments may end in CR, LF or CRLF; a leading UTF-8 byte order mark and
// blank lines are skipped. The first segment must be MSH; the delimiters
// are those it declares. Every segment, field, repetition, component and
// subcomponent is indexed in one pass over the bytes; values are unescaped
// and converted to UTF-8 only when read. Parse never panics; a failure is
// an *Error with a table 0357 code and a location.
func Parse(data []byte) (*Message, error) {
	return ParseWithLimits(data, DefaultLimits())
}

// ParseWithLimits is Parse with explicit limits; zero fields take the
// default.
func ParseWithLimits(data []byte, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, errAt(CodeApplicationInternal, Location{},
			"message of "+strconv.Itoa(len(data))+" bytes exceeds the limit of "+strconv.Itoa(lim.MaxBytes))
	}
	start := skipPreamble(data)
	rest := data[start:]
	if !bytes.HasPrefix(rest, []byte("MSH")) {
		return nil, errAt(CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1},
			"message does not start with an MSH segment")
	}
	d, _, err := delimitersFrom(rest)
	if err != nil {
		return nil, err
	}
	m := &Message{delims: d}
	m.raw = append(make([]byte, 0, len(rest)), rest...)
	if err := m.indexAll(lim); err != nil {
		return nil, err
	}
	if m.segs[0].name != "MSH" || !m.segs[0].hdr {
		return nil, errAt(CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1},
			"message does not start with an MSH segment")
	}
	for i := 1; i < len(m.segs); i++ {
		if n := m.segs[i].name; n == "MSH" || n == "FHS" || n == "BHS" || n == "BTS" || n == "FTS" {
			return nil, errAt(CodeSegmentSequence, Location{Segment: n, Sequence: 1, Position: i + 1},
				"more than one message or a batch envelope segment: split batches with SplitBatch")
		}
	}
	m.charset = detectCharset(m)
	return m, nil
}

// skipPreamble returns the offset of the first byte after a UTF-8 BOM and
// any CR, LF, space or tab before the first segment.
func skipPreamble(data []byte) int {
	i := 0
	if bytes.HasPrefix(data, bom) {
		i = 3
	}
	for i < len(data) {
		switch data[i] {
		case '\r', '\n', ' ', '\t':
			i++
			continue
		}
		break
	}
	return i
}

// indexAll indexes every segment of m.raw.
func (m *Message) indexAll(lim Limits) error {
	return m.indexFrom(0, lim)
}

// Word-at-a-time search for delimiter bytes (the "has zero byte" test of
// Hacker's Delight 6-1, in its exact form).
const (
	lo7  = 0x7F7F7F7F7F7F7F7F
	hi1  = 0x8080808080808080
	ones = 0x0101010101010101
	pCR  = uint64('\r') * ones
	pLF  = uint64('\n') * ones
)

// zeroBytes returns 0x80 in every byte of w that is zero, 0 elsewhere.
func zeroBytes(w uint64) uint64 {
	return ^(((w & lo7) + lo7) | w | lo7)
}

// pattern repeats c in every byte; an undeclared delimiter (0) repeats CR,
// which the scanner stops at anyway.
func pattern(c byte) uint64 {
	if c == 0 {
		c = '\r'
	}
	return uint64(c) * ones
}

// counts holds the number of delimiters of each kind in some bytes.
type counts struct {
	field, comp, rep, sub, eol int
	high                       bool
}

// count counts the delimiters of b word by word. An undeclared delimiter
// has CR's pattern: it counts line ends again, which only over-allocates.
func count(b []byte, d Delimiters) counts {
	pF, pC, pR, pS := pattern(d.Field), pattern(d.Component), pattern(d.Repetition), pattern(d.Subcomponent)
	var c counts
	var high uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		high |= w
		c.field += bits.OnesCount64(zeroBytes(w ^ pF))
		c.comp += bits.OnesCount64(zeroBytes(w ^ pC))
		c.rep += bits.OnesCount64(zeroBytes(w ^ pR))
		c.sub += bits.OnesCount64(zeroBytes(w ^ pS))
		c.eol += bits.OnesCount64(zeroBytes(w^pCR) | zeroBytes(w^pLF))
	}
	for ; i < len(b); i++ {
		x := b[i]
		high |= uint64(x)
		switch {
		case x == '\r' || x == '\n':
			c.eol++
		case x == d.Field:
			c.field++
		case x == d.Component:
			c.comp++
		case x == d.Repetition:
			c.rep++
		case x == d.Subcomponent:
			c.sub++
		}
	}
	c.high = high&hi1 != 0
	return c
}

// grow returns s with room for n more elements, its length unchanged.
func grow(s []int32, n int) []int32 {
	if cap(s)-len(s) >= n {
		return s
	}
	t := make([]int32, len(s), len(s)+n)
	copy(t, s)
	return t
}

// indexer holds the state of indexFrom between segments. The index arrays
// are used at full capacity and filled through the counters nf, nr, nc
// and ns (ns counts int32s: two per subcomponent).
type indexer struct {
	m                         *Message
	cls                       *[256]uint8
	maxSegs                   int
	fields, reps, comps, subs []int32
	nf, nr, nc, ns            int
	seg                       segment
	open                      bool
	leaf, segStart, nameEnd   int
	skip                      int // delimiters before skip are inside MSH-2
	err                       error
}

// newNode starts a field with one repetition, component and
// subcomponent.
func (x *indexer) newField() {
	x.fields[x.nf] = int32(x.nr)
	x.nf++
	x.reps[x.nr] = int32(x.nc)
	x.nr++
	x.comps[x.nc] = int32(x.ns / 2)
	x.nc++
}

// begin opens a segment at i unless i is a line end or past the input.
func (x *indexer) begin(i int) {
	raw := x.m.raw
	n := len(raw)
	if i >= n || x.cls[raw[i]] == clsEOL {
		return
	}
	if len(x.m.segs) >= x.maxSegs {
		x.err = errAt(CodeApplicationInternal, Location{},
			"message has more than "+strconv.Itoa(x.maxSegs)+" segments")
		return
	}
	x.open = true
	x.seg = segment{f0: int32(x.nf)}
	x.newField()
	x.leaf, x.segStart, x.nameEnd, x.skip = i, i, -1, i
	fs := x.m.delims.Field
	if i+3 < n && raw[i+3] == fs && isHeaderName(raw[i:i+3]) {
		// MSH-1 is the field separator itself and MSH-2 the encoding
		// characters, which are not split.
		x.seg.hdr = true
		x.nameEnd = i + 3
		x.subs[x.ns], x.subs[x.ns+1] = int32(i), int32(i+3)
		x.ns += 2
		x.newField()
		x.subs[x.ns], x.subs[x.ns+1] = int32(i+3), int32(i+4)
		x.ns += 2
		x.newField()
		x.leaf = i + 4
		j := i + 4
		for j < n && raw[j] != fs && raw[j] != '\r' && raw[j] != '\n' {
			j++
		}
		x.skip = j
	}
}

// end closes the open segment at i, a line end or the end of the input.
func (x *indexer) end(i int) {
	x.subs[x.ns], x.subs[x.ns+1] = int32(x.leaf), int32(i)
	x.ns += 2
	x.seg.nf = int32(x.nf) - x.seg.f0
	if x.nameEnd < 0 {
		x.nameEnd = i
	}
	x.seg.name = internName(x.m.raw[x.segStart:x.nameEnd])
	x.m.segs = append(x.m.segs, x.seg)
	x.open = false
}

// indexFrom indexes the segments of m.raw[from:], appending to the index
// arrays and ending them with sentinels.
//
// It counts the delimiters first, so that the arrays are allocated once
// at their final size and the limit on delimiters is checked before any
// allocation. The scan then finds delimiters eight bytes at a time and
// records each without a data-dependent branch: every level's next slot
// is written and only the counters of the levels the delimiter closes
// advance.
func (m *Message) indexFrom(from int, lim Limits) error {
	raw := m.raw
	d := m.delims
	c := count(raw[from:], d)
	if c.high {
		m.high = true
	}
	if total := c.field + c.comp + c.rep + c.sub; total > lim.MaxNodes {
		return errAt(CodeApplicationInternal, Location{},
			"message has "+strconv.Itoa(total)+" delimiters, over the limit of "+strconv.Itoa(lim.MaxNodes))
	}
	lines := c.eol + 1
	needF := c.field + 2*lines + 2
	needR := needF + c.rep
	needC := needR + c.comp
	needS := 2 * (needC + c.sub + 1)
	if m.fields == nil {
		back := make([]int32, needF+needR+needC+needS)
		m.fields = back[0:0:needF]
		m.reps = back[needF : needF : needF+needR]
		m.comps = back[needF+needR : needF+needR : needF+needR+needC]
		m.subs = back[needF+needR+needC : needF+needR+needC : len(back)]
		m.segs = make([]segment, 0, min(lines, lim.MaxSegments))
	} else {
		m.fields, m.reps, m.comps, m.subs = grow(m.fields, needF), grow(m.reps, needR), grow(m.comps, needC), grow(m.subs, needS)
	}
	t := classesFor(d)
	x := &indexer{m: m, cls: &t.scan, maxSegs: lim.MaxSegments,
		fields: m.fields[:cap(m.fields)], reps: m.reps[:cap(m.reps)],
		comps: m.comps[:cap(m.comps)], subs: m.subs[:cap(m.subs)],
		nf: len(m.fields), nr: len(m.reps), nc: len(m.comps), ns: len(m.subs)}
	n := len(raw)
	cls := &t.scan
	pF, pC, pR, pS := pattern(d.Field), pattern(d.Component), pattern(d.Repetition), pattern(d.Subcomponent)

	x.begin(from)
	fields, reps, comps, subs := x.fields, x.reps, x.comps, x.subs
	nf, nr, nc, ns := x.nf, x.nr, x.nc, x.ns
	leaf, skip, nameEnd := x.leaf, x.skip, x.nameEnd
	for pos := from; pos < n; pos += 8 {
		var mask uint64
		if pos+8 <= n {
			w := binary.LittleEndian.Uint64(raw[pos:])
			mask = zeroBytes(w^pF) | zeroBytes(w^pC) | zeroBytes(w^pR) | zeroBytes(w^pS) |
				zeroBytes(w^pCR) | zeroBytes(w^pLF)
		} else {
			for k := pos; k < n; k++ {
				if cls[raw[k]] != clsData {
					mask |= 0x80 << (8 * (k - pos))
				}
			}
		}
		for mask != 0 {
			p := pos + bits.TrailingZeros64(mask)>>3
			mask &= mask - 1
			if p < skip {
				continue
			}
			c := cls[raw[p]]
			if c == clsEOL {
				x.nf, x.nr, x.nc, x.ns = nf, nr, nc, ns
				x.leaf, x.nameEnd = leaf, nameEnd
				if x.open {
					x.end(p)
				}
				x.begin(p + 1)
				if x.err != nil {
					return x.finish()
				}
				nf, nr, nc, ns = x.nf, x.nr, x.nc, x.ns
				leaf, skip, nameEnd = x.leaf, x.skip, x.nameEnd
				continue
			}
			if c == clsField && nameEnd < 0 {
				nameEnd = p
			}
			// Close the subcomponent; open the next field, repetition and
			// component as far as the delimiter's level requires.
			subs[ns] = int32(leaf)
			subs[ns+1] = int32(p)
			ns += 2
			fields[nf] = int32(nr)
			nf += int(c >> 2) // clsField
			reps[nr] = int32(nc)
			nr += int((c + 1) >> 2) // clsRep, clsField
			comps[nc] = int32(ns >> 1)
			nc += int((c + 2) >> 2) // clsComp, clsRep, clsField
			leaf = p + 1
		}
	}
	x.nf, x.nr, x.nc, x.ns = nf, nr, nc, ns
	x.leaf, x.nameEnd = leaf, nameEnd
	if x.open {
		x.end(n)
	}
	return x.finish()
}

// finish ends the index arrays with sentinels and stores them in m.
func (x *indexer) finish() error {
	x.fields[x.nf] = int32(x.nr)
	x.reps[x.nr] = int32(x.nc)
	x.comps[x.nc] = int32(x.ns / 2)
	m := x.m
	m.fields, m.reps, m.comps, m.subs = x.fields[:x.nf+1], x.reps[:x.nr+1], x.comps[:x.nc+1], x.subs[:x.ns]
	return x.err
}

func isHeaderName(b []byte) bool {
	switch string(b) {
	case "MSH", "FHS", "BHS":
		return true
	}
	return false
}
