package postgres

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// bodyHashCopying is bodyHash as first written, normalising a copy of the
// message: the oracle of TestBodyHash (stored hashes must not change).
func bodyHashCopying(raw []byte) []byte {
	b := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r"))
	b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))
	b = bytes.TrimRight(b, "\r")
	sum := sha256.Sum256(b)
	return sum[:]
}

// TestBodyHash: the hash of every mix of terminators equals the oracle's,
// and CR, LF and CRLF terminators give one hash.
func TestBodyHash(t *testing.T) {
	cases := []string{"", "\r", "\n", "\r\n", "\n\r", "\r\r\n\n", "MSH|x", "MSH|x\r", "MSH|x\nPID|1\n",
		"MSH|x\r\nPID|1\r\n\r\n", "\nMSH\n\nPID\r\r\n", "MSH|a\r\nb\rc\nd\n\r\r\n"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab|\r\n")
	for range 5000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := bodyHash([]byte(c)), bodyHashCopying([]byte(c)); !bytes.Equal(got, want) {
			t.Fatalf("bodyHash(%q) differs from the oracle", c)
		}
	}
	cr := bodyHash([]byte("MSH|x\rPID|1\r"))
	for _, c := range []string{"MSH|x\nPID|1\n", "MSH|x\r\nPID|1\r\n", "MSH|x\rPID|1", "MSH|x\r\nPID|1\n\n"} {
		if !bytes.Equal(bodyHash([]byte(c)), cr) {
			t.Errorf("bodyHash(%q) differs from the CR form", c)
		}
	}
}
