package mllp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// ErrNotAccepted: SendMessages sent messages that were not accepted, or
// could not send some.
var ErrNotAccepted = errors.New("mllp: messages not accepted")

// SendResult is what became of one message sent by SendMessages.
type SendResult struct {
	File      string
	Index     int    // position in File, from 1
	ControlID string // MSH-10 of the message; "" when its MSH is unreadable
	Code      string // MSA-1 of the acknowledgment: AA, AE, AR, CA, CE, CR
	Text      string // MSA-3 of the acknowledgment
	// Err is why no usable acknowledgment came: the message could not be
	// sent, the acknowledgment could not be read, or it acknowledges
	// another control id (MSA-2).
	Err error
	// NoAck is set for a message sent without waiting for an
	// acknowledgment because it asked for none (MSH-15 NE).
	NoAck bool
}

// Accepted reports whether the receiver accepted the message: MSA-1 AA,
// or CA (enhanced mode: committed to safe storage, application
// acknowledgment to follow).
func (r SendResult) Accepted() bool {
	return r.Err == nil && (r.NoAck || r.Code == string(hl7v2.AckAccept) || r.Code == string(hl7v2.AckCommitAccept))
}

// Line returns the result as one tab-separated line, without newline:
//
//	<file> <control id> <MSA-1> <MSA-3>
//
// An empty column is "-"; without an acknowledgment the code is "-" and
// the text is the error. Tabs and line breaks inside values become spaces.
func (r SendResult) Line() string {
	text := r.Text
	if r.Err != nil {
		text = r.Err.Error()
	}
	return strings.Join([]string{column(r.File), column(r.ControlID), column(r.Code), column(text)}, "\t")
}

func column(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" {
		return "-"
	}
	return s
}

// SendMessages sends msgs in order through c, each after the
// acknowledgment of the one before, and writes the Line of each result to
// w as it comes. It stops at the first message that could not be sent
// (the receiver is unreachable, and sending later messages first would
// reorder them); a negative acknowledgment does not stop it.
//
// The error is nil when every message was accepted; otherwise it wraps
// ErrNotAccepted (with counts), or ctx.Err(), or the error of w.
func SendMessages(ctx context.Context, c *Client, msgs []FileMessage, w io.Writer) ([]SendResult, error) {
	results := make([]SendResult, 0, len(msgs))
	rejected := 0
	for _, m := range msgs {
		r := SendResult{File: m.File, Index: m.Index}
		h, herr := hl7v2.ParseHeader(m.Data)
		if herr == nil {
			r.ControlID = h.ControlID
		}
		var ack []byte
		var sendErr error
		if herr == nil && h.AcceptAckType == "NE" {
			// Enhanced mode without accept acknowledgment: the receiver
			// answers nothing on this connection.
			r.NoAck, r.Text = true, "sent; no acknowledgment requested (MSH-15 NE)"
			sendErr = c.Post(ctx, m.Data)
		} else {
			ack, sendErr = c.Send(ctx, m.Data)
		}
		switch {
		case sendErr == nil && !r.NoAck:
			r.Code, r.Text, r.Err = readAck(ack, r.ControlID)
		case sendErr == nil:
		case ctx.Err() != nil:
			return results, fmt.Errorf("mllp: send messages: %w", ctx.Err())
		default:
			r.Err = sendErr
		}
		results = append(results, r)
		if _, werr := fmt.Fprintln(w, r.Line()); werr != nil {
			return results, fmt.Errorf("mllp: send messages: %w", werr)
		}
		if !r.Accepted() {
			rejected++
		}
		if sendErr != nil {
			return results, fmt.Errorf("%w: %d of %d; stopped at a send failure with %d not sent",
				ErrNotAccepted, rejected, len(msgs), len(msgs)-len(results))
		}
	}
	if rejected > 0 {
		return results, fmt.Errorf("%w: %d of %d", ErrNotAccepted, rejected, len(msgs))
	}
	return results, nil
}

// readAck reads MSA-1 and MSA-3 of an acknowledgment and checks that
// MSA-2 is controlID (when known).
func readAck(ack []byte, controlID string) (code, text string, err error) {
	m, err := hl7v2.Parse(ack)
	if err != nil {
		return "", "", fmt.Errorf("acknowledgment unreadable: %w", err)
	}
	msa := m.Segment("MSA", 1)
	if !msa.Exists() {
		return "", "", errors.New("acknowledgment has no MSA segment")
	}
	code, text = msa.Field(1).String(), msa.Field(3).String()
	if got := msa.Field(2).String(); controlID != "" && got != controlID {
		return code, text, fmt.Errorf("acknowledgment is for control id %q (MSA-2), not %q", got, controlID)
	}
	return code, text, nil
}
