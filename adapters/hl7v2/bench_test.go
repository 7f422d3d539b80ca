package hl7v2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchMix returns the messages of the external corpus, with CR segment
// terminators and no byte order mark: the realistic mix both parsers read
// (ADT, ORU, ORM, OML, SIU, MDM, VXU ... from 250 bytes to 17 KB, one with
// a CDA document, custom delimiters, UTF-8 and 8859/1 text).
func benchMix(tb testing.TB) (mix [][]byte, total int) {
	tb.Helper()
	msgs, _ := corpus(tb)
	for _, c := range msgs {
		if strings.HasPrefix(c.name, "testdata/") {
			continue
		}
		d := normalizeTerminators(c.data)
		mix = append(mix, d)
		total += len(d)
	}
	return mix, total
}

// pythonResult is what testdata/bench_python_hl7.py prints.
type pythonResult struct {
	Parser    string  `json:"parser"`
	Python    string  `json:"python"`
	Messages  int     `json:"messages"`
	Failed    int     `json:"failed"`
	MsgsPerS  float64 `json:"msgs_per_s"`
	MBPerS    float64 `json:"mb_per_s"`
	Passes    int     `json:"passes"`
	SecondsIn float64 `json:"seconds"`
}

// pythonBaseline runs python-hl7 over mix with the system Python (pyenv's
// python3 may come first on PATH and lacks the Debian package).
func pythonBaseline(tb testing.TB, mix [][]byte) (*pythonResult, error) {
	dir := tb.TempDir()
	file := filepath.Join(dir, "mix.hl7")
	if err := os.WriteFile(file, bytes.Join(mix, []byte{0x1c}), 0o644); err != nil {
		return nil, err
	}
	script, err := filepath.Abs(filepath.Join("testdata", "bench_python_hl7.py"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", script, file, "3").Output()
	if err != nil {
		var ee *exec.ExitError
		if ok := asExitError(err, &ee); ok {
			return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, err
	}
	var r pythonResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("reading %q: %w", out, err)
	}
	return &r, nil
}

func asExitError(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

// BenchmarkParse measures full parses (every segment, field, repetition,
// component and subcomponent indexed) of the corpus mix on one core
// (GOMAXPROCS=1), and prints the figure beside python-hl7's on the same
// messages, measured in the same run:
//
//	go test -run '^$' -bench Parse -benchmem ./adapters/hl7v2
func BenchmarkParse(b *testing.B) {
	mix, total := benchMix(b)
	py, pyErr := pythonBaseline(b, mix)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range mix {
			if _, err := Parse(d); err != nil {
				b.Fatal(err)
			}
		}
	}
	secs := b.Elapsed().Seconds()
	msgs := float64(b.N*len(mix)) / secs
	b.ReportMetric(msgs, "msgs/s")
	b.Logf("fhirhub hl7v2: %.0f msgs/s, %.1f MB/s (%d messages, %d bytes, GOMAXPROCS=1)",
		msgs, float64(b.N*total)/secs/1e6, len(mix), total)
	if pyErr != nil {
		b.Logf("baseline python3-hl7 unavailable (apt-get install python3-hl7): %v", pyErr)
		return
	}
	b.Logf("baseline %s (Python %s): %.0f msgs/s, %.1f MB/s (%d messages, %d failed); fhirhub is %.0fx faster",
		py.Parser, py.Python, py.MsgsPerS, py.MBPerS, py.Messages, py.Failed, msgs/py.MsgsPerS)
}
