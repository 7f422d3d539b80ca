package rest

import (
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadAll checks that a body is read whole whatever its announced
// length says: exact, unknown, shorter or longer than announced, over the
// limit, and in one-byte reads.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("0123456789", 100)
	for _, c := range []struct {
		name        string
		length, max int64
		oneByte     bool
	}{
		{"exact", 1000, 1 << 20, false},
		{"unknown", -1, 1 << 20, false},
		{"announced shorter", 10, 1 << 20, false},
		{"announced longer", 5000, 1 << 20, false},
		{"announced over the limit", 1000, 100, false},
		{"one byte at a time", 1000, 1 << 20, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := strings.NewReader(body)
			var got []byte
			var err error
			if c.oneByte {
				got, err = readAll(iotest.OneByteReader(r), c.length, c.max)
			} else {
				got, err = readAll(r, c.length, c.max)
			}
			require.NoError(t, err)
			assert.Equal(t, body, string(got))
		})
	}
}
