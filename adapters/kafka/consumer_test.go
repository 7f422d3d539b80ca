package kafka

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Commit after effect: a new member of the group starts after the last
// committed offset of each partition; what was committed is never
// redelivered, what was fetched but not committed is.
func TestConsumer_ResumesAfterCommittedOffset(t *testing.T) {
	const partitions, records = 3, 60
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, partitions)
	p := MustProducer(t, cfg)
	var recs []Record
	for i := range records {
		recs = append(recs, Record{Topic: topic, Key: key(i), Value: fmt.Appendf(nil, "%d", i)})
	}
	MustPublish(t, p, recs...)

	group := UniqueName("g")
	first := MustConsumer(t, cfg, group, topic)
	fetched := MustFetchN(t, first, records)

	// Commit the first half of each partition (in offset order), as a
	// pipeline would after applying them.
	byPartition := map[int][]Record{}
	for _, r := range fetched {
		byPartition[r.Partition] = append(byPartition[r.Partition], r)
	}
	require.Greater(t, len(byPartition), 1, "records should span partitions")
	var toCommit []Record
	want := map[string]bool{} // partition/offset of records to be redelivered
	for part, rs := range byPartition {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
		half := len(rs) / 2
		toCommit = append(toCommit, rs[:half]...)
		for _, r := range rs[half:] {
			want[fmt.Sprintf("%d/%d", part, r.Offset)] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	require.NoError(t, first.Commit(ctx, toCommit...))
	require.NoError(t, first.Close())

	second := MustConsumer(t, cfg, group, topic)
	redelivered := MustFetchN(t, second, len(want))
	got := map[string]bool{}
	for _, r := range redelivered {
		got[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = true
	}
	// Each partition is delivered in offset order from the committed
	// offset, so a committed record redelivered would take the place of
	// an uncommitted one here.
	assert.Equal(t, want, got)

	// Once everything is committed, a third member gets only new records.
	require.NoError(t, second.Commit(ctx, redelivered...))
	require.NoError(t, second.Close())
	MustPublish(t, p, Record{Topic: topic, Key: key(0), Value: []byte("new")})
	third := MustConsumer(t, cfg, group, topic)
	next := MustFetchN(t, third, 1)
	assert.Equal(t, "new", string(next[0].Value))
}

func TestConsumer_FetchHonoursContext(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, 1)
	c := MustConsumer(t, cfg, UniqueName("g"), topic)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, IsRetryable(err))
}

func TestConsumer_Close(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, 1)
	p := MustProducer(t, cfg)
	MustPublish(t, p, Record{Topic: topic, Value: []byte("x")})
	c := MustConsumer(t, cfg, UniqueName("g"), topic)
	rec := MustFetchN(t, c, 1)[0]

	// A Fetch blocked when Close is called returns ErrClosed.
	fetchErr := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background())
		fetchErr <- err
	}()
	start := time.Now()
	require.NoError(t, c.Close())
	assert.Less(t, time.Since(start), 5*time.Second, "Close should take about MaxWait, not kafka-go's ~9 s default")
	select {
	case err := <-fetchErr:
		require.ErrorIs(t, err, ErrClosed)
	case <-time.After(testTimeout):
		t.Fatal("Fetch still blocked after Close")
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := c.Fetch(ctx)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, c.Commit(ctx, rec), ErrClosed)
	require.NoError(t, c.Close(), "Close is idempotent")
}

func TestNewConsumer_Validates(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:9092"})
	_, err := NewConsumer(cfg, "", "t")
	require.Error(t, err)
	_, err = NewConsumer(cfg, "g", "")
	require.Error(t, err)
	_, err = NewConsumer(testConfig(nil), "g", "t")
	require.Error(t, err)
}
