package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// modelFrames is the framing of Reader written byte by byte, the plain
// way: FuzzReader checks that Reader, which reads in chunks, agrees with
// it whatever the chunking.
func modelFrames(in []byte, max int) []step {
	var steps []step
	i, skipCR := 0, false
	for {
		disc := 0
		for i < len(in) && in[i] != startBlock {
			if skipCR && in[i] == carriageReturn {
				i++
			} else {
				disc++
				i++
			}
			skipCR = false
		}
		if i == len(in) {
			return append(steps, step{err: io.EOF, discarded: disc})
		}
		i++ // VT
		skipCR = false
		var content []byte
		for {
			if i == len(in) {
				return append(steps, step{err: ErrUnterminated, partial: string(content), discarded: disc})
			}
			b := in[i]
			i++
			switch {
			case b == startBlock:
				disc += 1 + len(content)
				content = content[:0]
				continue
			case b == endBlock:
				steps = append(steps, step{frame: string(content), discarded: disc})
				skipCR = true
			case len(content) == max:
				return append(steps, step{err: ErrTooLarge, partial: string(content), discarded: disc})
			default:
				content = append(content, b)
				continue
			}
			break
		}
	}
}

// FuzzReader: no input panics or loops; frames hold no framing byte and
// respect the limit; chunked reading agrees with the byte-by-byte model.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\x0bMSH|^~\\&|A\rPID|1\r\x1c\r"), uint16(64), uint8(3))
	f.Add([]byte("junk\x0bmore\x0bA\x1c\r\x0b\x1c\r"), uint16(2), uint8(1))
	f.Add([]byte("\x0bA\x1cxy\x0bB\x1c\x0bC"), uint16(8), uint8(2))
	f.Add([]byte("\x0b0123456789abcdef0123456789\x1c\r"), uint16(20), uint8(5))
	f.Add([]byte("\r\n\x1c\r\x0b"), uint16(1), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, maxSize uint16, chunk uint8) {
		max := 1 + int(maxSize)%512
		want := modelFrames(in, max)
		r := NewReader(bufio.NewReaderSize(&chunkReader{data: in, n: 1 + int(chunk)%32}, 16), max)
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatalf("more results than input bytes: looping")
			}
			got, err := r.Next()
			if i >= len(want) {
				t.Fatalf("result %d beyond the model's %d: %q, %v", i, len(want), got, err)
			}
			w := want[i]
			if r.Discarded() != w.discarded {
				t.Fatalf("result %d: discarded %d, model %d", i, r.Discarded(), w.discarded)
			}
			if w.err == nil {
				if err != nil || string(got) != w.frame {
					t.Fatalf("result %d: %q, %v; model %q", i, got, err, w.frame)
				}
				if bytes.ContainsAny(got, "\x0b\x1c") || len(got) > max {
					t.Fatalf("result %d: bad frame %q", i, got)
				}
				continue
			}
			if !errors.Is(err, w.err) {
				t.Fatalf("result %d: error %v, model %v", i, err, w.err)
			}
			var fe *FrameError
			if errors.As(err, &fe) && string(fe.Data) != w.partial {
				t.Fatalf("result %d: partial %q, model %q", i, fe.Data, w.partial)
			}
			if i != len(want)-1 {
				t.Fatalf("stopped at %d of %d", i, len(want))
			}
			return
		}
	})
}
