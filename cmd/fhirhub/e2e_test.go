package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/adapters/mllp"
	"github.com/fhirhub/fhirhub/pipelines/changes"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// The end-to-end tests run `fhirhub serve` as child processes on a
// PostgreSQL database and a Kafka-protocol broker of their own, send HL7 v2
// over MLLP and look at what comes out: the ACK bytes, the message store,
// the FHIR REST API, and the fhir.changes and hl7v2.dlq topics.

// hub is a database and a broker with the servers started on them, which
// share one embedded token issuer key.
type hub struct {
	db      string
	brokers []string
	keyFile string
	admin   string // an admin token
	conn    *pgx.Conn
	servers []endpoint
}

// endpoint is one server's addresses and the admin token it accepts.
type endpoint struct{ http, mllp, token string }

// newHub returns an empty database and broker with one server started with
// the extra flags.
func newHub(t *testing.T, extra ...string) *hub {
	t.Helper()
	if testing.Short() {
		t.Skip("starts server processes")
	}
	h := &hub{db: pgtest.URL(t), brokers: kafkatest.Brokers(t), keyFile: filepath.Join(t.TempDir(), "issuer.pem")}
	h.admin = strings.TrimSpace(runMain(t, "token", "-auth-key-file", h.keyFile, "-role", "admin", "-scope", "user/*.cruds"))
	h.serve(t, extra...)
	conn, err := pgx.Connect(context.Background(), h.db)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	h.conn = conn
	return h
}

// serve starts one more server on the hub's database and broker.
func (h *hub) serve(t *testing.T, extra ...string) endpoint {
	t.Helper()
	e := endpoint{http: freePort(t), mllp: freePort(t), token: h.admin}
	args := append([]string{"-database-url", h.db, "-kafka-brokers", strings.Join(h.brokers, ","),
		"-http-addr", e.http, "-mllp-addr", e.mllp, "-auth-key-file", h.keyFile}, extra...)
	startServer(t, args...)
	waitListening(t, e.mllp) // listened on last
	h.servers = append(h.servers, e)
	return e
}

// sent is what a message sent over MLLP was answered.
type sent struct {
	ack      []byte
	code     string // MSA-1
	control  string // MSA-2
	errSeg   hl7v2.Segment
	hasError bool
}

// sendMLLP sends raw over MLLP to addr and reads the acknowledgment.
func sendMLLP(t *testing.T, addr string, raw []byte) sent {
	t.Helper()
	c, err := mllp.NewClient(mllp.DefaultClientConfig(addr))
	require.NoError(t, err)
	defer c.Close()
	ack, err := c.Send(context.Background(), raw)
	require.NoError(t, err)
	m, err := hl7v2.Parse(ack)
	require.NoError(t, err, "ack %q", ack)
	msa := m.Segment("MSA", 1)
	errSeg := m.Segment("ERR", 1)
	return sent{ack: ack, code: msa.Field(1).String(), control: msa.Field(2).String(), errSeg: errSeg, hasError: errSeg.Exists()}
}

func corpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "mappings", "testdata", name+".hl7"))
	require.NoError(t, err)
	return b
}

// row is a message's row in the message store.
type row struct {
	id             int64
	status, ack    string
	reason         string
	attempts       int
	resources      []string
	published      bool
	duplicateCount int
}

// message reads the message that claims control id, with the number of
// duplicates of it.
func (h *hub) message(t *testing.T, control string) row {
	t.Helper()
	r, err := h.lookup(control)
	require.NoError(t, err, "message %s", control)
	return r
}

func (h *hub) lookup(control string) (row, error) {
	var r row
	err := h.conn.QueryRow(context.Background(), `SELECT id, status, ack_code, error, attempts, resources,
		NOT EXISTS (SELECT FROM hl7_message_unpublished u WHERE u.id = m.id), (SELECT count(*) FROM hl7_message d WHERE d.duplicate_of = m.id AND d.status = 'duplicate')
		FROM hl7_message m WHERE control_id = $1 AND claims_key`, control).
		Scan(&r.id, &r.status, &r.ack, &r.reason, &r.attempts, &r.resources, &r.published, &r.duplicateCount)
	return r, err
}

// eventually polls cond until it holds, failing after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// finished waits until the message is no longer received and has been
// attempted at least attempts times.
func (h *hub) finished(t *testing.T, control string, attempts int) row {
	t.Helper()
	var r row
	eventually(t, "message "+control+" processed", func() bool {
		var err error
		r, err = h.lookup(control)
		if errors.Is(err, pgx.ErrNoRows) {
			return false // not stored yet
		}
		require.NoError(t, err)
		return r.status != "received" && r.attempts >= attempts
	})
	return r
}

// versions is the number of stored resource versions, less the audit
// trail (each request adds to it).
func (h *hub) versions(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, h.conn.QueryRow(context.Background(), `SELECT count(*) FROM resource_history WHERE type <> 'AuditEvent'`).Scan(&n))
	return n
}

// get reads a FHIR resource over REST (path: Type/id or Type/id/_history/n).
func get(t *testing.T, e endpoint, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+e.http+"/fhir/"+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// readable asserts that every resource version a message wrote can be
// read over REST.
func readable(t *testing.T, e endpoint, resources []string) {
	t.Helper()
	require.NotEmpty(t, resources)
	for _, r := range resources {
		status, res := get(t, e, r)
		if assert.Equal(t, http.StatusOK, status, r) {
			typ, _, _ := strings.Cut(r, "/")
			assert.Equal(t, typ, res["resourceType"], r)
		}
	}
}

// changeLog reads fhir.changes through a consumer group of its own.
type changeLog struct {
	c    *kafka.Consumer
	seen map[string]int // event id -> times seen
}

func newChangeLog(t *testing.T, brokers []string) *changeLog {
	t.Helper()
	c, err := kafka.NewConsumer(kafkatest.Config(brokers), "e2e-"+strings.ReplaceAll(t.Name(), "/", "-"), kafka.TopicFHIRChanges)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &changeLog{c: c, seen: map[string]int{}}
}

// waitFor reads events until each of ids (Type/id/_history/n) was seen,
// checking each event's value against its headers.
func (l *changeLog) waitFor(t *testing.T, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ids {
		for l.seen[id] == 0 {
			rec, err := l.c.Fetch(ctx)
			require.NoError(t, err, "event %s not on %s", id, kafka.TopicFHIRChanges)
			var ev changes.Event
			require.NoError(t, json.Unmarshal(rec.Value, &ev))
			hid, _ := rec.HeaderValue(changes.HeaderEventID)
			assert.Equal(t, ev.ID, string(hid))
			assert.Equal(t, fmt.Sprintf("%s/%s/_history/%d", ev.ResourceType, ev.ResourceID, ev.Version), ev.ID)
			key := ev.ResourceType + "/" + ev.ResourceID
			if ev.Patient != "" {
				key = ev.Patient
			}
			assert.Equal(t, key, string(rec.Key), "key of %s", ev.ID)
			l.seen[ev.ID]++
		}
	}
}

func adtA01(control, mrn string) []byte {
	return []byte("MSH|^~\\&|ADT|HOSP|FHIRHUB|HOSP|20261102083000||ADT^A01^ADT_A01|" + control + "|P|2.5.1\r" +
		"EVN|A01|20261102083000\r" +
		"PID|1||" + mrn + "^^^HOSP^MR||Dlamini^Thandi||19840229|F\r" +
		"PV1|1|I|WARD1^101^A" + strings.Repeat("|", 16) + "V" + control + "\r")
}

// adtNoPatientID is an ADT^A01 whose PID has no PID-3: it cannot be mapped.
func adtNoPatientID(control string) []byte {
	return []byte("MSH|^~\\&|ADT|HOSP|FHIRHUB|HOSP|20261102083000||ADT^A01^ADT_A01|" + control + "|P|2.5.1\r" +
		"EVN|A01\rPID|1||||Nobody^Known\r")
}

// oruNoService is an ORU^R01 whose OBR has no OBR-4 (universal service
// identifier): it cannot be mapped.
func oruNoService(control string) []byte {
	return []byte("MSH|^~\\&|LIS|CITYLAB|FHIRHUB|HOSP|20261102083000||ORU^R01^ORU_R01|" + control + "|P|2.5.1\r" +
		"PID|1||MRN500^^^CITYLAB^MR||Doe^Jane||19800101|F\r" +
		"OBR|1|ORD500|FIL500|\r" +
		"OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-6.1|N|||F\r")
}

// TestEndToEnd runs one server in the default mode (ACK once stored) and
// follows messages of every supported type from MLLP to FHIR and the
// change topic, then duplicates, replays, a corrected result and a poison
// message.
func TestEndToEnd(t *testing.T) {
	h := newHub(t)
	srv := h.servers[0]
	events := newChangeLog(t, h.brokers)

	// Sent in this order: the ADT A01/A08, lab result and imaging order
	// of one patient, a radiology order and a discharge of two others.
	files := []struct{ name, control string }{
		{"adt_a01_basic", "ADT0001"},
		{"adt_a08_update_nulls", "ADT0008"},
		{"oru_r01_lab", "LAB-2025-88123"},
		{"omi_o23_imaging_order", "OMI-6610"},
		{"orm_o01_radiology_zds", "ORM-7001"},
		{"adt_a03_discharge_latin1", "ADT0107"},
	}
	acks := map[string]string{}
	t.Run("message types", func(t *testing.T) {
		for _, f := range files {
			a := sendMLLP(t, srv.mllp, corpus(t, f.name))
			assert.Contains(t, []string{"AA", "CA"}, a.code, f.name)
			assert.Equal(t, f.control, a.control, f.name)
			acks[f.control] = a.code
			// Sequentially, so that one patient's messages apply in order.
			r := h.finished(t, f.control, 1)
			require.Equal(t, "processed", r.status, "%s: %s", f.name, r.reason)
			readable(t, srv, r.resources)
			events.waitFor(t, r.resources...)
		}
	})

	t.Run("duplicate answered as the original, not processed again", func(t *testing.T) {
		before := h.versions(t)
		for _, f := range files[:3] {
			a := sendMLLP(t, srv.mllp, corpus(t, f.name))
			assert.Equal(t, acks[f.control], a.code, f.name)
			assert.Equal(t, f.control, a.control)
			r := h.message(t, f.control)
			assert.Equal(t, 1, r.duplicateCount, f.name)
			assert.Equal(t, 1, r.attempts, "%s processed once", f.name)
		}
		assert.Equal(t, before, h.versions(t), "no new versions")
	})

	t.Run("replay of processed messages changes nothing", func(t *testing.T) {
		// The last message of each patient: replaying an older one over
		// newer data is the out-of-order protection's subject.
		before := h.versions(t)
		for _, filter := range [][]string{{"-type", "OMI"}, {"-type", "ORM"}, {"-trigger", "A03"}} {
			// fhirhub replay, with the token in FHIRHUB_TOKEN.
			t.Setenv("FHIRHUB_TOKEN", h.admin)
			runMain(t, append([]string{"replay", "-server", "http://" + srv.http, "-status", "processed"}, filter...)...)
		}
		for _, control := range []string{"OMI-6610", "ORM-7001", "ADT0107"} {
			r := h.finished(t, control, 2)
			assert.Equal(t, "processed", r.status, control)
		}
		assert.Equal(t, before, h.versions(t), "replay made new versions")
	})

	t.Run("corrected result is a new version of the same Observation", func(t *testing.T) {
		first := h.message(t, "LAB-2025-88123").resources
		a := sendMLLP(t, srv.mllp, corpus(t, "oru_r01_lab_corrected"))
		assert.Contains(t, []string{"AA", "CA"}, a.code)
		r := h.finished(t, "LAB-2025-88123-C1", 1)
		require.Equal(t, "processed", r.status, r.reason)
		ids := map[string]bool{}
		for _, loc := range first {
			if strings.HasPrefix(loc, "Observation/") {
				ids[strings.Join(strings.Split(loc, "/")[:2], "/")] = true
			}
		}
		var corrected []string
		for _, loc := range r.resources {
			if !strings.HasPrefix(loc, "Observation/") {
				continue
			}
			id := strings.Join(strings.Split(loc, "/")[:2], "/")
			assert.True(t, ids[id], "%s is not one of the original Observations", id)
			if _, obs := get(t, srv, id); obs["status"] == "corrected" {
				corrected = append(corrected, loc)
				q, _ := obs["valueQuantity"].(map[string]any)
				assert.Equal(t, 5.4, q["value"])
				assert.False(t, strings.HasSuffix(loc, "/_history/1"), "a corrected result is a new version: %s", loc)
			}
		}
		assert.Len(t, corrected, 1, "the potassium result is corrected")
		events.waitFor(t, corrected...)
	})

	t.Run("poison message to the DLQ while others continue", func(t *testing.T) {
		poison := adtNoPatientID("POISON-1")
		a := sendMLLP(t, srv.mllp, poison)
		assert.Equal(t, "AA", a.code, "stored, so accepted in the default mode")
		for i := range 3 {
			sendMLLP(t, srv.mllp, adtA01(fmt.Sprintf("AFTER-%d", i), fmt.Sprintf("MRN-P%d", i)))
		}
		r := h.finished(t, "POISON-1", 1)
		assert.Equal(t, "error", r.status)
		assert.Contains(t, r.reason, "PID-3")
		for i := range 3 {
			r := h.finished(t, fmt.Sprintf("AFTER-%d", i), 1)
			assert.Equal(t, "processed", r.status, r.reason)
			readable(t, srv, r.resources)
			events.waitFor(t, r.resources...)
		}
		dlq := kafkatest.Consume(t, kafkatest.Config(h.brokers), kafka.TopicHL7DLQ, 1)
		assert.Equal(t, poison, dlq[0].Value)
		control, _ := dlq[0].HeaderValue(intake.HeaderControlID)
		assert.Equal(t, "POISON-1", string(control))
		reason, _ := dlq[0].HeaderValue("fhirhub-error")
		assert.Contains(t, string(reason), "PID-3")
		attempts, _ := dlq[0].HeaderValue("fhirhub-attempts")
		assert.Equal(t, "1", string(attempts))
		_, ok := dlq[0].HeaderValue("fhirhub-first-failed-at")
		assert.True(t, ok)
	})
}

// TestAckAfterCommit runs a server with -ack=after-commit: AA only once
// the FHIR resources are committed, AE with the reason for a message that
// cannot be mapped, duplicates answered with the original outcome, and
// the ingest consumer not processing the messages a second time.
func TestAckAfterCommit(t *testing.T) {
	h := newHub(t, "-ack", "after-commit")
	srv := h.servers[0]

	t.Run("AA after the commit", func(t *testing.T) {
		a := sendMLLP(t, srv.mllp, hl7Message("AC-1", 1))
		assert.Equal(t, "AA", a.code)
		assert.False(t, a.hasError)
		// No waiting: the answer came after the commit.
		r := h.message(t, "AC-1")
		require.Equal(t, "processed", r.status, r.reason)
		readable(t, srv, r.resources)
	})

	failing := []struct {
		name, control string
		raw           []byte
		loc, reason   string
	}{
		{"ADT without PID-3", "AC-2", adtNoPatientID("AC-2"), "PID^1^3", "PID-3"},
		{"ORU without OBR-4", "AC-3", oruNoService("AC-3"), "OBR^1^4", "OBR-4"},
	}
	for _, f := range failing {
		t.Run("AE with ERR for an "+f.name, func(t *testing.T) {
			a := sendMLLP(t, srv.mllp, f.raw)
			assert.Equal(t, "AE", a.code)
			assert.Equal(t, f.control, a.control)
			require.True(t, a.hasError, "no ERR in %q", a.ack)
			assert.Equal(t, f.loc, a.errSeg.Field(2).Raw(), "ERR-2")
			assert.Equal(t, "207", a.errSeg.Field(3).String(), "ERR-3")
			assert.Equal(t, "E", a.errSeg.Field(4).String(), "ERR-4")
			assert.Contains(t, a.errSeg.Field(8).String(), f.reason, "ERR-8")
			r := h.message(t, f.control)
			assert.Equal(t, "error", r.status)
			assert.Contains(t, r.reason, f.reason)
		})
	}

	t.Run("duplicates answered with the original outcome", func(t *testing.T) {
		before := h.versions(t)
		first := sendMLLP(t, srv.mllp, hl7Message("AC-1", 1))
		assert.Equal(t, "AA", first.code)
		for _, f := range failing {
			a := sendMLLP(t, srv.mllp, f.raw)
			assert.Equal(t, "AE", a.code)
			require.True(t, a.hasError)
			assert.Equal(t, f.loc, a.errSeg.Field(2).Raw())
			assert.Contains(t, a.errSeg.Field(8).String(), f.reason)
		}
		assert.Equal(t, before, h.versions(t))
	})

	t.Run("the ingest consumer does not process them again", func(t *testing.T) {
		for _, c := range []string{"AC-1", "AC-2", "AC-3"} {
			eventually(t, c+" published", func() bool { return h.message(t, c).published })
		}
		// A message produced to the topic after them, with the key of
		// AC-1's patient, is processed after AC-1's record on the same
		// partition.
		p, err := kafka.NewProducer(kafkatest.Config(h.brokers))
		require.NoError(t, err)
		defer p.Close()
		require.NoError(t, p.Publish(context.Background(), kafka.Record{Topic: kafka.TopicHL7Inbound,
			Key: []byte("CITYLAB|MRN1"), Value: hl7Message("AC-K", 1)}))
		r := h.finished(t, "AC-K", 1)
		assert.Equal(t, "processed", r.status, r.reason)
		for _, c := range []string{"AC-1", "AC-2", "AC-3"} {
			assert.Equal(t, 1, h.message(t, c).attempts, "%s processed once", c)
		}
	})

	t.Run("poison copied to the DLQ", func(t *testing.T) {
		recs := kafkatest.Consume(t, kafkatest.Config(h.brokers), kafka.TopicHL7DLQ, 2)
		controls := map[string]bool{}
		for _, rec := range recs {
			c, _ := rec.HeaderValue(intake.HeaderControlID)
			controls[string(c)] = true
			reason, _ := rec.HeaderValue("fhirhub-error")
			assert.NotEmpty(t, reason)
		}
		assert.Equal(t, map[string]bool{"AC-2": true, "AC-3": true}, controls)
	})
}

// TestTwoServersShareTheWork runs two servers on one database and broker
// and sends messages to both: each message's effect is made once (every
// resource at version 1) and each version is one event.
func TestTwoServersShareTheWork(t *testing.T) {
	h := newHub(t)
	h.serve(t)
	events := newChangeLog(t, h.brokers)

	const per = 15
	var wg sync.WaitGroup
	for s, srv := range h.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := mllp.NewClient(mllp.DefaultClientConfig(srv.mllp))
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			for i := range per {
				ack, err := c.Send(context.Background(), adtA01(fmt.Sprintf("TWO-%d-%d", s, i), fmt.Sprintf("MRN-T%d-%d", s, i)))
				if assert.NoError(t, err) {
					assert.Contains(t, string(ack), "MSA|AA|")
				}
			}
		}()
	}
	wg.Wait()

	var all []string
	for s := range h.servers {
		for i := range per {
			r := h.finished(t, fmt.Sprintf("TWO-%d-%d", s, i), 1)
			require.Equal(t, "processed", r.status, r.reason)
			// attempts may be 2: while the group rebalances as the second
			// server joins, a record being processed by one server can be
			// fetched by the other; the effect is still made once.
			for _, loc := range r.resources {
				assert.True(t, strings.HasSuffix(loc, "/_history/1"), "%s: a second processing made a new version", loc)
			}
			all = append(all, r.resources...)
		}
	}
	readable(t, h.servers[1], all[:5])
	events.waitFor(t, all...)
	// As many events as versions, so none twice.
	total := h.versions(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	for _, c := range events.seen {
		n += c
	}
	for n < total {
		rec, err := events.c.Fetch(ctx)
		require.NoError(t, err, "%d of %d events", n, total)
		id, _ := rec.HeaderValue(changes.HeaderEventID)
		events.seen[string(id)]++
		n++
	}
	for id, c := range events.seen {
		assert.Equal(t, 1, c, "event %s", id)
	}
}
