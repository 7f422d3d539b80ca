package hl7v2

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"sync"
)

// Limits bound the work and memory a parse may spend, so that no input,
// however large or odd, costs more than a known amount. A parsed message
// holds a copy of its bytes plus 4 to 8 bytes per delimiter, and parsing
// is linear in its size.
type Limits struct {
	// MaxBytes is the largest message accepted, in bytes (at most 256 MiB).
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
	l.MaxBytes = min(l.MaxBytes, maxOffset-2)
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

// classes maps each byte to its class for one set of delimiters.
type classes [256]uint8

var defaultClasses = buildClasses(DefaultDelimiters())

func buildClasses(d Delimiters) *classes {
	t := new(classes)
	if d.Subcomponent != 0 {
		t[d.Subcomponent] = clsSub
	}
	if d.Component != 0 {
		t[d.Component] = clsComp
	}
	if d.Repetition != 0 {
		t[d.Repetition] = clsRep
	}
	t[d.Field] = clsField
	t['\r'] = clsEOL
	t['\n'] = clsEOL
	return t
}

func classesFor(d Delimiters) *classes {
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
// Segments may end in CR, LF or CRLF; a leading UTF-8 byte order mark,
// white space before the first segment and blank lines are skipped. The first segment must be MSH; the delimiters
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
	if err := m.indexFrom(0, lim); err != nil {
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

// gather moves the high bit of byte i of m to bit i.
func gather(m uint64) uint8 {
	return uint8(((m >> 7) * 0x0102040810204080) >> 56)
}

// counts holds the number of delimiters in some bytes.
type counts struct {
	delims, fields, eols int
	high                 bool
}

// scan counts the delimiters of b eight bytes at a time and records, in
// masks, one byte per eight bytes of b whose bits mark the delimiters and
// line ends. An undeclared delimiter has CR's pattern, which only
// over-counts.
func scan(b []byte, d Delimiters, cls *[256]uint8, masks []uint8) counts {
	pF, pC, pR, pS := pattern(d.Field), pattern(d.Component), pattern(d.Repetition), pattern(d.Subcomponent)
	var c counts
	var high uint64
	i, w := 0, 0
	for ; i+8 <= len(b); i, w = i+8, w+1 {
		x := binary.LittleEndian.Uint64(b[i:])
		high |= x
		zF := zeroBytes(x ^ pF)
		zE := zeroBytes(x^pCR) | zeroBytes(x^pLF)
		all := zF | zE | zeroBytes(x^pC) | zeroBytes(x^pR) | zeroBytes(x^pS)
		c.delims += bits.OnesCount64(all)
		c.fields += bits.OnesCount64(zF)
		c.eols += bits.OnesCount64(zE)
		masks[w] = gather(all)
	}
	// The last mask covers the bytes after the last full word (possibly
	// none: it is still written, as the scratch may hold old masks).
	var m uint8
	for k := i; k < len(b); k++ {
		x := b[k]
		high |= uint64(x)
		switch cls[x] {
		case clsData:
			continue
		case clsEOL:
			c.eols++
		case clsField:
			c.fields++
		}
		c.delims++
		m |= 1 << (k - i)
	}
	masks[w] = m
	c.delims -= c.eols
	c.high = high&hi1 != 0
	return c
}

// maskPool recycles the scratch masks of scan.
var maskPool = sync.Pool{New: func() any { return new([]uint8) }}

// indexer holds the state of indexFrom between segments. The index arrays
// are used at full capacity and filled through the counters nl and nf.
type indexer struct {
	m       *Message
	cls     *[256]uint8
	maxSegs int
	leaves  []uint32
	fields  []uint32
	nl, nf  int
	seg     segment
	open    bool
	skip    int // delimiters before skip are inside MSH-2
	err     error
}

func (x *indexer) leaf(start int, kind uint32) {
	x.leaves[x.nl] = uint32(start) | kind
	x.nl++
}

func (x *indexer) field() {
	x.fields[x.nf] = uint32(x.nl)
	x.nf++
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
	x.skip = i
	x.field()
	x.leaf(i, kindSegment)
	fs := x.m.delims.Field
	if i+3 < n && raw[i+3] == fs && isHeaderName(raw[i:i+3]) {
		// MSH-1 is the field separator itself and MSH-2 the encoding
		// characters, which are not split; no delimiter stands between the
		// name, MSH-1 and MSH-2.
		x.seg.hdr = true
		x.field()
		x.leaf(i+3, kindField|glued)
		x.field()
		x.leaf(i+4, kindField|glued)
		j := i + 4
		for j < n && raw[j] != fs && raw[j] != '\r' && raw[j] != '\n' {
			j++
		}
		x.skip = j
	}
}

// end closes the open segment at i, a line end or the end of the input,
// with a sentinel leaf and a sentinel field.
func (x *indexer) end(i int) {
	x.seg.nf = int32(x.nf) - x.seg.f0
	x.field()
	x.leaf(i+1, kindEnd)
	m := x.m
	f0 := int32(x.fields[x.seg.f0])
	x.seg.name = internName(m.raw[leafStart(x.leaves, f0):leafEnd(x.leaves, int32(x.fields[x.seg.f0+1])-1)])
	m.segs = append(m.segs, x.seg)
	x.open = false
}

// indexFrom indexes the segments of m.raw[from:], appending to the index
// arrays.
//
// A first pass counts the delimiters eight bytes at a time and notes
// where they are, so that the arrays are allocated once at their final
// size and the limit on delimiters is checked before any allocation. The
// second pass visits only the delimiters and records each as the start
// and kind of the value after it, without a data-dependent branch.
func (m *Message) indexFrom(from int, lim Limits) error {
	raw := m.raw
	if len(raw)+1 >= maxOffset {
		// Offsets, and the sentinel one past the end, must fit in a leaf.
		return errAt(CodeApplicationInternal, Location{}, "message exceeds 256 MiB")
	}
	d := m.delims
	cls := (*[256]uint8)(classesFor(d))
	body := raw[from:]
	mp := maskPool.Get().(*[]uint8)
	defer maskPool.Put(mp)
	if need := len(body)/8 + 1; cap(*mp) < need {
		*mp = make([]uint8, need)
	}
	masks := (*mp)[:len(body)/8+1]
	c := scan(body, d, cls, masks)
	if c.high {
		m.high = true
	}
	if c.delims > lim.MaxNodes {
		return errAt(CodeApplicationInternal, Location{},
			"message has "+strconv.Itoa(c.delims)+" delimiters, over the limit of "+strconv.Itoa(lim.MaxNodes))
	}
	segs := c.eols + 1
	needL := c.delims + 3*segs + 1
	needF := c.fields + 4*segs + 1
	if m.leaves == nil {
		back := make([]uint32, needL+needF)
		m.leaves, m.fields = back[:0:needL], back[needL:needL]
		m.segs = make([]segment, 0, min(segs, lim.MaxSegments))
	} else {
		m.leaves = slices.Grow(m.leaves, needL)
		m.fields = slices.Grow(m.fields, needF)
	}
	x := &indexer{m: m, cls: cls, maxSegs: lim.MaxSegments,
		leaves: m.leaves[:cap(m.leaves)], fields: m.fields[:cap(m.fields)],
		nl: len(m.leaves), nf: len(m.fields)}

	x.begin(from)
	leaves, fields := x.leaves, x.fields
	nl, nf, skip := x.nl, x.nf, x.skip
	for w, mask := range masks {
		pos := from + 8*w
		for mask != 0 {
			p := pos + bits.TrailingZeros8(mask)
			mask &= mask - 1
			if p < skip {
				continue
			}
			c := cls[raw[p]]
			if c == clsEOL {
				x.nl, x.nf = nl, nf
				if x.open {
					x.end(p)
				}
				x.begin(p + 1)
				if x.err != nil {
					return x.finish()
				}
				nl, nf, skip = x.nl, x.nf, x.skip
				continue
			}
			// The value after the delimiter starts at p+1; a field
			// separator also starts a field.
			leaves[nl] = uint32(p+1) | uint32(c)<<kindShift
			fields[nf] = uint32(nl)
			nl++
			nf += int(c >> 2) // clsField
		}
	}
	x.nl, x.nf = nl, nf
	if x.open {
		x.end(len(raw))
	}
	return x.finish()
}

// finish stores the index arrays in m.
func (x *indexer) finish() error {
	x.m.leaves, x.m.fields = x.leaves[:x.nl], x.fields[:x.nf]
	return x.err
}

func isHeaderName(b []byte) bool {
	switch string(b) {
	case "MSH", "FHS", "BHS":
		return true
	}
	return false
}
