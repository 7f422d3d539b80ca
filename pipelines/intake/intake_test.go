package intake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// oru returns a lab result message with the given control id, MSH-15/16
// and patient.
func oru(control, ackTypes, mrn string) []byte {
	return []byte("MSH|^~\\&|LIS|CITYLAB|FHIRHUB|HOSP|20261102083000||ORU^R01^ORU_R01|" + control + "|P|2.5.1|||" + ackTypes + "\r" +
		"PID|1||" + mrn + "^^^CITYLAB^MR||Doe^Jane||19800101|F\r" +
		"OBR|1|ORD1|FIL1|2345-7^Glucose^LN\r" +
		"OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-6.1|N|||F\r")
}

func newIntake(t *testing.T, s intake.Store) *intake.Intake {
	t.Helper()
	cfg := intake.DefaultConfig()
	cfg.Store = s
	in, err := intake.New(cfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(context.Background()))
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

// ackOf parses an acknowledgment and returns MSA-1, MSA-2 and its ERR-3
// codes.
func ackOf(t *testing.T, ack []byte) (code, control string, errCodes []string) {
	t.Helper()
	require.NotNil(t, ack, "an acknowledgment")
	m, err := hl7v2.Parse(ack)
	require.NoError(t, err)
	msa := m.Segment("MSA", 1)
	require.True(t, msa.Exists())
	for seg := range m.SegmentsNamed("ERR") {
		errCodes = append(errCodes, seg.Field(3).Comp(1).String())
	}
	return msa.Field(1).String(), msa.Field(2).String(), errCodes
}

func TestReceive(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	in := newIntake(t, s)
	src := intake.Source{Channel: "mllp", Peer: "127.0.0.1:5000"}

	cases := []struct {
		name       string
		raw        []byte
		frameErr   error
		tooLarge   bool
		wantAck    string // "" for no acknowledgment
		wantStatus store.MessageStatus
		wantErr    string // ERR-3 code
	}{
		{"accepted", oru("A1", "", "MRN1"), nil, false, "AA", store.MessageReceived, ""},
		{"enhanced mode commit accept", oru("A2", "AL|NE", "MRN1"), nil, false, "CA", store.MessageReceived, ""},
		{"enhanced mode, no accept ack wanted", oru("A3", "NE|AL", "MRN1"), nil, false, "", store.MessageReceived, ""},
		{"duplicate answered as the original", oru("A1", "", "MRN1"), nil, false, "AA", store.MessageDuplicate, ""},
		{"conflict: another body under a used control id", oru("A1", "", "MRN2"), nil, false, "AE", store.MessageConflict, "205"},
		{"unsupported message type", []byte(strings.Replace(string(oru("A4", "", "MRN1")), "ORU^R01^ORU_R01", "SIU^S12^SIU_S12", 1)), nil, false, "AR", store.MessageRejected, "200"},
		{"unsupported version", []byte(strings.Replace(string(oru("A5", "", "MRN1")), "|2.5.1|", "|9.9|", 1)), nil, false, "AR", store.MessageRejected, "203"},
		{"no MSH at all", []byte("this is not HL7\r"), nil, false, "AR", store.MessageRejected, ""},
		{"oversize frame with a readable MSH", oru("A6", "", "MRN1")[:120], errors.New("mllp: message too large"), true, "AR", store.MessageRejected, "207"},
		{"oversize frame without MSH", []byte("PID|1||MRN1"), errors.New("mllp: message too large"), true, "", store.MessageRejected, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := src
			src.FrameErr, src.TooLarge = tc.frameErr, tc.tooLarge
			ack, msg := in.Receive(ctx, tc.raw, src)
			require.NotZero(t, msg.ID, "every message is stored")
			assert.Equal(t, tc.wantStatus, msg.Status)
			stored, err := s.Message(ctx, msg.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.raw, stored.Raw)
			assert.Equal(t, tc.wantStatus, stored.Status)
			if tc.wantAck == "" {
				assert.Nil(t, ack)
				return
			}
			code, control, errs := ackOf(t, ack)
			assert.Equal(t, tc.wantAck, code)
			if h, err := hl7v2.ParseHeader(tc.raw); err == nil {
				assert.Equal(t, h.ControlID, control, "MSA-2 echoes MSH-10")
			}
			if tc.wantErr != "" {
				assert.Contains(t, errs, tc.wantErr)
			}
			if tc.wantStatus == store.MessageRejected {
				assert.NotEmpty(t, stored.Error, "the reason is kept")
			}
		})
	}

	first, err := s.Messages(ctx, store.MessageQuery{ControlID: "A1", Status: store.MessageReceived})
	require.NoError(t, err)
	require.Len(t, first.Messages, 1)
	m := first.Messages[0]
	assert.Equal(t, "LIS", m.SendingApp)
	assert.Equal(t, "CITYLAB", m.SendingFacility)
	assert.Equal(t, "HOSP", m.ReceivingFacility)
	assert.Equal(t, "ORU", m.Type)
	assert.Equal(t, "R01", m.Trigger)
	assert.Equal(t, "ORU_R01", m.Structure)
	assert.Equal(t, "2.5.1", m.Version)
	assert.Equal(t, "MRN1", m.PatientID)
	assert.Equal(t, "CITYLAB", m.PatientIDSystem)
	assert.Equal(t, "AA", m.AckCode)
	assert.Equal(t, "mllp", m.Channel)
}

func TestReceiveConcurrentGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	in := newIntake(t, s)
	const conns, per = 50, 20
	var wg sync.WaitGroup
	failures := make(chan string, conns*per)
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				control := fmt.Sprintf("C%d-%d", c, i)
				ack, _ := in.Receive(ctx, oru(control, "", fmt.Sprintf("MRN%d", c)), intake.Source{Channel: "mllp"})
				m, err := hl7v2.Parse(ack)
				if err != nil {
					failures <- err.Error()
					continue
				}
				if code := m.Segment("MSA", 1).Field(1).String(); code != "AA" {
					failures <- control + " " + code
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	var n int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM hl7_message WHERE status = 'received'`).Scan(&n))
	assert.Equal(t, conns*per, n, "every acknowledged message is stored")
}

func TestReceiveWhenTheStoreFails(t *testing.T) {
	ctx := context.Background()
	s := pgtest.StoreWith(t, postgres.Config{})
	in := newIntake(t, s)
	s.Close() // the database is gone

	ack, msg := in.Receive(ctx, oru("F1", "", "MRN1"), intake.Source{})
	assert.Zero(t, msg.ID)
	code, control, errs := ackOf(t, ack)
	assert.Equal(t, "AE", code, "never AA for a message that is not stored")
	assert.Equal(t, "F1", control)
	assert.Contains(t, errs, "207")

	ack, _ = in.Receive(ctx, oru("F2", "AL|AL", "MRN1"), intake.Source{})
	code, _, _ = ackOf(t, ack)
	assert.Equal(t, "CE", code)
}

func TestReceiveAfterClose(t *testing.T) {
	s := pgtest.Store(t)
	cfg := intake.DefaultConfig()
	cfg.Store = s
	in, err := intake.New(cfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, in.Close(ctx))
	require.NoError(t, in.Close(ctx), "Close twice is harmless")
	ack, _ := in.Receive(context.Background(), oru("X1", "", "MRN1"), intake.Source{})
	code, _, _ := ackOf(t, ack)
	assert.Equal(t, "AE", code)
}

func TestParseMessageTypes(t *testing.T) {
	got, err := intake.ParseMessageTypes("ADT, ORU^R01,ORM^O01,ORU^R30,ADT^A01")
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"ADT": nil, "ORU": {"R01", "R30"}, "ORM": {"O01"}}, got)
	got, err = intake.ParseMessageTypes("*")
	require.NoError(t, err)
	assert.Nil(t, got)
	for _, bad := range []string{"", "ADT^", "adt", "ORU^R01^X", "TOOLONG"} {
		_, err := intake.ParseMessageTypes(bad)
		assert.Error(t, err, bad)
	}
}
