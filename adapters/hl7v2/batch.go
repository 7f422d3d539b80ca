package hl7v2

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is an HL7 batch file (HL7 v2.5.1 section 2.10.3, "HL7 batch
// protocol"):
//
//	[FHS] { [BHS] { MSH ... } [BTS] } [FTS]
//
// Header and Trailer are the FHS and FTS segments, zero when absent.
type File struct {
	Header, Trailer Segment
	Batches         []Batch
}

// Batch is one batch of a File. Header and Trailer are its BHS and BTS,
// zero for messages outside any BHS. Messages holds each message's bytes,
// every segment ended by CR, ready for Parse or for sending.
type Batch struct {
	Header, Trailer Segment
	Messages        [][]byte
}

// NumMessages returns the number of messages in all batches.
func (f *File) NumMessages() int {
	n := 0
	for _, b := range f.Batches {
		n += len(b.Messages)
	}
	return n
}

// SplitBatch splits a batch file into batches and messages with
// DefaultLimits.
func SplitBatch(data []byte) (*File, error) {
	return SplitBatchWithLimits(data, DefaultLimits())
}

// SplitBatchWithLimits splits a batch file into batches and messages. It
// accepts a file with or without FHS/FTS and BHS/BTS envelopes (plain
// concatenated messages too), segments ended by CR, LF or CRLF, and blank
// lines. lim.MaxBytes bounds the file and lim.MaxSegments the segments of
// the file.
//
// An FHS or BHS that is not closed by its FTS or BTS, a trailer without
// its header, a segment before the first MSH or after the FTS is a
// CodeSegmentSequence error, and nil is returned. A trailer count that
// does not match (BTS-1 "batch message count", FTS-1 "file batch count")
// is a CodeSegmentSequence error too, returned with the File so that the
// caller can still use the messages; a count that is not a number is a
// CodeDataType error, also returned with the File.
func SplitBatchWithLimits(data []byte, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, errAt(CodeApplicationInternal, Location{},
			"batch of "+strconv.Itoa(len(data))+" bytes exceeds the limit of "+strconv.Itoa(lim.MaxBytes))
	}
	data = data[skipPreamble(data):]
	if len(data) < 4 {
		return nil, errAt(CodeSegmentSequence, Location{Position: 1}, "batch does not start with FHS, BHS or MSH")
	}
	first := string(data[:3])
	if first != "FHS" && first != "BHS" && first != "MSH" {
		return nil, errAt(CodeSegmentSequence, Location{Segment: first, Sequence: 1, Position: 1},
			"batch does not start with FHS, BHS or MSH")
	}
	d, _, err := delimitersFrom(data)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Loc.Segment = first
		}
		return nil, err
	}
	env := &Message{delims: d}
	if !utf8.Valid(data) {
		env.charset = CharsetLatin1
	}
	s := &splitter{f: &File{}, env: env, seq: map[string]int{}}
	pos := 0
	for len(data) > 0 {
		line := data
		next := len(data)
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			line, next = data[:i], i+1
		}
		data = data[next:]
		if len(line) == 0 {
			continue
		}
		pos++
		if pos > lim.MaxSegments {
			return nil, errAt(CodeApplicationInternal, Location{},
				"batch has more than "+strconv.Itoa(lim.MaxSegments)+" segments")
		}
		if err := s.line(line, pos); err != nil {
			return nil, err
		}
	}
	return s.finish()
}

type splitter struct {
	f        *File
	env      *Message
	seq      map[string]int
	batch    *Batch // the open batch
	explicit bool   // the open batch started with a BHS
	msg      []byte // the open message
	closed   bool   // FTS seen
}

func (s *splitter) loc(name string, pos int) Location {
	return Location{Segment: name, Sequence: s.seq[name], Position: pos}
}

// envelope adds an envelope segment to the envelope message.
func (s *splitter) envelope(line []byte) (Segment, error) {
	if err := s.env.appendSegmentText(append([]byte(nil), line...)); err != nil {
		return Segment{}, err
	}
	return s.env.SegmentAt(s.env.Len() - 1), nil
}

func (s *splitter) endMessage() {
	if s.msg != nil {
		s.batch.Messages = append(s.batch.Messages, s.msg)
		s.msg = nil
	}
}

func (s *splitter) line(line []byte, pos int) error {
	name := string(line[:min(3, len(line))])
	s.seq[name]++
	if s.closed {
		return errAt(CodeSegmentSequence, s.loc(name, pos), "segment after the file trailer FTS")
	}
	switch name {
	case "FHS":
		if pos != 1 {
			return errAt(CodeSegmentSequence, s.loc(name, pos), "FHS is not the first segment")
		}
		seg, err := s.envelope(line)
		s.f.Header = seg
		return err
	case "BHS":
		s.endMessage()
		if s.explicit && !s.batch.Trailer.Exists() {
			return errAt(CodeSegmentSequence, s.loc(name, pos), "BHS before the previous batch's trailer BTS")
		}
		seg, err := s.envelope(line)
		s.f.Batches = append(s.f.Batches, Batch{Header: seg})
		s.batch, s.explicit = &s.f.Batches[len(s.f.Batches)-1], true
		return err
	case "BTS":
		s.endMessage()
		if !s.explicit || s.batch.Trailer.Exists() {
			return errAt(CodeSegmentSequence, s.loc(name, pos), "BTS without a batch header BHS")
		}
		seg, err := s.envelope(line)
		s.batch.Trailer = seg
		return err
	case "FTS":
		s.endMessage()
		if !s.f.Header.Exists() {
			return errAt(CodeSegmentSequence, s.loc(name, pos), "FTS without a file header FHS")
		}
		if s.explicit && !s.batch.Trailer.Exists() {
			return errAt(CodeSegmentSequence, s.loc(name, pos), "FTS before the batch trailer BTS")
		}
		seg, err := s.envelope(line)
		s.f.Trailer, s.closed = seg, true
		return err
	case "MSH":
		s.endMessage()
		if s.batch == nil || (s.explicit && s.batch.Trailer.Exists()) {
			s.f.Batches = append(s.f.Batches, Batch{})
			s.batch, s.explicit = &s.f.Batches[len(s.f.Batches)-1], false
		}
		s.msg = append(append(make([]byte, 0, len(line)+1), line...), '\r')
		return nil
	}
	if s.msg == nil {
		return errAt(CodeSegmentSequence, s.loc(name, pos), "segment outside a message")
	}
	s.msg = append(append(s.msg, line...), '\r')
	return nil
}

func (s *splitter) finish() (*File, error) {
	s.endMessage()
	f := s.f
	if s.explicit && !s.batch.Trailer.Exists() {
		return nil, errAt(CodeSegmentSequence, Location{Segment: "BTS"}, "batch trailer BTS missing")
	}
	if f.Header.Exists() && !f.Trailer.Exists() {
		return nil, errAt(CodeSegmentSequence, Location{Segment: "FTS"}, "file trailer FTS missing")
	}
	for i, b := range f.Batches {
		if err := checkCount(b.Trailer, len(b.Messages), "BTS-1 batch message count", i+1); err != nil {
			return f, err
		}
	}
	if err := checkCount(f.Trailer, len(f.Batches), "FTS-1 file batch count", 1); err != nil {
		return f, err
	}
	return f, nil
}

// checkCount compares field 1 of a trailer with the count it should hold.
func checkCount(trailer Segment, have int, what string, seq int) error {
	if !trailer.Exists() {
		return nil
	}
	text := strings.TrimSpace(trailer.Field(1).String())
	if text == "" {
		return nil
	}
	loc := Location{Segment: trailer.Name(), Sequence: seq, Field: 1}
	n, err := strconv.Atoi(text)
	if err != nil {
		return errAt(CodeDataType, loc, what+" is not a number")
	}
	if n != have {
		return errAt(CodeSegmentSequence, loc,
			what+" is "+strconv.Itoa(n)+" but there are "+strconv.Itoa(have))
	}
	return nil
}
