package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnsureTopics_Idempotent(t *testing.T) {
	brokers := MustBrokers(t)
	cfg := testConfig(brokers)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	a, b := UniqueName("ensure-a"), UniqueName("ensure-b")

	require.NoError(t, EnsureTopics(ctx, cfg, TopicSpec{Name: a, Partitions: 4}))
	// Again, plus a new one; a's different count is ignored, not an error.
	require.NoError(t, EnsureTopics(ctx, cfg, TopicSpec{Name: a, Partitions: 2}, TopicSpec{Name: b, Partitions: 3}))
	require.NoError(t, EnsureTopics(ctx, cfg, TopicSpec{Name: a, Partitions: 4}, TopicSpec{Name: b, Partitions: 3}))
	require.NoError(t, EnsureTopics(ctx, cfg), "no topics: no-op")

	md := MustMetadata(t, brokers, a, b)
	counts := map[string]int{}
	for _, tp := range md.Topics {
		require.NoError(t, tp.Error)
		counts[tp.Name] = len(tp.Partitions)
	}
	assert.Equal(t, map[string]int{a: 4, b: 3}, counts)
}

func TestEnsureTopics_BrokerDefaultPartitions(t *testing.T) {
	// The embedded broker's default applies to topics created without a
	// count.
	e := MustEmbedded(t, EmbeddedConfig{Partitions: 5})
	cfg := testConfig(e.Brokers())
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	name := UniqueName("defaults")
	require.NoError(t, EnsureTopics(ctx, cfg, TopicSpec{Name: name}))
	md := MustMetadata(t, e.Brokers(), name)
	require.Len(t, md.Topics, 1)
	assert.Len(t, md.Topics[0].Partitions, 5)
}

func TestEnsureTopics_Errors(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for name, spec := range map[string]TopicSpec{
		"empty name":     {},
		"bad character":  {Name: "hl7 inbound"},
		"dot":            {Name: "."},
		"negative parts": {Name: "x", Partitions: -1},
	} {
		t.Run(name, func(t *testing.T) {
			err := EnsureTopics(ctx, cfg, spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "kafka: ensure topics:")
		})
	}
	t.Run("no brokers", func(t *testing.T) {
		require.Error(t, EnsureTopics(ctx, testConfig(nil), TopicSpec{Name: "x"}))
	})
}

func TestSystemTopics_AreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range SystemTopics() {
		require.NoError(t, validateTopicName(name))
		assert.False(t, seen[name], "duplicate %s", name)
		seen[name] = true
	}
	assert.Len(t, seen, 5)
	// Callers may modify the returned slice.
	SystemTopics()[0] = "changed"
	assert.Equal(t, TopicHL7Inbound, SystemTopics()[0])
}
