package mllp

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// controlID reads MSH-10.
func controlID(tb testing.TB, msg []byte) string {
	tb.Helper()
	h, err := hl7v2.ParseHeader(msg)
	require.NoError(tb, err)
	return h.ControlID
}

func TestSendMessages(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(func(h *hl7v2.Header) hl7v2.AckCode {
		if h.ControlID == "MSG-2" {
			return hl7v2.AckError
		}
		return hl7v2.AckAccept
	}))
	dir := t.TempDir()
	one := MustWriteFile(t, dir, "one.hl7", lf("MSG-1"))
	two := MustWriteFile(t, dir, "two.hl7", lf("MSG-2")+"\n"+lf("MSG-3"))
	var msgs []FileMessage
	for _, p := range []string{one, two} {
		m, err := ReadMessages(p, nil)
		require.NoError(t, err)
		msgs = append(msgs, m...)
	}

	var out bytes.Buffer
	c := MustClient(t, s.Addr().String(), nil)
	results, err := SendMessages(context.Background(), c, msgs, &out)
	require.ErrorIs(t, err, ErrNotAccepted)
	assert.Contains(t, err.Error(), "messages not accepted: 1 of 3")
	assert.Equal(t, one+"\tMSG-1\tAA\t-\n"+
		two+"\tMSG-2\tAE\t-\n"+
		two+"\tMSG-3\tAA\t-\n", out.String())
	require.Len(t, results, 3)
	assert.True(t, results[0].Accepted())
	assert.False(t, results[1].Accepted())
	assert.Equal(t, "AE", results[1].Code)

	// All accepted: no error.
	out.Reset()
	results, err = SendMessages(context.Background(), c, []FileMessage{msgs[0], msgs[2]}, &out)
	require.NoError(t, err)
	assert.Len(t, results, 2)
	assert.Equal(t, 2, strings.Count(out.String(), "\tAA\t"))
}

func TestSendMessagesAckText(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		h, err := hl7v2.ParseHeader(m.Data)
		assert.NoError(t, err)
		ack, err := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: hl7v2.AckCommitAccept, Text: "queued\tfor later"})
		assert.NoError(t, err)
		return ack
	}))
	c := MustClient(t, s.Addr().String(), nil)
	var out bytes.Buffer
	_, err := SendMessages(context.Background(), c, []FileMessage{{File: "f.hl7", Index: 1, Data: testMessage("CA-1")}}, &out)
	require.NoError(t, err, "CA is an accept")
	assert.Equal(t, "f.hl7\tCA-1\tCA\tqueued for later\n", out.String())
}

func TestSendMessagesWrongAck(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		h, _ := hl7v2.ParseHeader(testMessage("SOMEONE-ELSE"))
		ack, _ := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: hl7v2.AckAccept})
		return ack
	}))
	c := MustClient(t, s.Addr().String(), nil)
	var out bytes.Buffer
	results, err := SendMessages(context.Background(), c, []FileMessage{{File: "f.hl7", Index: 1, Data: testMessage("MINE")}}, &out)
	require.ErrorIs(t, err, ErrNotAccepted)
	assert.False(t, results[0].Accepted(), "an ACK for another control id is no ACK")
	assert.Contains(t, out.String(), "f.hl7\tMINE\tAA\tacknowledgment is for control id \"SOMEONE-ELSE\"")
}

func TestSendMessagesStopsWhenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := MustClient(t, addr, func(c *ClientConfig) { c.Retries = 0 })
	msgs := []FileMessage{{File: "a", Index: 1, Data: testMessage("U-1")}, {File: "a", Index: 2, Data: testMessage("U-2")}}
	var out bytes.Buffer
	results, err := SendMessages(context.Background(), c, msgs, &out)
	require.ErrorIs(t, err, ErrNotAccepted)
	assert.Contains(t, err.Error(), "with 1 not sent")
	assert.Len(t, results, 1)
	assert.True(t, strings.HasPrefix(out.String(), "a\tU-1\t-\tmllp: send: attempt 1 of 1: connect: "), out.String())
	assert.Equal(t, 1, strings.Count(out.String(), "\n"))
}

func TestSendMessagesFromBatchFile(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	data, err := os.ReadFile(filepath.Join("..", "hl7v2", "testdata", "batch_nightly_results.hl7"))
	require.NoError(t, err)
	p := MustWriteFile(t, t.TempDir(), "nightly.hl7", string(data))
	msgs, err := ReadMessages(p, nil)
	require.NoError(t, err)
	require.NotEmpty(t, msgs)
	var out bytes.Buffer
	_, err = SendMessages(context.Background(), MustClient(t, s.Addr().String(), nil), msgs, &out)
	require.NoError(t, err)
	assert.Equal(t, len(msgs), strings.Count(out.String(), "\tAA\t"))
	assert.EqualValues(t, len(msgs), s.Stats().Messages)
}

// A message in enhanced mode that asks for no accept acknowledgment
// (MSH-15 NE) is sent without waiting for one.
func TestSendMessagesNoAckRequested(t *testing.T) {
	acks := make(chan []byte, 4)
	scfg, _ := testConfig(t)
	srv := MustServe(t, scfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		acks <- m.Data
		return nil // as the receiver must: MSH-15 NE
	}))
	cfg := DefaultClientConfig(srv.Addr().String())
	cfg.AckTimeout = 200 * time.Millisecond
	c, err := NewClient(cfg)
	require.NoError(t, err)
	defer c.Close()
	msg := []byte("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|NE-1|P|2.5.1|||NE|NE\r")
	var out bytes.Buffer
	results, err := SendMessages(context.Background(), c, []FileMessage{{File: "f", Index: 1, Data: msg}}, &out)
	require.NoError(t, err)
	require.Len(t, results, 1)
	assert.True(t, results[0].Accepted())
	assert.True(t, results[0].NoAck)
	assert.Contains(t, out.String(), "NE-1")
	select {
	case got := <-acks:
		assert.Equal(t, msg, got)
	case <-time.After(5 * time.Second):
		t.Fatal("the message never arrived")
	}
}
