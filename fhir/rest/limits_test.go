package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestSearchPagesAreBounded: a _count above the store's MaxCount gets
// MaxCount matches and a next link, for search and history alike.
func TestSearchPagesAreBounded(t *testing.T) {
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	base := srv.URL + "/fhir"
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg, BaseURL: base, MaxCount: 3})
	v := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: v, Registry: reg, BaseURL: base})
	require.NoError(t, err)
	api, err := rest.New(rest.Config{Service: svc, BaseURL: base, ResourceTypes: v.ResourceTypes()})
	require.NoError(t, err)
	srv.Config.Handler = api.Handler()
	s := &testServer{t: t, base: base, store: st, http: srv.Client()}
	for i := 0; i < 5; i++ {
		require.Equal(t, http.StatusCreated, s.do("POST", "/Patient", patient("Bound")).status)
	}
	for _, path := range []string{"/Patient?_count=1000000", "/Patient/_history?_count=1000000"} {
		t.Run(path, func(t *testing.T) {
			res := s.do("GET", path, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
			assert.Len(t, asSlice(res.body["entry"]), 3)
			var next string
			for _, l := range asSlice(res.body["link"]) {
				if get(l, "relation") == "next" {
					next, _ = get(l, "url").(string)
				}
			}
			assert.True(t, strings.HasPrefix(next, base), "a next link: %q", next)
		})
	}
}
