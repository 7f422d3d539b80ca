package rest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSearchOverHTTP(t *testing.T) {
	s := newServer(t)
	pid := s.do("POST", "/Patient", patient("Ndlovu", "urn:mrn", "S-1")).str("id")
	other := s.do("POST", "/Patient", patient("Ödegaard", "urn:mrn", "S-2")).str("id")
	local := s.do("POST", "/Observation", observation("Patient/"+pid)).str("id")
	absolute := s.do("POST", "/Observation", observation(s.base+"/Patient/"+pid)).str("id")
	s.do("POST", "/Observation", observation("Patient/"+other))

	res := s.do("GET", "/Observation?subject=Patient/"+pid, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.ElementsMatch(t, []string{local, absolute}, ids(res), "absolute references on our base are local")
	assert.EqualValues(t, 2, total(res))

	// Accent- and case-insensitive string search, GET and POST _search.
	assert.Equal(t, []string{other}, ids(s.do("GET", "/Patient?name=odeg", nil)))
	form := s.doRaw("POST", "/Patient/_search", url.Values{"name": {"ODEGAARD"}}.Encode(), "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, form.status, "%s", form.raw)
	assert.Equal(t, []string{other}, ids(form))

	// Chain and include.
	chained := s.do("GET", "/Observation?subject:Patient.identifier=urn:mrn|S-2", nil)
	assert.Len(t, ids(chained), 1)
	inc := s.do("GET", "/Observation?subject=Patient/"+pid+"&_include=Observation:subject", nil)
	modes := map[string]int{}
	for _, e := range asSlice(inc.body["entry"]) {
		modes[get(e, "search", "mode").(string)]++
	}
	assert.Equal(t, map[string]int{"match": 2, "include": 1}, modes)

	// Unknown parameters: reported in an outcome entry, or 400 when strict.
	lenient := s.do("GET", "/Patient?name=odeg&bogus=1", nil)
	require.Equal(t, http.StatusOK, lenient.status)
	var outcome bool
	for _, e := range asSlice(lenient.body["entry"]) {
		if get(e, "search", "mode") == "outcome" {
			outcome = strings.Contains(string(lenient.raw), "bogus")
		}
	}
	assert.True(t, outcome, "the ignored parameter is reported: %s", lenient.raw)
	assert.Equal(t, []string{other}, ids(lenient))
	assert.Equal(t, http.StatusBadRequest, s.do("GET", "/Patient?bogus=1", nil, "Prefer", "handling=strict").status)
	assert.Equal(t, http.StatusBadRequest, s.do("GET", "/Patient?birthdate=notadate", nil).status)

	// Paging links walk every match once.
	for i := 0; i < 7; i++ {
		s.do("POST", "/Patient", patient("Pager"))
	}
	seen := map[string]bool{}
	next := "/Patient?name=pager&_count=3"
	for next != "" {
		page := s.do("GET", next, nil)
		require.Equal(t, http.StatusOK, page.status, "%s", page.raw)
		for _, id := range ids(page) {
			assert.False(t, seen[id])
			seen[id] = true
		}
		next = ""
		for _, l := range asSlice(page.body["link"]) {
			if get(l, "relation") == "next" {
				next = strings.TrimPrefix(get(l, "url").(string), s.base)
			}
		}
	}
	assert.Len(t, seen, 7)

	// _summary and _elements shape the entries.
	count := s.do("GET", "/Patient?name=pager&_summary=count", nil)
	assert.EqualValues(t, 7, total(count))
	assert.Empty(t, ids(count))
	el := s.do("GET", "/Patient?name=pager&_elements=gender&_count=1", nil)
	res0 := get(el.body, "entry", "0", "resource").(map[string]any)
	assert.Contains(t, res0, "gender")
	assert.NotContains(t, res0, "name")
	assert.Contains(t, string(el.raw), "SUBSETTED")
}

func TestSummaryTrue(t *testing.T) {
	s := newServer(t)
	p := patient("Summary", "urn:mrn", "SUM-1")
	p["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">Summary</div>`}
	p["photo"] = []any{map[string]any{"contentType": "image/png", "data": "iVBORw0KGgo="}}
	id := s.do("POST", "/Patient", p).str("id")
	res := s.do("GET", "/Patient/"+id+"?_summary=true", nil)
	require.Equal(t, http.StatusOK, res.status)
	for _, k := range []string{"identifier", "name", "gender", "birthDate", "meta", "id"} {
		assert.Contains(t, res.body, k)
	}
	for _, k := range []string{"text", "photo"} {
		assert.NotContains(t, res.body, k, "%s is not a summary element", k)
	}
	data := s.do("GET", "/Patient/"+id+"?_summary=data", nil)
	assert.NotContains(t, data.body, "text")
	assert.Contains(t, data.body, "photo")
}

// Without _total, a search counts its matches only up to 1,000: a broad
// search then has no total unless the client asks for one.
func TestDefaultTotalIsBounded(t *testing.T) {
	s := newServer(t)
	const n = 1001
	entries := make([]map[string]any, n)
	for i := range entries {
		entries[i] = entry("POST", "Patient", "", patient("Many"))
	}
	res := s.do("POST", "", txBundle("transaction", entries...))
	require.Equal(t, http.StatusOK, res.status, "%.500s", res.raw)

	assert.EqualValues(t, -1, total(s.do("GET", "/Patient?name=many&_count=10", nil)), "no total beyond the bound")
	assert.EqualValues(t, n, total(s.do("GET", "/Patient?name=many&_count=10&_total=accurate", nil)))
	assert.EqualValues(t, n, total(s.do("GET", "/Patient?name=many&_summary=count", nil)))
	assert.Greater(t, total(s.do("GET", "/Patient?name=many&_count=10&_total=estimate", nil)), int64(0))
	assert.EqualValues(t, -1, total(s.do("GET", "/Patient?name=many&_count=10&_total=none", nil)))
	assert.Equal(t, http.StatusPreconditionFailed, s.do("DELETE", "/Patient?name=many", nil).status)
	assert.EqualValues(t, n, total(s.do("GET", "/Patient?name=many&_total=accurate", nil)), "nothing deleted")
}
