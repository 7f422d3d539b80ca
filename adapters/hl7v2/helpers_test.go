package hl7v2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// MustParse parses ER7 text written with '\r' or '\n' line ends.
func MustParse(tb testing.TB, text string) *Message {
	tb.Helper()
	m, err := Parse([]byte(text))
	require.NoError(tb, err)
	return m
}

// MustGet reads a terse path.
func MustGet(tb testing.TB, m *Message, path string) Value {
	tb.Helper()
	v, err := m.Get(path)
	require.NoError(tb, err)
	return v
}

// MustReadTestdata parses testdata/<name>.
func MustReadTestdata(tb testing.TB, name string) *Message {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	m, err := Parse(data)
	require.NoError(tb, err, name)
	return m
}

// lines joins segments with CR.
func lines(segs ...string) string { return strings.Join(segs, "\r") + "\r" }

// asErr returns err as *Error or fails.
func asErr(tb testing.TB, err error) *Error {
	tb.Helper()
	require.Error(tb, err)
	e, ok := err.(*Error)
	require.True(tb, ok, "error %T is not *Error", err)
	return e
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	require.NoError(tb, err)
	return data
}
