package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/admin"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type listBody struct {
	Messages []struct {
		ID                int64  `json:"id"`
		Status            string `json:"status"`
		ControlID         string `json:"controlId"`
		Raw               string `json:"raw"`
		RawBase64         string `json:"rawBase64"`
		PatientIdentifier *struct {
			Value, System string
		} `json:"patientIdentifier"`
	} `json:"messages"`
	Next string `json:"next"`
}

func get(t *testing.T, url string, into any) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if into != nil && resp.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(b, into), string(b))
	}
	return resp.StatusCode, b
}

func TestMessagesAPI(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var ms []*store.HL7Message
	for i := range 7 {
		raw := fmt.Sprintf("MSH|^~\\&|LAB|HOSP|||20261102||ORU^R01|C%d|P|2.5.1\rPID|||MRN%d^^^HOSP\r", i, i%2)
		m := &store.HL7Message{ReceivedAt: t0.Add(time.Duration(i) * time.Minute), Raw: []byte(raw), SendingApp: "LAB",
			SendingFacility: "HOSP", ControlID: fmt.Sprintf("C%d", i), Type: "ORU", Trigger: "R01",
			PatientID: fmt.Sprintf("MRN%d", i%2), PatientIDSystem: "HOSP", Status: store.MessageReceived, AckCode: "AA"}
		if i == 6 {
			m.Raw = []byte("MSH|^~\\&|LAB|HOSP\r\xff\xfe")
			m.Status, m.Error = store.MessageRejected, "MSH-9: required field missing"
		}
		ms = append(ms, m)
	}
	_, err := s.ReceiveMessages(ctx, ms)
	require.NoError(t, err)
	api, err := admin.New(admin.Config{Messages: s})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	// Paging through everything, two at a time, by following next links.
	var ids []int64
	next := "/admin/hl7v2/messages?count=2"
	for next != "" {
		var body listBody
		code, raw := get(t, srv.URL+next, &body)
		require.Equal(t, 200, code, string(raw))
		for _, m := range body.Messages {
			ids = append(ids, m.ID)
			assert.Empty(t, m.Raw)
		}
		next = body.Next
	}
	assert.Len(t, ids, 7)

	var body listBody
	code, _ := get(t, srv.URL+"/admin/hl7v2/messages?patient=MRN1&raw=true", &body)
	require.Equal(t, 200, code)
	require.Len(t, body.Messages, 3)
	assert.Contains(t, body.Messages[0].Raw, "MRN1^^^HOSP")
	assert.Equal(t, "HOSP", body.Messages[0].PatientIdentifier.System)

	code, _ = get(t, srv.URL+"/admin/hl7v2/messages?status=rejected&raw=true", &body)
	require.Equal(t, 200, code)
	require.Len(t, body.Messages, 1)
	assert.NotEmpty(t, body.Messages[0].RawBase64, "bytes that are not UTF-8 come as base64")

	code, _ = get(t, srv.URL+"/admin/hl7v2/messages?since=2026-11-02T09:02:00Z&before=2026-11-02T09:04:00Z&type=ORU", &body)
	require.Equal(t, 200, code)
	assert.Len(t, body.Messages, 2)

	var one struct {
		ControlID string `json:"controlId"`
		Raw       string `json:"raw"`
	}
	code, _ = get(t, srv.URL+fmt.Sprintf("/admin/hl7v2/messages/%d", ms[3].ID), &one)
	require.Equal(t, 200, code)
	assert.Equal(t, "C3", one.ControlID)
	assert.Equal(t, string(ms[3].Raw), one.Raw)

	code, raw := get(t, srv.URL+fmt.Sprintf("/admin/hl7v2/messages/%d/raw", ms[3].ID), nil)
	require.Equal(t, 200, code)
	assert.Equal(t, ms[3].Raw, raw)

	for _, bad := range []struct{ url, want string }{
		{"/admin/hl7v2/messages?status=lost", "status"},
		{"/admin/hl7v2/messages?since=yesterday", "since"},
		{"/admin/hl7v2/messages?count=0", "count"},
		{"/admin/hl7v2/messages?cursor=zzz", "cursor"},
		{"/admin/hl7v2/messages?colour=red", "colour"},
	} {
		code, raw := get(t, srv.URL+bad.url, nil)
		assert.Equal(t, 400, code, bad.url)
		assert.Contains(t, string(raw), "OperationOutcome")
		assert.Contains(t, string(raw), bad.want)
	}
	code, _ = get(t, srv.URL+"/admin/hl7v2/messages/999999", nil)
	assert.Equal(t, 404, code)
	resp, err := http.Post(srv.URL+"/admin/hl7v2/messages", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 405, resp.StatusCode)
}

func TestReplayAPI(t *testing.T) {
	s := pgtest.Store(t)
	var asked []store.MessageQuery
	api, err := admin.New(admin.Config{Messages: s, Replay: func(ctx context.Context, q store.MessageQuery) (int, error) {
		asked = append(asked, q)
		return 7, nil
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	post := func(url string) (int, string) {
		resp, err := http.Post(srv.URL+url, "application/json", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post("/admin/hl7v2/messages/$replay?status=error&type=ORU&since=2026-11-01")
	require.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"replayed":7}`, body)
	require.Len(t, asked, 1)
	assert.Equal(t, store.MessageError, asked[0].Status)
	assert.Equal(t, "ORU", asked[0].Type)

	code, _ = post("/admin/hl7v2/messages/$replay")
	assert.Equal(t, 400, code, "replaying everything needs an explicit filter")
	code, _ = post("/admin/hl7v2/messages/$replay?status=duplicate")
	assert.Equal(t, 400, code)
	assert.Len(t, asked, 1)

	none, err := admin.New(admin.Config{Messages: s})
	require.NoError(t, err)
	srv2 := httptest.NewServer(none.Handler())
	defer srv2.Close()
	resp, err := http.Post(srv2.URL+"/admin/hl7v2/messages/$replay?status=error", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 501, resp.StatusCode)
}
