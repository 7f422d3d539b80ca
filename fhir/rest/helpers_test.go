package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// testServer is the FHIR API over a real socket and a fresh database.
type testServer struct {
	t     testing.TB
	base  string
	store *postgres.Store
	http  *http.Client
}

func newServer(t testing.TB) *testServer {
	t.Helper()
	return newServerLimit(t, 64<<20)
}

// newServerLimit is newServer with a request body limit.
func newServerLimit(t testing.TB, maxBody int64) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	base := srv.URL + "/fhir"
	reg := search.NewRegistry() // custom SearchParameters stay in this server
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg, BaseURL: base})
	v := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: v, Registry: reg, BaseURL: base})
	require.NoError(t, err)
	api, err := rest.New(rest.Config{Service: svc, BaseURL: base, ResourceTypes: v.ResourceTypes(), MaxBodyBytes: maxBody})
	require.NoError(t, err)
	srv.Config.Handler = api.Handler()
	return &testServer{t: t, base: base, store: st, http: srv.Client()}
}

// response is a received response with its body parsed when JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   fhir.Object
}

func (r *response) str(path ...string) string {
	v := get(r.body, path...)
	s, _ := v.(string)
	return s
}

// get walks obj by keys and array indexes ("entry", "0", "resource").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (s *testServer) do(method, path string, body any, headers ...string) *response {
	s.t.Helper()
	var rd io.Reader
	ct := "application/fhir+json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	require.NoError(s.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.send(req)
}

func patient(family string, extra ...string) map[string]any {
	p := map[string]any{
		"resourceType": "Patient",
		"name":         []any{map[string]any{"family": family, "given": []any{"Ann"}}},
		"gender":       "female",
		"birthDate":    "1980-05-17",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p["identifier"] = append(asSlice(p["identifier"]), map[string]any{"system": extra[i], "value": extra[i+1]})
	}
	return p
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// issueExpressions returns every issue.expression of an OperationOutcome.
func issueExpressions(oo fhir.Object) []string {
	var out []string
	for _, is := range asSlice(oo["issue"]) {
		for _, e := range asSlice(get(is, "expression")) {
			out = append(out, e.(string))
		}
	}
	return out
}

func (s *testServer) send(req *http.Request) *response {
	s.t.Helper()
	res, err := s.http.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		obj, err := fhir.ParseObject(raw)
		require.NoError(s.t, err, "response body: %s", raw)
		out.body = obj
	}
	return out
}

// total returns Bundle.total of r's body (-1 when absent).
func total(r *response) int64 { return num(r.body["total"]) }

func num(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}
