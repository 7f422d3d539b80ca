package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuthPatientScopedWrites: writes allowed by patient/ scopes only
// create, update, patch and delete resources of the token's patient's
// compartment, and only those: a resource of another patient is not found,
// a write that would leave the compartment is refused, and Bundles are
// decided entry by entry and stay atomic (conditional writes:
// TestAuthPatientScopedConditionals).
func TestAuthPatientScopedWrites(t *testing.T) {
	s := newAuthServer(t)
	admin := s.token("admin", "user/*.cruds", "")
	var pids, obs []string
	for _, name := range []string{"Mine", "Other"} {
		res := s.as(admin, "POST", "/Patient", patient(name))
		require.Equal(t, http.StatusCreated, res.status)
		pids = append(pids, res.str("id"))
		res = s.as(admin, "POST", "/Observation", obsFor(res.str("id")))
		require.Equal(t, http.StatusCreated, res.status)
		obs = append(obs, res.str("id"))
	}
	mine, other := pids[0], pids[1]
	me := s.token("doctor", "patient/*.cruds", mine)
	meAdmin := s.token("admin", "patient/*.cruds", mine)
	broad := s.token("doctor", "patient/*.cruds user/Observation.cruds", mine)

	withID := func(o map[string]any, id string) map[string]any { o["id"] = id; return o }
	obsMoved := withID(obsFor(other), obs[0])
	noSubject := map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}}
	patch := func(path string) string { return `[{"op":"replace","path":"` + path + `","value":"amended"}]` }

	cases := []struct {
		name, tok, method, path string
		body                    any
		headers                 []string
		status                  int
	}{
		{"create in the compartment", me, "POST", "/Observation", obsFor(mine), nil, 201},
		{"create for another patient", me, "POST", "/Observation", obsFor(other), nil, 403},
		{"create outside any compartment", me, "POST", "/Observation", noSubject, nil, 403},
		{"create a Patient", meAdmin, "POST", "/Patient", patient("New"), nil, 403},
		{"update in the compartment", me, "PUT", "/Observation/" + obs[0], withID(obsFor(mine), obs[0]), nil, 200},
		{"update moving it to another patient", me, "PUT", "/Observation/" + obs[0], obsMoved, nil, 403},
		{"update another patient's resource into mine", me, "PUT", "/Observation/" + obs[1], withID(obsFor(mine), obs[1]), nil, 404},
		{"update that creates in the compartment", me, "PUT", "/Observation/new-1", withID(obsFor(mine), "new-1"), nil, 201},
		{"update the patient's own Patient", meAdmin, "PUT", "/Patient/" + mine, withID(patient("Renamed"), mine), nil, 200},
		{"update another Patient", meAdmin, "PUT", "/Patient/" + other, withID(patient("Renamed"), other), nil, 404},
		{"patch in the compartment", me, "PATCH", "/Observation/" + obs[0], patch("/status"), []string{"Content-Type", "application/json-patch+json"}, 200},
		{"patch moving it out", me, "PATCH", "/Observation/" + obs[0], `[{"op":"replace","path":"/subject/reference","value":"Patient/` + other + `"}]`, []string{"Content-Type", "application/json-patch+json"}, 403},
		{"patch another patient's resource", me, "PATCH", "/Observation/" + obs[1], `[{"op":"replace","path":"/status","value":"amended"}]`, []string{"Content-Type", "application/json-patch+json"}, 404},
		{"delete another patient's resource", me, "DELETE", "/Observation/" + obs[1], nil, nil, 404},
		{"a user/ scope is not confined", broad, "PUT", "/Observation/" + obs[1], withID(obsFor(other), obs[1]), nil, 200},
		{"delete in the compartment", me, "DELETE", "/Observation/new-1", nil, nil, 204},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := append([]string{"Authorization", "Bearer " + c.tok}, c.headers...)
			res := s.do(c.method, c.path, c.body, h...)
			assert.Equal(t, c.status, res.status, "%s", res.raw)
		})
	}
	// The refused writes changed nothing.
	res := s.as(admin, "GET", "/Observation/"+obs[0], nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "Patient/"+mine, res.str("subject", "reference"))
	res = s.as(admin, "GET", "/Observation/"+obs[1], nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "Patient/"+other, res.str("subject", "reference"))
	res = s.as(admin, "GET", "/Patient/"+other, nil)
	assert.NotEqual(t, "Renamed", res.str("name", "0", "family"))

	entry := func(method, url string, resource any) map[string]any {
		e := map[string]any{"request": map[string]any{"method": method, "url": url}}
		if resource != nil {
			e["resource"] = resource
		}
		return e
	}
	bundle := func(typ string, entries ...any) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": typ, "entry": entries}
	}
	t.Run("transaction in the compartment", func(t *testing.T) {
		res := s.as(me, "POST", "", bundle("transaction", entry("POST", "Observation", obsFor(mine)), entry("POST", "Observation", obsFor(mine))))
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		assert.Equal(t, "201 Created", res.str("entry", "1", "response", "status"))
	})
	t.Run("transaction with one entry outside is refused whole", func(t *testing.T) {
		before := s.as(admin, "GET", "/Observation?_summary=count&_total=accurate", nil)
		res := s.as(me, "POST", "", bundle("transaction", entry("POST", "Observation", obsFor(mine)), entry("POST", "Observation", obsFor(other))))
		assert.Equal(t, http.StatusForbidden, res.status, "%s", res.raw)
		after := s.as(admin, "GET", "/Observation?_summary=count&_total=accurate", nil)
		assert.Equal(t, total(before), total(after), "nothing written")
	})
	t.Run("batch entries are decided one by one", func(t *testing.T) {
		res := s.as(me, "POST", "", bundle("batch", entry("POST", "Observation", obsFor(mine)), entry("DELETE", "Observation/"+obs[1], nil)))
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		assert.Equal(t, "201 Created", res.str("entry", "0", "response", "status"))
		assert.Contains(t, res.str("entry", "1", "response", "status"), "404")
		assert.Equal(t, http.StatusOK, s.as(admin, "GET", "/Observation/"+obs[1], nil).status, "not deleted")
	})
	t.Run("reads in a Bundle are refused", func(t *testing.T) {
		res := s.as(me, "POST", "", bundle("batch", entry("GET", "Observation/"+obs[0], nil)))
		assert.Equal(t, http.StatusForbidden, res.status)
	})
}
