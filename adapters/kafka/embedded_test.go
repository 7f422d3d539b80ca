package kafka

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kafka-go bootstraps from Brokers and then dials the address the broker
// advertises in metadata, so that address must be the bound one, with the
// real port when Addr asked for port 0.
func TestEmbedded_AdvertisesBoundAddress(t *testing.T) {
	freePort := func(t *testing.T) int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())
		return port
	}
	for _, tc := range []struct {
		name     string
		addr     func(t *testing.T) string
		wantHost string
	}{
		{name: "default", addr: func(*testing.T) string { return "" }, wantHost: "127.0.0.1"},
		{name: "loopback port 0", addr: func(*testing.T) string { return "127.0.0.1:0" }, wantHost: "127.0.0.1"},
		{name: "localhost port 0", addr: func(*testing.T) string { return "localhost:0" }, wantHost: "127.0.0.1"},
		{name: "fixed port", addr: func(t *testing.T) string { return "127.0.0.1:" + strconv.Itoa(freePort(t)) }, wantHost: "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr(t)
			e := MustEmbedded(t, EmbeddedConfig{Addr: addr, Topics: []string{TopicHL7Inbound}})
			require.Len(t, e.Brokers(), 1)
			host, port, err := net.SplitHostPort(e.Brokers()[0])
			require.NoError(t, err)
			assert.Equal(t, tc.wantHost, host)
			assert.NotEqual(t, "0", port)
			if _, wantPort, _ := net.SplitHostPort(addr); wantPort != "" && wantPort != "0" {
				assert.Equal(t, wantPort, port)
			}

			md := MustMetadata(t, e.Brokers(), TopicHL7Inbound)
			require.Len(t, md.Brokers, 1)
			assert.Equal(t, e.Brokers()[0], net.JoinHostPort(md.Brokers[0].Host, strconv.Itoa(md.Brokers[0].Port)))

			// And kafka-go, dialing by metadata, can produce and consume.
			cfg := testConfig(e.Brokers())
			MustPublish(t, MustProducer(t, cfg), Record{Topic: TopicHL7Inbound, Key: []byte("k"), Value: []byte("v")})
			got := MustFetchN(t, MustConsumer(t, cfg, "g", TopicHL7Inbound), 1)
			assert.Equal(t, "v", string(got[0].Value))
		})
	}
}

func TestStartEmbedded_Errors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for name, cfg := range map[string]EmbeddedConfig{
		"all interfaces v4": {Addr: "0.0.0.0:0"},
		"all interfaces v6": {Addr: "[::]:0"},
		"empty host":        {Addr: ":0"},
		"no port":           {Addr: "127.0.0.1"},
		"bad port":          {Addr: "127.0.0.1:99999"},
		"negative parts":    {Partitions: -1},
		"bad topic":         {Topics: []string{"hl7 inbound"}},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := StartEmbedded(ctx, cfg)
			if e != nil {
				_ = e.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "kafka: embedded:")
		})
	}
	t.Run("address in use fails at once", func(t *testing.T) {
		first := MustEmbedded(t, EmbeddedConfig{})
		_, err := StartEmbedded(ctx, EmbeddedConfig{Addr: first.Brokers()[0]})
		require.Error(t, err)
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		_, err := StartEmbedded(cctx, EmbeddedConfig{})
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestEmbedded_CreatesTopicsAtStart(t *testing.T) {
	e := MustEmbedded(t, DefaultEmbeddedConfig())
	md := MustMetadata(t, e.Brokers(), SystemTopics()...)
	counts := map[string]int{}
	for _, tp := range md.Topics {
		require.NoError(t, tp.Error)
		counts[tp.Name] = len(tp.Partitions)
	}
	for _, name := range SystemTopics() {
		assert.Equal(t, DefaultPartitions, counts[name], name)
	}
}

// Closing the broker closes clients' connections: Publish then fails
// within its deadline instead of hanging, and Fetch does not hang either.
func TestEmbedded_CloseFailsClientsPromptly(t *testing.T) {
	e, err := StartEmbedded(context.Background(), EmbeddedConfig{Topics: []string{TopicFHIRChanges}})
	require.NoError(t, err)
	cfg := testConfig(e.Brokers())
	p := MustProducer(t, cfg)
	MustPublish(t, p, Record{Topic: TopicFHIRChanges, Key: []byte("Patient/1"), Value: []byte("{}")})
	c := MustConsumer(t, cfg, "g", TopicFHIRChanges)
	MustFetchN(t, c, 1)

	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")

	// The listener is gone.
	conn, err := net.DialTimeout("tcp", e.Brokers()[0], time.Second)
	if err == nil {
		_ = conn.Close()
	}
	require.Error(t, err, "broker still accepting connections after Close")

	const deadline = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err = p.Publish(ctx, Record{Topic: TopicFHIRChanges, Key: []byte("Patient/1"), Value: []byte("{}")})
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kafka: publish:")
	assert.Less(t, elapsed, deadline+time.Second, "Publish overran its context deadline")
	assert.True(t, IsRetryable(err), "a stopped broker may come back: %v", err)

	// kafka-go's reader keeps reconnecting (a broker may come back), so
	// Fetch ends with its context.
	fctx, fcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer fcancel()
	_, err = c.Fetch(fctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// With DataDir the broker keeps records and committed offsets across a
// restart, so the single-machine default loses nothing on a clean stop.
func TestEmbedded_DataDirSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cfgE := EmbeddedConfig{Topics: []string{TopicHL7Inbound}, Partitions: 1, DataDir: dir}

	e1, err := StartEmbedded(ctx, cfgE)
	require.NoError(t, err)
	cfg := testConfig(e1.Brokers())
	p, err := NewProducer(cfg)
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, p.Publish(ctx, Record{Topic: TopicHL7Inbound, Key: key(i), Value: []byte(strconv.Itoa(i))}))
	}
	require.NoError(t, p.Close())
	c, err := NewConsumer(cfg, "ingest", TopicHL7Inbound)
	require.NoError(t, err)
	got := MustFetchN(t, c, 4)
	require.NoError(t, c.Commit(ctx, got[1]))
	require.NoError(t, c.Close())
	require.NoError(t, e1.Close())

	e2 := MustEmbedded(t, cfgE)
	c2 := MustConsumer(t, testConfig(e2.Brokers()), "ingest", TopicHL7Inbound)
	rest := MustFetchN(t, c2, 2)
	assert.Equal(t, "2", string(rest[0].Value))
	assert.Equal(t, "3", string(rest[1].Value))
}
