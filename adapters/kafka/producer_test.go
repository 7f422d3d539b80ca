package kafka

import (
	"context"

	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublishConsume_RoundTripsKeysValuesHeaders(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, 3)
	p := MustProducer(t, cfg)

	at := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	sent := []Record{
		{
			Topic: topic, Key: []byte("MRN-1"), Value: []byte("MSH|^~\\&|LAB|A\rPID|1||MRN-1"),
			Headers: []Header{
				{Key: "message-id", Value: []byte("MSG0001")},
				{Key: "message-type", Value: []byte("ORU^R01")},
				{Key: "message-type", Value: []byte("repeated keys keep order")},
			},
			Time: at,
		},
		{Topic: topic, Key: []byte("MRN-2"), Value: []byte("second"), Headers: []Header{{Key: "empty", Value: []byte{}}}, Time: at.Add(time.Second)},
		{Topic: topic, Key: []byte("MRN-3"), Value: []byte("third, no headers")},
	}
	MustPublish(t, p, sent...)

	c := MustConsumer(t, cfg, UniqueName("g"), topic)
	got := MustFetchN(t, c, len(sent))

	byKey := map[string]Record{}
	for _, r := range got {
		byKey[string(r.Key)] = r
	}
	require.Len(t, byKey, len(sent))
	for _, want := range sent {
		r, ok := byKey[string(want.Key)]
		require.True(t, ok, "record %s not consumed", want.Key)
		assert.Equal(t, topic, r.Topic)
		assert.Equal(t, want.Value, r.Value)
		require.Len(t, r.Headers, len(want.Headers))
		for i, h := range want.Headers {
			assert.Equal(t, h.Key, r.Headers[i].Key)
			assert.Equal(t, string(h.Value), string(r.Headers[i].Value))
		}
		if want.Time.IsZero() {
			assert.WithinDuration(t, time.Now(), r.Time, time.Minute, "zero Time is stamped at publish")
		} else {
			assert.True(t, want.Time.Equal(r.Time), "time %v, want %v", r.Time, want.Time)
		}
		assert.GreaterOrEqual(t, r.Offset, int64(0))
	}
	v, ok := byKey["MRN-1"].HeaderValue("message-type")
	assert.True(t, ok)
	assert.Equal(t, "ORU^R01", string(v), "HeaderValue returns the first of repeated headers")
	_, ok = byKey["MRN-3"].HeaderValue("message-type")
	assert.False(t, ok)
}

// Per-patient order: every record of one key lands in one partition, in
// publish order, whether the key's records come in one Publish, many, or
// from concurrent publishers of other keys.
func TestPublish_SameKeySamePartitionInOrder(t *testing.T) {
	const (
		keys       = 40
		perKey     = 50
		partitions = 6
	)
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, partitions)
	p := MustProducer(t, cfg)

	// Half the keys: one goroutine each, one record per Publish.
	// The other half: interleaved into shared batches of 25 records.
	var wg sync.WaitGroup
	errs := make(chan error, keys)
	for k := 0; k < keys/2; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			for seq := 0; seq < perKey; seq++ {
				if err := p.Publish(ctx, Record{Topic: topic, Key: key(k), Value: []byte(strconv.Itoa(seq))}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var batch []Record
	for seq := 0; seq < perKey; seq++ {
		for k := keys / 2; k < keys; k++ {
			batch = append(batch, Record{Topic: topic, Key: key(k), Value: []byte(strconv.Itoa(seq))})
			if len(batch) == 25 {
				MustPublish(t, p, batch...)
				batch = nil
			}
		}
	}
	MustPublish(t, p, batch...)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	c := MustConsumer(t, cfg, UniqueName("g"), topic)
	got := MustFetchN(t, c, keys*perKey)

	partitionOf := map[string]int{}
	nextSeq := map[string]int{}
	used := map[int]bool{}
	for _, r := range got {
		k := string(r.Key)
		if p, ok := partitionOf[k]; ok {
			require.Equal(t, p, r.Partition, "key %s in two partitions", k)
		} else {
			partitionOf[k] = r.Partition
		}
		used[r.Partition] = true
		seq, err := strconv.Atoi(string(r.Value))
		require.NoError(t, err)
		require.Equal(t, nextSeq[k], seq, "key %s out of order", k)
		nextSeq[k] = seq + 1
	}
	require.Len(t, nextSeq, keys)
	for k, n := range nextSeq {
		assert.Equal(t, perKey, n, "key %s", k)
	}
	assert.Greater(t, len(used), partitions/2, "keys should spread over partitions, used %v", used)
}

// The same key goes to the same partition on a fresh producer too (the
// partitioner is a pure function of key and partition count, murmur2 as in
// the Java client), so restarts do not reorder a patient's messages.
func TestPublish_PartitionStableAcrossProducers(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, 6)
	for range 2 {
		p, err := NewProducer(cfg)
		require.NoError(t, err)
		for k := range 10 {
			MustPublish(t, p, Record{Topic: topic, Key: key(k), Value: []byte("v")})
		}
		require.NoError(t, p.Close())
	}
	c := MustConsumer(t, cfg, UniqueName("g"), topic)
	partitionOf := map[string]int{}
	for _, r := range MustFetchN(t, c, 20) {
		if p, ok := partitionOf[string(r.Key)]; ok {
			assert.Equal(t, p, r.Partition, "key %s", r.Key)
		}
		partitionOf[string(r.Key)] = r.Partition
	}
	// murmur2("MRN-00000") etc. mod 6, as the Java client computes it.
	for k, want := range map[int]int{0: javaMurmur2Partition(key(0), 6), 7: javaMurmur2Partition(key(7), 6)} {
		assert.Equal(t, want, partitionOf[string(key(k))], "key %s", key(k))
	}
}

func TestPublish_Errors(t *testing.T) {
	cfg := testConfig(MustBrokers(t))
	topic := MustTopic(t, cfg, 1)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	t.Run("invalid topic", func(t *testing.T) {
		p := MustProducer(t, cfg)
		err := p.Publish(ctx, Record{Topic: "", Value: []byte("x")})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "kafka: publish: record 0")
		err = p.Publish(ctx, Record{Topic: "bad topic", Value: []byte("x")})
		require.Error(t, err)
	})
	t.Run("nothing to publish", func(t *testing.T) {
		p := MustProducer(t, cfg)
		require.NoError(t, p.Publish(ctx))
	})
	t.Run("after close", func(t *testing.T) {
		p := MustProducer(t, cfg)
		MustPublish(t, p, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, p.Close())
		require.NoError(t, p.Close(), "Close is idempotent")
		err := p.Publish(ctx, Record{Topic: topic, Value: []byte("x")})
		require.ErrorIs(t, err, ErrClosed)
		assert.False(t, IsRetryable(err))
	})
	t.Run("too large", func(t *testing.T) {
		p := MustProducer(t, cfg)
		err := p.Publish(ctx, Record{Topic: topic, Value: make([]byte, 2<<20)})
		require.Error(t, err)
		assert.False(t, IsRetryable(err), "%v", err)
	})
	t.Run("unknown topic", func(t *testing.T) {
		c := cfg
		c.MaxAttempts = 2
		p := MustProducer(t, c)
		err := p.Publish(ctx, Record{Topic: UniqueName("missing"), Value: []byte("x")})
		require.Error(t, err)
		assert.True(t, IsRetryable(err), "a topic may be created later: %v", err)
	})
}

func TestNewProducer_ValidatesConfig(t *testing.T) {
	for name, brokers := range map[string][]string{
		"none":       nil,
		"no port":    {"127.0.0.1"},
		"empty host": {":9092"},
		"bad port":   {"127.0.0.1:x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewProducer(testConfig(brokers))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "kafka: new producer: config:")
		})
	}
}

// javaMurmur2Partition is the Java client's
// Utils.toPositive(Utils.murmur2(key)) % n, written out independently of
// kafka-go so the test pins the placement, not just its stability.
func javaMurmur2Partition(key []byte, n int) int {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(key)
	h := seed ^ uint32(length)
	for i := 0; i+4 <= length; i += 4 {
		k := uint32(key[i]) | uint32(key[i+1])<<8 | uint32(key[i+2])<<16 | uint32(key[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := key[length&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int(h&0x7fffffff) % n
}
