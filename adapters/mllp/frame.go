package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Framing bytes of MLLP release 2.
const (
	startBlock     = 0x0B // VT, start of a block
	endBlock       = 0x1C // FS, end of the content
	carriageReturn = 0x0D // CR, after FS
)

// DefaultMaxMessageSize is the largest frame content accepted by default:
// 4 MiB, which admits reports with embedded documents (ED in OBX-5).
const DefaultMaxMessageSize = 4 << 20

// maxMessageSizeLimit bounds MaxMessageSize settings (the hl7v2 package
// parses at most 256 MiB).
const maxMessageSizeLimit = 256 << 20

// Errors of framing. A *FrameError wraps ErrTooLarge or ErrUnterminated.
var (
	// ErrTooLarge: the content of a frame is larger than the limit.
	ErrTooLarge = errors.New("mllp: frame too large")
	// ErrUnterminated: the stream ended, or a read failed or timed out,
	// inside a frame.
	ErrUnterminated = errors.New("mllp: unterminated frame")
	// ErrInvalidContent: content to be framed holds a VT or FS byte,
	// which MLLP forbids and the receiver would take for framing.
	ErrInvalidContent = errors.New("mllp: content holds a framing byte (VT or FS)")
)

// FrameError is the error of a frame that could not be read whole. Its
// message gives sizes and causes, never content: it can be logged.
type FrameError struct {
	// Err is ErrTooLarge or ErrUnterminated.
	Err error
	// Data is the content read: the first Limit bytes of a frame too
	// large, all that came of an unterminated one. It may hold patient
	// data, and is usually enough to read the MSH for a negative ACK.
	Data []byte
	// Limit is the size limit of the reader, for ErrTooLarge.
	Limit int
	// Cause is the read error that ended an unterminated frame: io.EOF,
	// a timeout (os.ErrDeadlineExceeded), a reset connection.
	Cause error
}

func (e *FrameError) Error() string {
	if errors.Is(e.Err, ErrTooLarge) {
		return e.Err.Error() + ": content exceeds " + strconv.Itoa(e.Limit) + " bytes"
	}
	s := e.Err.Error() + ": " + strconv.Itoa(len(e.Data)) + " bytes read"
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns Err and Cause, so that errors.Is finds ErrTooLarge,
// ErrUnterminated, io.EOF or os.ErrDeadlineExceeded.
func (e *FrameError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// errReaderBroken is returned by Next after a FrameError: the position in
// the stream is lost and the connection must be closed.
var errReaderBroken = errors.New("mllp: reader unusable after a framing error")

// Reader reads MLLP frames from a byte stream.
//
// Bytes before a start block (VT) are discarded and counted (Discarded).
// A frame ends at FS; the CR that should follow is consumed when it comes.
// Tolerances, for senders that do not quite follow the specification:
//
//   - A lone FS (followed by anything but CR, or by nothing yet) ends the
//     frame too. MLLP forbids FS inside content, so it can only be an end
//     block, and a sender that omits the CR and waits for its ACK would
//     otherwise wait for ever. The byte after it is then outside any
//     frame: a VT starts the next frame, anything else is discarded. (Mirth
//     keeps a lone FS as content; GoogleCloudPlatform/mllp fails the frame.)
//   - A VT inside a frame starts a new frame: the sender started over (a
//     sender that gave up on a frame and resends it on the same
//     connection), or garbage held a VT. What came before is discarded.
//   - An empty frame (VT FS CR) is returned as empty content.
//
// Content larger than the limit gives a *FrameError wrapping ErrTooLarge
// with the first bytes of the frame; the end of the stream or a failed
// read inside a frame gives one wrapping ErrUnterminated with what came.
// After either the Reader only returns errors: close the connection.
//
// A Reader is not safe for concurrent use. Memory: the buffer of the
// bufio.Reader plus the content of one frame, at most the limit.
type Reader struct {
	// OnStart, when set, is called when the start block of a frame has
	// been read, before its content: the listener switches from its idle
	// timeout to its read timeout there.
	OnStart func()

	br        *bufio.Reader
	max       int
	discarded int
	skipCR    bool // the last frame ended with FS not yet followed by CR
	err       error
}

// NewReader returns a Reader of frames from r with a content limit of
// maxSize bytes (DefaultMaxMessageSize when maxSize <= 0). r is used as
// is when it is a *bufio.Reader, else it is buffered with 32 KiB.
func NewReader(r io.Reader, maxSize int) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 32<<10)
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	return &Reader{br: br, max: maxSize}
}

// Discarded returns the number of bytes outside frames (and of frames
// abandoned by a new start block) that the last call to Next dropped.
func (r *Reader) Discarded() int { return r.discarded }

// Next reads the next frame and returns its content, a new slice the
// caller owns. Between frames it returns the read error as is: io.EOF for
// a stream that ended cleanly (perhaps after discarded bytes), a timeout
// while waiting for a frame. Inside a frame it returns a *FrameError.
func (r *Reader) Next() ([]byte, error) {
	r.discarded = 0
	if r.err != nil {
		return nil, r.err
	}
	if err := r.seekStart(); err != nil {
		return nil, err
	}
	if r.OnStart != nil {
		r.OnStart()
	}
	return r.readContent()
}

// seekStart consumes bytes up to and including the next start block.
func (r *Reader) seekStart() error {
	for {
		chunk, err := r.br.ReadSlice(startBlock)
		n := len(chunk)
		if err == nil {
			n-- // the VT
		}
		if r.skipCR && len(chunk) > 0 {
			r.skipCR = false
			if chunk[0] == carriageReturn {
				n-- // the CR of the previous frame's end block
			}
		}
		r.discarded += n
		switch err {
		case nil:
			return nil
		case bufio.ErrBufferFull:
			continue
		default:
			return err
		}
	}
}

// readContent reads the content of a frame whose start block was read.
func (r *Reader) readContent() ([]byte, error) {
	var content []byte
	for {
		chunk, err := r.br.ReadSlice(endBlock)
		ended := err == nil
		body := chunk
		if ended {
			body = chunk[:len(chunk)-1]
		}
		// Take body in order, so that the result does not depend on how
		// the stream was cut into reads: a VT restarts the frame, and the
		// frame is too large as soon as one byte more than the limit
		// comes before its end.
		for {
			part, rest, restart := bytes.Cut(body, []byte{startBlock})
			if len(content)+len(part) > r.max {
				content = append(content, part[:r.max-len(content)]...)
				return nil, r.fail(&FrameError{Err: ErrTooLarge, Data: content, Limit: r.max})
			}
			content = append(content, part...)
			if !restart {
				break
			}
			// The sender started over: drop the abandoned frame (its VT
			// and content).
			r.discarded += 1 + len(content)
			content, body = content[:0], rest
		}
		if ended {
			r.afterEnd()
			if content == nil {
				content = []byte{}
			}
			return content, nil
		}
		if err != bufio.ErrBufferFull {
			return nil, r.fail(&FrameError{Err: ErrUnterminated, Data: content, Limit: r.max, Cause: err})
		}
	}
}

// afterEnd consumes the CR after FS when it has arrived, and otherwise
// lets seekStart skip it, so that a sender that sends FS and CR in two
// segments is not made to wait and is not reported as sending garbage.
func (r *Reader) afterEnd() {
	if r.br.Buffered() == 0 {
		r.skipCR = true
		return
	}
	if b, _ := r.br.Peek(1); len(b) == 1 && b[0] == carriageReturn {
		_, _ = r.br.Discard(1)
	}
}

func (r *Reader) fail(e *FrameError) error {
	r.err = errReaderBroken
	return e
}

// WriteFrame writes content as one MLLP block (VT content FS CR) in a
// single Write. Content holding VT or FS is refused with an error
// wrapping ErrInvalidContent, and nothing is written. It costs a copy of
// content (a frameWriter reuses its buffer instead).
func WriteFrame(w io.Writer, content []byte) error {
	var fw frameWriter
	return fw.write(w, content)
}

// checkContent returns an error wrapping ErrInvalidContent when content
// holds VT or FS.
func checkContent(content []byte) error {
	if i := bytes.IndexAny(content, "\x0b\x1c"); i >= 0 {
		return fmt.Errorf("%w: byte 0x%02x at offset %d", ErrInvalidContent, content[i], i)
	}
	return nil
}

// maxKeptFrame is the largest frame buffer a frameWriter keeps between
// writes; a larger one, for a rare large message, is let go.
const maxKeptFrame = 64 << 10

// frameWriter writes frames as WriteFrame does, reusing one buffer for
// the framed copy, for a connection's writes (which are sequential).
type frameWriter struct {
	buf []byte
}

// write writes content as one frame to w in a single Write.
func (fw *frameWriter) write(w io.Writer, content []byte) error {
	if err := checkContent(content); err != nil {
		return err
	}
	buf := append(fw.buf[:0], startBlock)
	buf = append(buf, content...)
	buf = append(buf, endBlock, carriageReturn)
	if cap(buf) <= maxKeptFrame {
		fw.buf = buf
	}
	_, err := w.Write(buf)
	return err
}
