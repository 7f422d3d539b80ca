package validate

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/googlefhir"
)

// Sampling of the differential sweep. Every resource goes through this
// package; google/fhir, at about a millisecond per resource, sees every
// googleEvery-th one, and every mutateEvery-th one is also broken in each
// way of mutations.
const (
	googleEvery = 1
	mutateEvery = 10
)

// differentialSkips are the known disagreements with google/fhir on the
// corpus, each with the reason this package deliberately differs, by
// resource Type/id. There are none: both accept every resource.
var differentialSkips = map[string]string{}

// mutationSkips are the kinds of broken variants google/fhir accepts,
// each with the reason. This package must still report them.
var mutationSkips = []struct {
	reason string
	match  func(mutation, path string) bool
}{
	{
		reason: "google/fhir keeps a contained resource as a google.protobuf.Any and runs its " +
			"required-element and reference-target checks only on the containing resource " +
			"(its parsing checks, unknown elements, formats and codes, do reach contained resources)",
		match: func(m, path string) bool {
			return (m == "drop-required" || m == "reference-target") && strings.Contains(path, ".contained[")
		},
	},
}

// mutationSkip returns why google/fhir is excused from rejecting the
// variant, or "".
func mutationSkip(m, path string) string {
	for _, s := range mutationSkips {
		if s.match(m, path) {
			return s.reason
		}
	}
	return ""
}

type sweepStats struct {
	resources, oursRejected, googleChecked, agreeAccept, agreeReject, skipped int
	mutated, mutationSkipped, pathDiffers                                    map[string]int
}

// TestDifferentialSynthea runs every resource of the Synthea corpus through
// Resource and through google/fhir's validating unmarshaller and requires
// the same verdict, then breaks a sample of them (drop a required element,
// add an unknown one, break a date, a code outside a required binding, a
// reference to a type the element does not allow, a value of the wrong
// JSON kind) and requires that both reject each variant and that Resource
// reports the issue at the path broken with the expected code.
func TestDifferentialSynthea(t *testing.T) {
	files := syntheaFiles(t)
	v := New()
	start := time.Now()

	var (
		mu       sync.Mutex
		stats    = sweepStats{mutated: map[string]int{}, mutationSkipped: map[string]int{}, pathDiffers: map[string]int{}}
		failures int
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if failures++; failures <= 50 {
			t.Errorf(format, args...)
		}
	}

	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				entries, err := readEntries(f)
				if err != nil {
					fail("%v", err)
					continue
				}
				var local sweepStats
				local.mutated, local.mutationSkipped, local.pathDiffers = map[string]int{}, map[string]int{}, map[string]int{}
				for i, raw := range entries {
					where := fmt.Sprintf("%s entry %d", filepath.Base(f), i)
					sweepOne(t, v, raw, where, &local, fail)
				}
				mu.Lock()
				stats.add(local)
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()

	t.Logf("%d files, %d resources in %v; ours rejected %d; google/fhir checked %d (every %d): %d both accept, %d both reject, %d skip-listed",
		len(files), stats.resources, time.Since(start).Round(time.Second), stats.oursRejected,
		stats.googleChecked, googleEvery, stats.agreeAccept, stats.agreeReject, stats.skipped)
	for _, m := range mutations {
		t.Logf("mutation %-20s %5d variants rejected by both (google/fhir's path differs for %d), %d skip-listed",
			m.name, stats.mutated[m.name], stats.pathDiffers[m.name], stats.mutationSkipped[m.name])
		if stats.mutated[m.name] == 0 {
			t.Errorf("mutation %s found nothing to break", m.name)
		}
	}
	if stats.resources != 92114 {
		t.Errorf("the corpus has %d resources, want 92114", stats.resources)
	}
}

func (s *sweepStats) add(o sweepStats) {
	s.resources += o.resources
	s.oursRejected += o.oursRejected
	s.googleChecked += o.googleChecked
	s.agreeAccept += o.agreeAccept
	s.agreeReject += o.agreeReject
	s.skipped += o.skipped
	for k, n := range o.mutated {
		s.mutated[k] += n
	}
	for k, n := range o.mutationSkipped {
		s.mutationSkipped[k] += n
	}
	for k, n := range o.pathDiffers {
		s.pathDiffers[k] += n
	}
}

func sweepOne(t *testing.T, v *Validator, raw []byte, where string, st *sweepStats, fail func(string, ...any)) {
	n := st.resources
	st.resources++
	obj, err := fhir.ParseObject(raw)
	if err != nil {
		fail("%s: parse: %v", where, err)
		return
	}
	ours := v.Resource(obj)
	if ours != nil {
		st.oursRejected++
	}
	key := fhir.ResourceType(obj) + "/" + fhir.ResourceID(obj)
	if n%googleEvery == 0 {
		st.googleChecked++
		theirs := googlefhir.Validate(raw)
		switch {
		case (ours == nil) != (theirs == nil) && differentialSkips[key] != "":
			st.skipped++
		case ours == nil && theirs == nil:
			st.agreeAccept++
		case ours != nil && theirs != nil:
			st.agreeReject++
		default:
			fail("%s (%s): verdicts differ:\n  ours:   %s\n  google: %s", where, key, describe(ours), describe(theirs))
		}
	}
	if n%mutateEvery != 0 || ours != nil {
		return
	}
	for _, m := range mutations {
		clone := fhir.Clone(obj).(map[string]any)
		path, ok := m.apply(v, clone, n/mutateEvery)
		if !ok {
			continue
		}
		data, err := json.Marshal(clone)
		if err != nil {
			fail("%s: %s: %v", where, m.name, err)
			continue
		}
		mobj, err := fhir.ParseObject(data)
		if err != nil {
			fail("%s: %s: parse: %v", where, m.name, err)
			continue
		}
		ours := v.Resource(mobj)
		if !hasIssue(ours, m.code, path) {
			fail("%s (%s): %s: want %s at %s, got %s", where, key, m.name, m.code, path, describe(ours))
			continue
		}
		theirs := googlefhir.Validate(data)
		if theirs == nil {
			if mutationSkip(m.name, path) != "" {
				st.mutationSkipped[m.name]++
				continue
			}
			fail("%s (%s): %s at %s: google/fhir accepts the variant", where, key, m.name, path)
			continue
		}
		st.mutated[m.name]++
		if !hasPath(theirs, path) {
			st.pathDiffers[m.name]++
			if st.pathDiffers[m.name] <= 3 {
				t.Logf("%s: %s at %s: google/fhir reports %s", where, m.name, path, describe(theirs))
			}
		}
	}
}

// hasIssue reports whether err holds an issue with code at path.
func hasIssue(err error, code fhir.IssueType, path string) bool {
	fe := fhir.AsError(err)
	if fe == nil {
		return false
	}
	for _, is := range fe.Issues() {
		if is.Code == code && len(is.Expression) == 1 && is.Expression[0] == path {
			return true
		}
	}
	return false
}

// hasPath reports whether err holds an issue at path.
func hasPath(err error, path string) bool {
	fe := fhir.AsError(err)
	if fe == nil {
		return false
	}
	for _, is := range fe.Issues() {
		if len(is.Expression) == 1 && is.Expression[0] == path {
			return true
		}
	}
	return false
}

// describe lists every issue of err, for failure messages.
func describe(err error) string {
	fe := fhir.AsError(err)
	if fe == nil {
		if err == nil {
			return "accepted"
		}
		return err.Error()
	}
	var s string
	for i, is := range fe.Issues() {
		if i == 5 {
			s += fmt.Sprintf("; ... %d more", len(fe.Issues())-5)
			break
		}
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%s %v: %s", is.Code, is.Expression, is.Diagnostics)
	}
	return s
}
