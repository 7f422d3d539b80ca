package ingest

import (
	"fmt"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// Tenants maps sending facilities (MSH-4) to the tenants whose store
// their messages are written to (store.Scope). A key matches MSH-4's
// namespace id (its first component) or its whole value; the key "*"
// matches any other facility. A message whose facility matches no key
// fails for good (status error, DLQ) instead of landing in the default
// tenant; after the map is fixed, a replay writes it.
type Tenants map[string]string

// ParseTenants reads "FACILITY=tenant,OTHER=tenant2,*=tenant3".
func ParseTenants(s string) (Tenants, error) {
	t := Tenants{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		facility, tenant, ok := strings.Cut(pair, "=")
		facility, tenant = strings.TrimSpace(facility), strings.TrimSpace(tenant)
		if !ok || facility == "" {
			return nil, fmt.Errorf("ingest: tenants: %q is not FACILITY=tenant", pair)
		}
		if !fhir.ValidID(tenant) { // a tenant is an Organization id
			return nil, fmt.Errorf("ingest: tenants: %q is not a tenant id (letters, digits, '-', '.'; at most 64)", tenant)
		}
		if _, dup := t[facility]; dup {
			return nil, fmt.Errorf("ingest: tenants: facility %q mapped twice", facility)
		}
		t[facility] = tenant
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("ingest: tenants: the map is empty")
	}
	return t, nil
}

// Of returns the tenant of a sending facility given as an HD string
// (namespace^universal id^type); false when no key matches.
func (t Tenants) Of(facility string) (string, bool) {
	if tenant, ok := t[facility]; ok {
		return tenant, true
	}
	ns, _, _ := strings.Cut(facility, "^")
	if tenant, ok := t[ns]; ok && ns != "" {
		return tenant, true
	}
	tenant, ok := t["*"]
	return tenant, ok
}
