// Package mllp is the MLLP release 2 transport of HL7 version 2 messages:
// the Minimal Lower Layer Protocol of HL7 v2.5.1 Appendix C and of the HL7
// Transport Specification "MLLP, Release 2". It provides framing (Reader,
// WriteFrame), a listener that calls a Handler for each frame and writes
// the reply it returns (Server), a sender that waits for each
// acknowledgment and retries on a new connection (Client), and the reading
// of message files for sending them (ReadMessages, SendMessages).
//
// A block on the wire is
//
//	<VT 0x0B> content <FS 0x1C><CR 0x0D>
//
// where the content is one HL7 message (or its acknowledgment), which the
// specification forbids to hold VT or FS. Bytes outside blocks are dropped
// and counted, never logged.
//
// The package is a transport: it never decides what an acknowledgment
// says. The Handler does, typically with hl7v2.ParseHeader, hl7v2.Decide
// and hl7v2.BuildAck, and it answers only after the message is stored
// durably ("ACK after commit"), so that a sender whose connection breaks
// resends and the receiver de-duplicates by control id (MSH-10).
//
// Message bodies may hold patient data: this package logs connection ids,
// addresses, sizes and counts, never content.
package mllp
