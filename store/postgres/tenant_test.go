package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestTenantsAreDisjoint: the same Type/id in two tenants is two
// resources, whether created by concurrent single creates (written in
// groups that mix tenants) or in one transaction; each tenant's searches,
// reads and writes see its own; change events carry the tenant and an
// event id unique across tenants; a reindex keeps each tenant's keys.
func TestTenantsAreDisjoint(t *testing.T) {
	bg := context.Background()
	st := pgtest.Store(t)
	tenants := []string{"", "acme", "bravo"}
	in := func(tenant string) context.Context { return store.WithScope(bg, store.Scope{Tenant: tenant}) }
	patientJSON := func(id, family string) string {
		return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"identifier":[{"system":"urn:mrn","value":"M-%s"}],"name":[{"family":%q}]}`, id, id, family)
	}

	// Concurrent single creates of the same ids in three tenants.
	var wg sync.WaitGroup
	errs := make(chan error, 3*40)
	for _, tenant := range tenants {
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.Create(in(tenant), mustParse(t, patientJSON(fmt.Sprintf("p%d", i), "F"+tenant)))
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// One transaction creating one id in two tenants, and an update in one.
	require.NoError(t, st.Transaction(bg, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Create(in("acme"), mustParse(t, patientJSON("both", "Acme")), "POST"); err != nil {
			return err
		}
		if _, err := tx.Create(in("bravo"), mustParse(t, patientJSON("both", "Bravo")), "POST"); err != nil {
			return err
		}
		_, _, err := tx.Put(in("bravo"), mustParse(t, patientJSON("p1", "Changed")), 0, "PUT")
		return err
	}))

	check := func(stage string) {
		for _, tenant := range tenants {
			ctx := in(tenant)
			res, err := st.Search(ctx, parse(t, "Patient", "identifier=urn:mrn|M-p1"))
			require.NoError(t, err)
			require.Len(t, res.Matches, 1, "%s: tenant %q", stage, tenant)
			want := "F" + tenant
			if tenant == "bravo" {
				want = "Changed"
			}
			assert.Contains(t, string(res.Matches[0].Content), want, "%s: tenant %q", stage, tenant)
			res, err = st.Search(ctx, parse(t, "Patient", "_summary=count"))
			require.NoError(t, err)
			n := int64(40)
			if tenant != "" {
				n = 41
			}
			assert.Equal(t, n, res.Total, "%s: tenant %q", stage, tenant)
			r, err := st.Read(ctx, "Patient", "p1")
			require.NoError(t, err)
			assert.Contains(t, string(r.Content), want)
		}
		// A transaction's identifier look-up stays in the tenant too.
		for _, tenant := range tenants {
			rows, err := st.ResolveIdentifiers(in(tenant), []string{"Patient", "Patient"}, []string{"urn:mrn", "urn:mrn"}, []string{"M-p1", "M-both"}, 2)
			require.NoError(t, err)
			require.Len(t, rows[0], 1, "%s: tenant %q", stage, tenant)
			assert.Equal(t, "p1", rows[0][0].ID)
			if tenant == "" {
				assert.Empty(t, rows[1], "%s: the default tenant has no Patient/both", stage)
			} else {
				require.Len(t, rows[1], 1, "%s: tenant %q", stage, tenant)
			}
		}
		r, err := st.Read(in("acme"), "Patient", "both")
		require.NoError(t, err)
		assert.Contains(t, string(r.Content), "Acme")
		_, err = st.Read(in(""), "Patient", "both")
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = st.Read(in("nobody"), "Patient", "p1")
		assert.ErrorIs(t, err, store.ErrNotFound)
	}
	check("written")
	_, err := st.Reindex(bg, "Patient")
	require.NoError(t, err)
	check("reindexed")

	// Change events: one per version, with the tenant; ids unique.
	seen := map[string]bool{}
	byTenant := map[string]int{}
	for {
		n, err := st.PublishChanges(bg, 500, 0, func(_ context.Context, cs []store.Change) error {
			for i := range cs {
				id := cs[i].EventID()
				assert.False(t, seen[id], "event id %s twice", id)
				seen[id] = true
				byTenant[cs[i].Tenant]++
			}
			return nil
		})
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	assert.Equal(t, map[string]int{"": 40, "acme": 41, "bravo": 42}, byTenant)
	assert.True(t, seen["bravo/Patient/p1/_history/2"])
	assert.True(t, seen["Patient/p1/_history/1"])
}

// TestResolveIdentifiersSeesTheCallersFacility: a transaction's identifier
// look-up finds what the caller's facility sees, as a search does, and
// counts only those toward its limit.
func TestResolveIdentifiersSeesTheCallersFacility(t *testing.T) {
	bg := context.Background()
	st := pgtest.Store(t)
	in := func(facility string) context.Context {
		return store.WithScope(bg, store.Scope{Tenant: "acme", Facility: facility})
	}
	for _, c := range []struct{ id, facility string }{{"a", "f1"}, {"b", "f1"}, {"c", "f2"}, {"d", ""}} {
		_, err := st.Create(in(c.facility), mustParse(t, `{"resourceType":"Patient","id":"`+c.id+`","identifier":[{"system":"urn:mrn","value":"M-1"}]}`))
		require.NoError(t, err)
	}
	found := func(facility string, limit int) []string {
		rows, err := st.ResolveIdentifiers(in(facility), []string{"Patient"}, []string{"urn:mrn"}, []string{"M-1"}, limit)
		require.NoError(t, err)
		return ids("Patient", rows[0])
	}
	assert.Equal(t, []string{"a", "b", "c", "d"}, found("", 10))
	assert.Equal(t, []string{"c", "d"}, found("f2", 10))
	assert.Equal(t, []string{"c", "d"}, found("f2", 2), "a and b, which f2 does not see, do not use up the limit")
	assert.Equal(t, []string{"a", "b"}, found("f1", 2))
}
