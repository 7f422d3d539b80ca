package rest_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/internal/corpus"
)

// TestSyntheaRoundTrip loads every Synthea bundle of the external corpus
// through POST [base] (the organisation and practitioner batches first, as
// the patient transactions refer to them conditionally), then reads every
// resource back and requires it to equal what was sent, apart from the
// server's id, meta.versionId/lastUpdated and the references the
// transaction rewrote.
func TestSyntheaRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("the full corpus sweep takes about a minute")
	}
	files := corpus.SyntheaFiles(t)
	s := newServer(t)

	type sent struct {
		resource fhir.Object
		location string
	}
	var all []sent
	conditional := map[string]string{}
	for _, f := range files {
		raw := corpus.ReadBZ2(t, f)
		res := s.doRaw("POST", "", string(raw), "application/fhir+json")
		require.Equal(t, http.StatusOK, res.status, "%s: %.2000s", filepath.Base(f), res.raw)
		in, err := fhir.ParseObject(raw)
		require.NoError(t, err)
		ins, outs := asSlice(in["entry"]), asSlice(res.body["entry"])
		require.Len(t, outs, len(ins))
		urls := map[string]string{}
		for i, e := range ins {
			status, _ := get(outs[i], "response", "status").(string)
			require.True(t, strings.HasPrefix(status, "20"), "%s entry %d: %s %v", filepath.Base(f), i, status, get(outs[i], "response", "outcome"))
			loc := strings.TrimSuffix(get(outs[i], "response", "location").(string), "/_history/1")
			if full, _ := get(e, "fullUrl").(string); full != "" {
				urls[full] = loc
			}
			if status == "201 Created" {
				all = append(all, sent{resource: get(e, "resource").(fhir.Object), location: loc})
			}
		}
		for _, x := range all[len(all)-countCreated(outs):] {
			resolveConditional(t, s, x.resource, urls, conditional)
			rewriteExpected(x.resource, urls)
		}
	}
	t.Logf("%d resources created from %d bundles", len(all), len(files))

	var wg sync.WaitGroup
	work := make(chan sent)
	var mu sync.Mutex
	mismatches := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range work {
				got := s.do("GET", "/"+x.location, nil)
				if got.status != http.StatusOK {
					mu.Lock()
					mismatches++
					mu.Unlock()
					t.Errorf("%s: status %d", x.location, got.status)
					continue
				}
				out := got.body
				meta, _ := out["meta"].(map[string]any)
				delete(meta, "versionId")
				delete(meta, "lastUpdated")
				if len(meta) == 0 {
					delete(out, "meta")
				}
				want := x.resource
				want["id"] = out["id"]
				if a, b := string(fhir.MarshalJSON(want)), string(fhir.MarshalJSON(out)); a != b {
					mu.Lock()
					mismatches++
					if mismatches <= 5 {
						t.Errorf("%s differs:\nwant %.1500s\ngot  %.1500s", x.location, a, b)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, x := range all {
		work <- x
	}
	close(work)
	wg.Wait()
	assert.Zero(t, mismatches)
}

// resolveConditional adds to urls the Type/id each conditional reference
// ("Practitioner?identifier=...") in v stands for, found by a search.
func resolveConditional(t *testing.T, s *testServer, v any, urls, cache map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if ref, ok := c.(string); ok && k == "reference" {
				if typ, crit, ok := strings.Cut(ref, "?"); ok {
					if _, done := cache[ref]; !done {
						res := s.do("GET", "/"+typ+"?"+crit, nil)
						require.EqualValues(t, 1, total(res), "%s", ref)
						cache[ref] = typ + "/" + get(res.body, "entry", "0", "resource", "id").(string)
					}
					urls[ref] = cache[ref]
				}
				continue
			}
			resolveConditional(t, s, c, urls, cache)
		}
	case []any:
		for _, c := range x {
			resolveConditional(t, s, c, urls, cache)
		}
	}
}

func countCreated(outs []any) int {
	n := 0
	for _, o := range outs {
		if get(o, "response", "status") == "201 Created" {
			n++
		}
	}
	return n
}

// rewriteExpected applies to a sent resource what the transaction does:
// fullUrl and conditional references become the Type/id in urls.
func rewriteExpected(v any, urls map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok {
				if to, ok := urls[s]; ok {
					x[k] = to
				}
				continue
			}
			rewriteExpected(c, urls)
		}
	case []any:
		for i, c := range x {
			if s, ok := c.(string); ok {
				if to, ok := urls[s]; ok {
					x[i] = to
				}
				continue
			}
			rewriteExpected(c, urls)
		}
	}
}
