package hl7v2

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds adds every corpus message as a seed.
func fuzzSeeds(f *testing.F) {
	msgs, _ := corpus(f)
	for _, c := range msgs {
		if len(c.data) < 64<<10 {
			f.Add(c.data)
		}
	}
	f.Add([]byte("MSH|^~\\&#|\rPID|\\X\\|\\.sp 99999999\\"))
	f.Add([]byte("MSH|^~|A\nB|C\r\r\nZZZ"))
}

// fuzzLimits keep the fuzzer's inputs cheap.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxSegments: 5000, MaxNodes: 100000}

// FuzzParse: no input panics; a parsed message encodes to its input
// (normalised), re-parses to the same encoding, and every node reads.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseWithLimits(data, fuzzLimits)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %v", err)
			}
			return
		}
		enc := m.Encode()
		want := normalizeTerminators(data[skipPreamble(data):])
		if !bytes.Equal(enc, want) {
			t.Fatalf("encode(parse(m)) != m:\n%q\n%q", enc, want)
		}
		m2, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(m2.Encode(), enc) {
			t.Fatal("encoding not stable")
		}
		walk(m)
		h := m.Header()
		h.Validate()
		_ = h.Structure()
		ParseADT(m)
		ParseORU(m)
		ParseORM(m)
		ParseOMI(m)
		// Setting a value reads back.
		if err := m.Set("ZFZ-1", "x"); err == nil {
			t.Fatal("Set on a missing segment succeeded")
		}
		if s := m.SegmentAt(m.Len() - 1); s.Name() != "MSH" && s.Name() != "" {
			p := s.Name() + "-3[2].2"
			if _, err := ParsePath(p); err == nil {
				if err := m.Set(p, "a|b^c"); err == nil {
					if v, _ := m.Get(p); m.Delimiters().Escape != 0 && v.String() != "a|b^c" {
						t.Fatalf("Set %s then Get = %q", p, v.String())
					}
					if _, err := Parse(m.Encode()); err != nil {
						t.Fatalf("re-parse after Set: %v", err)
					}
				}
			}
		}
	})
}

// walk reads every node of m through every accessor.
func walk(m *Message) {
	for s := range m.Segments() {
		for f := 0; f <= s.NumFields(); f++ {
			fv := s.Field(f)
			_ = fv.Text()
			for r := range fv.Reps() {
				ParseCX(r)
				ParseXPN(r)
				ParseXAD(r)
				ParseXTN(r)
				ParseXCN(r)
				ParseED(r).Bytes()
				ParsePL(r)
				ParseSN(r)
				ParseCQ(r)
				ParseTS(r, nil)
				for cv := range r.Parts() {
					for sv := range cv.Parts() {
						_, _, _ = sv.String(), sv.Text(), sv.IsNull()
						ParseNM(sv.String())
					}
				}
			}
		}
	}
}

// FuzzSplitBatch: no input panics; a split file puts its segments back
// together in order.
func FuzzSplitBatch(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|\rPID|\rBTS|1\rFTS|1\r"))
	f.Add([]byte("BHS|^~\\&\nMSH|^~\\&|\nBTS|x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := SplitBatchWithLimits(data, fuzzLimits)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %v", err)
			}
		}
		if file == nil {
			return
		}
		var got []byte
		seg := func(s Segment) {
			if s.Exists() {
				got = append(append(got, s.Encode()...), '\r')
			}
		}
		seg(file.Header)
		for _, b := range file.Batches {
			seg(b.Header)
			for _, m := range b.Messages {
				got = append(got, m...)
				_, _ = ParseWithLimits(m, fuzzLimits)
			}
			seg(b.Trailer)
		}
		seg(file.Trailer)
		if want := normalizeTerminators(data[skipPreamble(data):]); !bytes.Equal(got, want) {
			t.Fatalf("split does not reassemble:\n%q\n%q", got, want)
		}
	})
}

// FuzzAck: whatever arrives, the receiver can build an acknowledgment
// that parses, echoes MSH-10 and carries the decided code, and its bytes
// are those of the oracle built with Set (buildAckOracle).
func FuzzAck(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("garbage\x00MSH|^~\\&|A|B|C|D|x||ADT^A01|1|P|2.3|||AL"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data)
		if err != nil && h != nil {
			t.Fatal("header and error")
		}
		d := Decide(h, err, DefaultPolicy())
		code, _ := d.Ack(OutcomeAccepted)
		opts := AckOptions{Code: code, ControlID: "ACK1", Errors: d.Errors, Text: "fuzz", Now: ackNow}
		ack, err := BuildAck(h, opts)
		if err != nil {
			t.Fatalf("BuildAck: %v", err)
		}
		if want, err := buildAckOracle(h, opts); err != nil || !bytes.Equal(ack, want) {
			t.Fatalf("BuildAck differs from the oracle (%v):\n%q\n%q", err, ack, want)
		}
		m, err := Parse(ack)
		if err != nil {
			t.Fatalf("ACK does not parse: %v\n%q", err, ack)
		}
		if got := m.Segment("MSA", 1).Field(1).String(); got != string(code) {
			t.Fatalf("MSA-1 = %q, want %q", got, code)
		}
		if h != nil {
			if got, want := m.Segment("MSA", 1).Field(2).Raw(), h.msh.Field(10).Raw(); got != want {
				t.Fatalf("MSA-2 = %q, want %q", got, want)
			}
			if got := m.SegmentAt(0).Field(3).Raw(); got != h.msh.Field(5).Raw() {
				t.Fatalf("MSH-3 = %q, want MSH-5 of the message %q", got, h.msh.Field(5).Raw())
			}
		}
	})
}

// FuzzAckText: the direct encoder and the oracle agree on any text,
// control id and error message, in any header.
func FuzzAckText(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5.1"), "text", "ID1", "why", uint8(1))
	f.Add([]byte("MSH!@*?%!A!B!C@x%y!D!x!!ADT@A01!9!P!2.4!!!!!!8859/1"), "Müller!", "a!b", "\"\"", uint8(2))
	f.Add([]byte("MSH|^~|A|B|C|D|x||ADT^A01|9|P|2.3|||||DE|8859/15"), "\"\"", "~", "€ \r\n", uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, text, id, msg string, code uint8) {
		h, err := ParseHeader(data)
		if err != nil {
			h = nil
		}
		codes := []AckCode{AckAccept, AckError, AckReject, AckCommitAccept, AckCommitError, AckCommitReject}
		opts := AckOptions{Code: codes[int(code)%len(codes)], ControlID: id, Text: text, Now: ackNow,
			Errors: []*Error{{Code: Code(code), Severity: Severity(code % 3 * 30), Loc: Location{Segment: msg, Field: int(code)}, Msg: msg}}}
		if id == "" {
			opts.ControlID = "ACK1"
		}
		got, gerr := BuildAck(h, opts)
		want, werr := buildAckOracle(h, opts)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("BuildAck differs from the oracle (%v / %v):\n%q\n%q", gerr, werr, got, want)
		}
	})
}

// FuzzEscape: a value set with Set reads back unchanged with String.
func FuzzEscape(f *testing.F) {
	f.Add("plain", false)
	f.Add("a|b^c~d\\e&f#g\r\nh \\.br\\ \\X41\\ é ü 中", false)
	f.Add("Müller\\S\\", true)
	f.Fuzz(func(t *testing.T, s string, latin1 bool) {
		if !utf8.ValidString(s) {
			return
		}
		d := DefaultDelimiters()
		d.Truncation = '#'
		m, err := NewMessage(d)
		if err != nil {
			t.Fatal(err)
		}
		if latin1 {
			if err := m.Set("MSH-18", "8859/1"); err != nil {
				t.Fatal(err)
			}
			for _, r := range s {
				if r > 0xFF {
					return
				}
			}
		}
		if _, err := m.AddSegment("ZZZ"); err != nil {
			t.Fatal(err)
		}
		if err := m.Set("ZZZ-2[2].3.1", s); err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Get("ZZZ-2[2].3.1"); got.String() != s {
			t.Fatalf("got %q want %q", got.String(), s)
		}
		m2, err := Parse(m.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := m2.Get("ZZZ-2[2].3.1"); got.String() != s {
			t.Fatalf("after parse(encode): got %q want %q", got.String(), s)
		}
	})
}
