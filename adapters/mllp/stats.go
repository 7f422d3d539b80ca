package mllp

import "sync/atomic"

// Stats are counters of a Server since it was created.
type Stats struct {
	Accepted       uint64 // connections accepted
	Refused        uint64 // connections closed at once: MaxConnections reached
	Active         int64  // connections open now
	Messages       uint64 // frames read whole and handed to the handler
	Replies        uint64 // replies written
	DiscardedBytes uint64 // bytes dropped outside frames
	TooLarge       uint64 // frames larger than MaxMessageSize
	Unterminated   uint64 // frames cut by the end of the stream or a read error
	Timeouts       uint64 // connections closed by the read, idle or write timeout
	TLSFailures    uint64 // failed TLS handshakes
	Panics         uint64 // handler panics recovered
}

// counters is the atomic form of Stats.
type counters struct {
	accepted, refused, messages, replies, discarded       atomic.Uint64
	tooLarge, unterminated, timeouts, tlsFailures, panics atomic.Uint64
	active                                                atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Accepted:       c.accepted.Load(),
		Refused:        c.refused.Load(),
		Active:         c.active.Load(),
		Messages:       c.messages.Load(),
		Replies:        c.replies.Load(),
		DiscardedBytes: c.discarded.Load(),
		TooLarge:       c.tooLarge.Load(),
		Unterminated:   c.unterminated.Load(),
		Timeouts:       c.timeouts.Load(),
		TLSFailures:    c.tlsFailures.Load(),
		Panics:         c.panics.Load(),
	}
}
