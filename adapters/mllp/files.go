package mllp

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// FileMessage is one message read from a file.
type FileMessage struct {
	// File is the path the message was read from.
	File string
	// Index is the message's 1-based position in its file.
	Index int
	// Data is the message, every segment ended by CR, ready to send.
	Data []byte
}

// ReadMessages reads the messages of path, a file or a directory. A
// directory gives the regular files under it, recursively, in lexical
// order of their paths; names starting with "." are skipped.
//
// A file holds one message, several (one after the other, blank lines
// between them or not), or an HL7 batch file (FHS/BHS ... BTS/FTS, HL7
// v2.5.1 section 2.10.3) whose envelopes are dropped: each message starts
// at an MSH segment (see hl7v2.SplitBatch). Segments may end in CR, LF or
// CRLF; they are sent ended by CR. MLLP framing bytes (VT, FS), as in a
// capture of a connection, count as line ends. A file with no message,
// with a segment before its first MSH, or whose batch envelopes do not
// match (a BHS without its BTS, a wrong count in BTS-1 or FTS-1) is an
// error, and nothing is returned: a file is sent whole or not at all.
//
// In a directory, a file that holds no message as described (a README,
// a script) is passed to skip with the reason, when skip is not nil, and
// left out; with a nil skip it is an error too. A file named by path
// itself is never skipped.
//
// It reads every file into memory (at most 16 MiB each).
func ReadMessages(path string, skip func(file string, err error)) ([]FileMessage, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("mllp: read messages: %w", err)
	}
	if !info.IsDir() {
		return readFile(path)
	}
	var out []FileMessage
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() { // follows symbolic links
			return err
		}
		msgs, err := readFile(p)
		if err != nil && skip != nil {
			skip(p, err)
			return nil
		}
		out = append(out, msgs...)
		return err
	})
	if err != nil {
		if !strings.HasPrefix(err.Error(), "mllp: ") {
			err = fmt.Errorf("mllp: read messages: %w", err)
		}
		return nil, err
	}
	return out, nil
}

// readFile reads the messages of one file.
func readFile(path string) ([]FileMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mllp: read messages: %w", err)
	}
	msgs, err := SplitMessages(data)
	if err != nil {
		return nil, fmt.Errorf("mllp: read messages: %s: %w", path, err)
	}
	out := make([]FileMessage, len(msgs))
	for i, m := range msgs {
		out[i] = FileMessage{File: path, Index: i + 1, Data: m}
	}
	return out, nil
}

// errNoMessage: a file without any message.
var errNoMessage = errors.New("no message")

// SplitMessages splits the content of a message file into messages, as
// ReadMessages does.
func SplitMessages(data []byte) ([][]byte, error) {
	if bytes.ContainsAny(data, "\x0b\x1c") {
		// Byte by byte: the file may be in 8859/1, which is not UTF-8.
		data = bytes.Clone(data)
		for i, b := range data {
			if b == startBlock || b == endBlock {
				data[i] = '\n'
			}
		}
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))) == 0 {
		return nil, errNoMessage
	}
	f, err := hl7v2.SplitBatch(data)
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for _, b := range f.Batches {
		msgs = append(msgs, b.Messages...)
	}
	if len(msgs) == 0 {
		return nil, errNoMessage
	}
	return msgs, nil
}
