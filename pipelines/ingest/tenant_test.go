package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/pipelines/ingest"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

func TestParseTenants(t *testing.T) {
	tn, err := ingest.ParseTenants("HOSP=acme, LAB^1.2.3^ISO=bravo,*=other")
	require.NoError(t, err)
	for facility, want := range map[string]string{"HOSP": "acme", "HOSP^2.16.840^ISO": "acme", "LAB^1.2.3^ISO": "bravo", "LAB": "other", "": "other"} {
		got, ok := tn.Of(facility)
		assert.True(t, ok, facility)
		assert.Equal(t, want, got, facility)
	}
	tn, err = ingest.ParseTenants("HOSP=acme")
	require.NoError(t, err)
	_, ok := tn.Of("CLINIC")
	assert.False(t, ok)
	for _, bad := range []string{"", "HOSP", "=acme", "HOSP=a/b", "HOSP=acme,HOSP=bravo"} {
		_, err := ingest.ParseTenants(bad)
		assert.Error(t, err, bad)
	}
}

// TestMessagesGoToTheirFacilitysTenant: with a tenant map, a message is
// written to the tenant of its sending facility, the same MRN from two
// facilities makes two Patients in two tenants, and a message from an
// unmapped facility fails for good, writing nothing.
func TestMessagesGoToTheirFacilitysTenant(t *testing.T) {
	ctx := context.Background()
	st, svc, reg := newService(t)
	cfg := ingest.DefaultConfig()
	cfg.Messages, cfg.Receiver, cfg.Service, cfg.DLQ = st, struct{ ingest.Receiver }{}, svc, struct{ ingest.Publisher }{}
	tenants, err := ingest.ParseTenants("HOSP=acme,CLINIC=bravo")
	require.NoError(t, err)
	cfg.Tenants = tenants
	p, err := ingest.New(cfg)
	require.NoError(t, err)

	apply := func(facility, control, family string) error {
		raw := adtA01(control, "MRN-5", family)
		raw = []byte(strings.Replace(string(raw), "|ADT|HOSP|", "|ADT|"+facility+"|", 1))
		m := &store.HL7Message{ReceivedAt: time.Now(), Raw: raw, Channel: "mllp", SendingApp: "ADT", SendingFacility: facility,
			ControlID: control, Type: "ADT", Trigger: "A01", Version: "2.5.1", Status: store.MessageReceived, AckCode: "AA"}
		_, err := st.ReceiveMessages(ctx, []*store.HL7Message{m})
		require.NoError(t, err)
		return p.Apply(ctx, m)
	}
	require.NoError(t, apply("HOSP", "T1", "Hospital"))
	require.NoError(t, apply("CLINIC", "T2", "Clinic"))
	err = apply("ELSEWHERE", "T3", "Nowhere")
	require.Error(t, err)
	assert.True(t, ingest.IsPermanent(err), "%v", err)

	find := func(tenant string) []*store.Resource {
		q, _, err := service.ParseSearch(reg, "Patient", map[string][]string{"identifier": {"MRN-5"}})
		require.NoError(t, err)
		res, err := st.Search(store.WithScope(ctx, store.Scope{Tenant: tenant}), q)
		require.NoError(t, err)
		return res.Matches
	}
	acme, bravo := find("acme"), find("bravo")
	require.Len(t, acme, 1)
	require.Len(t, bravo, 1)
	assert.Contains(t, string(acme[0].Content), "Hospital")
	assert.Contains(t, string(bravo[0].Content), "Clinic")
	assert.Empty(t, find(""), "nothing lands in the default tenant")
}
