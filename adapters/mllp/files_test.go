package mllp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MustWriteFile writes a file under dir, creating directories.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(tb, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// lf writes a message with LF line ends, as text editors save it.
func lf(id string) string { return strings.ReplaceAll(string(testMessage(id)), "\r", "\n") }

func TestReadMessages(t *testing.T) {
	batch := "FHS|^~\\&|LIS|LAB|FHIRHUB|HOSP|20250316020500||NIGHT.hl7\n" +
		"BHS|^~\\&|LIS|LAB|FHIRHUB|HOSP|20250316020500\n" +
		lf("B1-1") + lf("B1-2") +
		"BTS|2\n" +
		"BHS|^~\\&|LIS|LAB|FHIRHUB|HOSP|20250316020500\n" +
		lf("B2-1") +
		"BTS|1\n" +
		"FTS|2\n"
	tests := []struct {
		name    string
		content string
		ids     []string
		err     string
	}{
		{"single, CR", string(testMessage("S-1")), []string{"S-1"}, ""},
		{"single, LF", lf("S-1"), []string{"S-1"}, ""},
		{"single, CRLF, no final line end", strings.TrimSuffix(strings.ReplaceAll(lf("S-1"), "\n", "\r\n"), "\r\n"), []string{"S-1"}, ""},
		{"several with blank lines", lf("M-1") + "\n\n" + lf("M-2") + "\n" + lf("M-3"), []string{"M-1", "M-2", "M-3"}, ""},
		{"several back to back", lf("M-1") + lf("M-2"), []string{"M-1", "M-2"}, ""},
		{"batch file", batch, []string{"B1-1", "B1-2", "B2-1"}, ""},
		{"MLLP capture", string(frame(testMessage("F-1"))) + string(frame(testMessage("F-2"))), []string{"F-1", "F-2"}, ""},
		{"byte order mark", "\xef\xbb\xbf" + lf("BOM-1"), []string{"BOM-1"}, ""},
		{"empty", "", nil, "no message"},
		{"blank", "\n\r\n  \n", nil, "no message"},
		{"segment before MSH", "PID|1\n" + lf("X"), nil, "does not start with FHS, BHS or MSH"},
		{"batch without trailer", "BHS|^~\\&\n" + lf("X"), nil, "BTS"},
		{"batch count wrong", "BHS|^~\\&\n" + lf("X") + "BTS|2\n", nil, "BTS-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustWriteFile(t, t.TempDir(), "in.hl7", tt.content)
			msgs, err := ReadMessages(p, nil)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.Contains(t, err.Error(), p, "the error names the file")
				assert.NotContains(t, err.Error(), phiMarker)
				assert.Nil(t, msgs)
				return
			}
			require.NoError(t, err)
			var ids []string
			for i, m := range msgs {
				assert.Equal(t, p, m.File)
				assert.Equal(t, i+1, m.Index)
				assert.NotContains(t, string(m.Data), "\n", "segments end in CR")
				assert.True(t, strings.HasPrefix(string(m.Data), "MSH|"))
				assert.True(t, strings.HasSuffix(string(m.Data), "\r"))
				ids = append(ids, controlID(t, m.Data))
			}
			assert.Equal(t, tt.ids, ids)
		})
	}
}

func TestReadMessagesLatin1KeptAsIs(t *testing.T) {
	content := "MSH|^~\\&|A|B|C|D|20250101||ADT^A08|L-1|P|2.5|||||DEU|8859/1\nPID|1||1||M\xfcller^J\xfcrgen\n"
	msgs, err := ReadMessages(MustWriteFile(t, t.TempDir(), "latin1.hl7", content), nil)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, strings.ReplaceAll(content, "\n", "\r"), string(msgs[0].Data), "bytes are not re-encoded")
}

func TestReadMessagesDirectory(t *testing.T) {
	dir := t.TempDir()
	MustWriteFile(t, dir, "b.hl7", lf("B-1")+lf("B-2"))
	MustWriteFile(t, dir, "a.hl7", lf("A-1"))
	MustWriteFile(t, dir, "sub/c.txt", lf("C-1"))
	MustWriteFile(t, dir, ".hidden.hl7", lf("HIDDEN"))
	MustWriteFile(t, dir, ".git/objects/x", "not a message")
	require.NoError(t, os.Symlink(filepath.Join(dir, "a.hl7"), filepath.Join(dir, "z-link.hl7")))

	msgs, err := ReadMessages(dir, nil)
	require.NoError(t, err)
	var got []string
	for _, m := range msgs {
		rel, _ := filepath.Rel(dir, m.File)
		got = append(got, rel+" "+controlID(t, m.Data))
	}
	assert.Equal(t, []string{"a.hl7 A-1", "b.hl7 B-1", "b.hl7 B-2", "sub/c.txt C-1", "z-link.hl7 A-1"}, got)

	MustWriteFile(t, dir, "sub/empty.hl7", "")
	_, err = ReadMessages(dir, nil)
	require.Error(t, err, "one bad file fails the whole directory")
	assert.Contains(t, err.Error(), "empty.hl7")
	assert.NotContains(t, err.Error(), "read messages: mllp: read messages", "one prefix")

	// With skip, files that hold no message are reported and left out.
	MustWriteFile(t, dir, "README.md", "# notes\n")
	var skipped []string
	msgs, err = ReadMessages(dir, func(file string, err error) {
		rel, _ := filepath.Rel(dir, file)
		skipped = append(skipped, rel)
	})
	require.NoError(t, err)
	assert.Len(t, msgs, 5)
	assert.Equal(t, []string{"README.md", "sub/empty.hl7"}, skipped)

	_, err = ReadMessages(filepath.Join(dir, "missing"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}
