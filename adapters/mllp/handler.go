package mllp

import (
	"context"
	"crypto/x509"
	"net"
	"time"
)

// Handler is what the listener calls for each frame it reads. It returns
// the content to send back in one frame (an acknowledgment), or nil to
// send nothing. Calls for one connection are sequential, in the order of
// the frames, so that acknowledgments keep the order of the messages;
// calls for different connections are concurrent.
//
// A handler should answer only once the message is stored durably. The
// context is cancelled when the server is closed without draining
// (Server.Close, or Shutdown past its deadline). A panic is recovered and
// closes the connection.
type Handler interface {
	ServeMLLP(ctx context.Context, m *Message) []byte
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) []byte

// ServeMLLP returns f(ctx, m).
func (f HandlerFunc) ServeMLLP(ctx context.Context, m *Message) []byte { return f(ctx, m) }

// Message is one frame received.
type Message struct {
	// Data is the content of the frame; for a frame that could not be read
	// whole (Err set), the part read. The handler owns it.
	Data []byte
	// Err is nil, or a *FrameError wrapping ErrTooLarge or
	// ErrUnterminated. The handler may answer with a negative
	// acknowledgment (AR) when it can read an MSH from Data; the reply is
	// written and the connection is then closed.
	Err error
	// Conn describes the connection the frame came on.
	Conn ConnInfo
	// ReceivedAt is when the frame was read whole (Config.Now).
	ReceivedAt time.Time
}

// ConnInfo describes a connection.
type ConnInfo struct {
	// ID numbers the connections of a Server from 1, for logs.
	ID                    uint64
	RemoteAddr, LocalAddr net.Addr
	// PeerCertificates are the certificates the client presented over
	// TLS, leaf first, verified when the tls.Config asks it to
	// (tls.RequireAndVerifyClientCert); nil without TLS.
	PeerCertificates []*x509.Certificate
}
