package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

// step is one result of Reader.Next.
type step struct {
	frame     string
	discarded int
	err       error  // io.EOF, ErrTooLarge, ErrUnterminated, or nil
	partial   string // FrameError.Data
}

func TestReader(t *testing.T) {
	const msg = "MSH|^~\\&|A|B\rPID|1\r"
	tests := []struct {
		name  string
		in    string
		max   int
		steps []step
	}{
		{"one frame", "\x0b" + msg + "\x1c\r", 0, []step{{frame: msg}, {err: io.EOF}}},
		{"garbage before VT", "GET / HTTP/1.0\r\n\r\n\x0b" + msg + "\x1c\r", 0,
			[]step{{frame: msg, discarded: 18}, {err: io.EOF}}},
		{"VT inside garbage", "junk\x0bmore junk\x0b" + msg + "\x1c\r", 0,
			[]step{{frame: msg, discarded: 4 + 1 + 9}, {err: io.EOF}}},
		{"two frames in one write", "\x0bA\x1c\r\x0bB\x1c\r", 0,
			[]step{{frame: "A"}, {frame: "B"}, {err: io.EOF}}},
		{"empty frame", "\x0b\x1c\r\x0bB\x1c\r", 0, []step{{frame: ""}, {frame: "B"}, {err: io.EOF}}},
		{"garbage between frames", "\x0bA\x1c\r\r\nxx\x0bB\x1c\r", 0,
			[]step{{frame: "A"}, {frame: "B", discarded: 4}, {err: io.EOF}}},
		{"trailing garbage", "\x0bA\x1c\rxyz", 0, []step{{frame: "A"}, {err: io.EOF, discarded: 3}}},
		{"lone FS then VT", "\x0bA\x1c\x0bB\x1c\r", 0, []step{{frame: "A"}, {frame: "B"}, {err: io.EOF}}},
		{"lone FS then garbage", "\x0bA\x1cxy\x0bB\x1c\r", 0,
			[]step{{frame: "A"}, {frame: "B", discarded: 2}, {err: io.EOF}}},
		{"FS at end of stream", "\x0bA\x1c", 0, []step{{frame: "A"}, {err: io.EOF}}},
		{"FS in garbage", "\x1c\r\x1c\x0bA\x1c\r", 0, []step{{frame: "A", discarded: 3}, {err: io.EOF}}},
		{"restart inside frame", "\x0bMSH|partial\x0b" + msg + "\x1c\r", 0,
			[]step{{frame: msg, discarded: 12}, {err: io.EOF}}},
		{"at the limit", "\x0b12345\x1c\r", 5, []step{{frame: "12345"}, {err: io.EOF}}},
		{"too large", "\x0b123456\x1c\r\x0bB\x1c\r", 5, []step{{err: ErrTooLarge, partial: "12345"}}},
		{"restart before the limit", "\x0b1234\x0b12345\x1c\r", 5, []step{{frame: "12345", discarded: 5}, {err: io.EOF}}},
		{"EOF inside frame", "\x0b" + msg[:8], 0, []step{{err: ErrUnterminated, partial: msg[:8]}}},
		{"EOF after VT", "xx\x0b", 0, []step{{err: ErrUnterminated, discarded: 2}}},
		{"nothing", "", 0, []step{{err: io.EOF}}},
		{"only garbage", "\r\n\r\n", 0, []step{{err: io.EOF, discarded: 4}}},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
			for _, bufSize := range []int{16, 4096} {
				br := bufio.NewReaderSize(&chunkReader{data: []byte(tt.in), n: chunk}, bufSize)
				r := NewReader(br, tt.max)
				for i, want := range tt.steps {
					got, err := r.Next()
					where := []any{"%s: chunk %d, buffer %d, step %d", tt.name, chunk, bufSize, i}
					assert.Equal(t, want.discarded, r.Discarded(), where...)
					if want.err == nil {
						require.NoError(t, err, where...)
						assert.Equal(t, want.frame, string(got), where...)
						assert.NotNil(t, got, where...)
						continue
					}
					require.ErrorIs(t, err, want.err, where...)
					var fe *FrameError
					if errors.As(err, &fe) {
						assert.Equal(t, want.partial, string(fe.Data), where...)
						_, err = r.Next()
						assert.ErrorIs(t, err, errReaderBroken, "the reader is unusable after a frame error")
					}
				}
			}
		}
	}
}

func TestReaderCRAfterFSInLaterRead(t *testing.T) {
	// FS and CR in two TCP segments: the frame is returned at FS without
	// waiting for CR, and the CR is not reported as discarded.
	pr, pw := io.Pipe()
	r := NewReader(pr, 0)
	go func() {
		_, _ = pw.Write([]byte("\x0bA\x1c"))
		_, _ = pw.Write([]byte("\r"))
		_, _ = pw.Write([]byte("\x0bB\x1c\r"))
		_ = pw.Close()
	}()
	got, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))
	got, err = r.Next()
	require.NoError(t, err)
	assert.Equal(t, "B", string(got))
	assert.Zero(t, r.Discarded())
}

func TestReaderTimeoutInsideFrame(t *testing.T) {
	r := NewReader(iotest.TimeoutReader(bytes.NewReader([]byte("\x0bMSH|"))), 0)
	_, err := r.Next()
	require.ErrorIs(t, err, ErrUnterminated)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	var fe *FrameError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "MSH|", string(fe.Data))
	assert.NotContains(t, err.Error(), "MSH|", "error messages carry no content")
}

func TestReaderOnStart(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte("xx\x0bA\x1c\r\x0bB\x1c\r")), 0)
	starts := 0
	r.OnStart = func() { starts++ }
	for range 2 {
		_, err := r.Next()
		require.NoError(t, err)
	}
	_, err := r.Next()
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, 2, starts)
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteFrame(&b, []byte("MSH|1\r")))
	assert.Equal(t, "\x0bMSH|1\r\x1c\r", b.String())

	for _, bad := range []string{"a\x0bb", "a\x1cb"} {
		b.Reset()
		err := WriteFrame(&b, []byte(bad))
		require.ErrorIs(t, err, ErrInvalidContent)
		assert.Zero(t, b.Len(), "nothing written")
	}

	// Round trip.
	b.Reset()
	for _, m := range []string{"one", "", "three"} {
		require.NoError(t, WriteFrame(&b, []byte(m)))
	}
	r := NewReader(&b, 0)
	for _, m := range []string{"one", "", "three"} {
		got, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, m, string(got))
	}
}
