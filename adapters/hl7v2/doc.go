// Package hl7v2 reads and writes HL7 version 2 messages in their ER7
// ("pipe and hat") encoding: parsing, encoding, escape sequences, terse
// path and datatype accessors, message structures, batch files and
// acknowledgments. It implements HL7 v2.5.1 chapter 2, "Control", and
// reads messages of versions 2.1 to 2.8:
//
//   - 2.5 Message framework and 2.6 Message construction rules: Parse,
//     Message, Segment, Value, Encode; segments ended by CR (LF and CRLF
//     tolerated, a UTF-8 byte order mark skipped); the delimiters each
//     message declares in MSH-1 and MSH-2 (section 2.5.4), including the
//     v2.7 truncation character; empty and null ("") values told apart
//     (section 2.5.3); Z-segments kept.
//   - 2.7 Use of escape sequences in text fields: Value.String,
//     Value.Text, Message.Escape; \Xhh\ in the character set of MSH-18
//     (section 2.15.9.18; ASCII, 8859/1, 8859/15, UNICODE UTF-8).
//   - 2.A Data types: ParseCX, ParseXPN, ParseXAD, ParseXTN, ParseXCN,
//     ParseHD, ParseCWE (CE, CNE), ParseCQ, ParseNM, ParseSN, ParseED,
//     ParseDTM and ParseTS, ParseEI, ParsePL, ParseMSG.
//   - 2.9 Message processing rules and 2.14.1 ACK: Decide decides between
//     original and enhanced acknowledgment mode and between accepting and
//     rejecting a message from its header (ParseHeader reads it from
//     broken input); BuildAck writes the ACK with MSA and ERR segments
//     carrying table 0357 codes (section 2.15.5).
//   - 2.10.3 HL7 batch protocol: SplitBatch with FHS/BHS/BTS/FTS and their
//     counts checked.
//   - 2.14.9 MSH: Header.
//
// Message structures of chapters 3, 4 and 7 are read into groups by
// ParseADT, ParseORU (ORU^R01), ParseORM (ORM^O01) and ParseOMI (OMI^O23).
//
// A parsed Message keeps the bytes it was given and an index of every
// delimiter, built in one pass over the input; values are unescaped and
// converted to UTF-8 only when read. Encoding a parsed message gives its
// bytes back, apart from segment terminators (always CR), a byte order
// mark and blank lines. Messages can also be built with NewMessage,
// AddSegment and Set, which escapes values.
//
// Errors are *Error values that carry a table 0357 code, a severity and
// a location (segment, sequence, field, repetition, component) so that
// an acknowledgment can report them in ERR segments. Their messages name
// positions and rules, never the values of a message: they can be logged.
// Message values may hold patient data; do not log them.
//
// No input makes the package panic, and Limits bound the size, segments
// and delimiters of what it parses.
package hl7v2
