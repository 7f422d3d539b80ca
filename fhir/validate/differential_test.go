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

// sampling of the differential sweep. Every bundle and every resource goes
// through this package. google/fhir, at a fraction of a millisecond per
// resource, sees every googleEvery-th resource and every bundleEvery-th
// bundle as a whole (a whole bundle costs it much more than its entries
// one by one), and every mutateEvery-th resource is also broken in each
// way of mutations. The full sweep takes about a minute of CPU; -short
// samples less.
type sampling struct{ googleEvery, bundleEvery, mutateEvery int }

func sweepSampling() sampling {
	if testing.Short() {
		return sampling{googleEvery: 10, bundleEvery: 40, mutateEvery: 50}
	}
	return sampling{googleEvery: 1, bundleEvery: 8, mutateEvery: 10}
}

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

// sweep is the state of TestDifferentialSynthea: counts, and failures
// reported from its two goroutines (the first 50 of them).
type sweep struct {
	t  *testing.T
	v  *Validator
	sm sampling

	mu       sync.Mutex
	failures int
	stats    sweepStats
}

type sweepStats struct {
	bundles, googleBundles                           int
	resources, oursRejected                          int
	googleChecked, agreeAccept, agreeReject, skipped int
	mutated, mutationSkipped                         map[string]int
}

func newSweepStats() sweepStats {
	return sweepStats{mutated: map[string]int{}, mutationSkipped: map[string]int{}}
}

func (s *sweep) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures++; s.failures <= 50 {
		s.t.Errorf(format, args...)
	}
}

// TestDifferentialSynthea runs every transaction bundle of the Synthea
// corpus and every resource in them through Resource and through
// google/fhir's validating unmarshaller and requires the same verdict.
// Then it breaks a sample of the resources in each way of mutations (drop
// a required element, add an unknown one, break a date, a code outside a
// required binding, a reference to a type the element does not allow, a
// value of the wrong JSON kind) and requires that both reject each variant
// at the path broken, Resource with the expected code. Where google/fhir
// deliberately or mistakenly differs, differentialSkips and mutationSkips
// say why.
func TestDifferentialSynthea(t *testing.T) {
	files := syntheaFiles(t)
	s := &sweep{t: t, v: New(), sm: sweepSampling(), stats: newSweepStats()}
	start := time.Now()

	type job struct {
		n    int
		file string
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ { // google/fhir is single-threaded: two cores, two goroutines
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				local := s.file(j.n, j.file)
				s.mu.Lock()
				s.stats.add(local)
				s.mu.Unlock()
			}
		}()
	}
	for i, f := range files {
		work <- job{n: i, file: f}
	}
	close(work)
	wg.Wait()

	st, sm := s.stats, s.sm
	t.Logf("%d bundles accepted (%d of them by google/fhir too, every %d) in %v",
		st.bundles, st.googleBundles, sm.bundleEvery, time.Since(start).Round(time.Second))
	t.Logf("%d resources, ours rejected %d; google/fhir checked %d (every %d): %d both accept, %d both reject, %d skip-listed",
		st.resources, st.oursRejected, st.googleChecked, sm.googleEvery, st.agreeAccept, st.agreeReject, st.skipped)
	for _, m := range mutations {
		t.Logf("mutation %-20s %5d variants rejected by both at the same path, %d skip-listed (every %d resource)",
			m.name, st.mutated[m.name], st.mutationSkipped[m.name], sm.mutateEvery)
		if st.mutated[m.name] == 0 {
			t.Errorf("mutation %s found nothing to break", m.name)
		}
	}
	if st.bundles != len(files) || st.resources != 92114 {
		t.Errorf("the corpus has %d bundles and %d resources, want %d and 92114", st.bundles, st.resources, len(files))
	}
}

// file sweeps one bundle: the bundle as a whole, then each resource.
func (s *sweep) file(n int, path string) sweepStats {
	st := newSweepStats()
	name := filepath.Base(path)
	bundle, entries, err := readBundle(path)
	if err != nil {
		s.fail("%v", err)
		return st
	}
	obj, err := fhir.ParseObject(bundle)
	if err != nil {
		s.fail("%s: parse: %v", name, err)
		return st
	}
	if ours := s.v.Resource(obj); ours != nil {
		s.fail("%s: bundle: %s", name, describe(ours))
	}
	st.bundles++
	if n%s.sm.bundleEvery == 0 {
		if theirs := googlefhir.Validate(bundle); theirs != nil {
			s.fail("%s: bundle: google/fhir: %s", name, describe(theirs))
		}
		st.googleBundles++
	}
	for i, raw := range entries {
		s.resource(raw, fmt.Sprintf("%s entry %d", name, i), &st)
	}
	return st
}

func (st *sweepStats) add(o sweepStats) {
	st.bundles += o.bundles
	st.googleBundles += o.googleBundles
	st.resources += o.resources
	st.oursRejected += o.oursRejected
	st.googleChecked += o.googleChecked
	st.agreeAccept += o.agreeAccept
	st.agreeReject += o.agreeReject
	st.skipped += o.skipped
	for k, n := range o.mutated {
		st.mutated[k] += n
	}
	for k, n := range o.mutationSkipped {
		st.mutationSkipped[k] += n
	}
}

// resource compares the verdicts on one resource and on its mutations.
// The sampling counts the resources of each file from zero, so that it
// does not depend on which goroutine sweeps which file.
func (s *sweep) resource(raw []byte, where string, st *sweepStats) {
	n := st.resources
	st.resources++
	obj, err := fhir.ParseObject(raw)
	if err != nil {
		s.fail("%s: parse: %v", where, err)
		return
	}
	ours := s.v.Resource(obj)
	if ours != nil {
		st.oursRejected++
	}
	key := fhir.ResourceType(obj) + "/" + fhir.ResourceID(obj)
	if n%s.sm.googleEvery == 0 {
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
			s.fail("%s (%s): verdicts differ:\n  ours:   %s\n  google: %s", where, key, describe(ours), describe(theirs))
		}
	}
	if n%s.sm.mutateEvery != 0 || ours != nil {
		return
	}
	for _, m := range mutations {
		clone := fhir.Clone(obj).(map[string]any)
		path, ok := m.apply(s.v, clone, n/s.sm.mutateEvery)
		if !ok {
			continue
		}
		data, err := json.Marshal(clone)
		if err != nil {
			s.fail("%s: %s: %v", where, m.name, err)
			continue
		}
		mobj, err := fhir.ParseObject(data)
		if err != nil {
			s.fail("%s: %s: parse: %v", where, m.name, err)
			continue
		}
		if ours := s.v.Resource(mobj); !hasIssue(ours, m.code, path) {
			s.fail("%s (%s): %s: want %s at %s, got %s", where, key, m.name, m.code, path, describe(ours))
			continue
		}
		theirs := googlefhir.Validate(data)
		switch {
		case theirs == nil && mutationSkip(m.name, path) != "":
			st.mutationSkipped[m.name]++
		case theirs == nil:
			s.fail("%s (%s): %s at %s: google/fhir accepts the variant", where, key, m.name, path)
		case !hasPath(theirs, path):
			s.fail("%s (%s): %s at %s: google/fhir reports %s", where, key, m.name, path, describe(theirs))
		default:
			st.mutated[m.name]++
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
