package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/adapters/mllp"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// hl7Mix returns the messages of our testdata (ADT, ORU lab and radiology
// with a PDF, ORM, OMI, Latin-1, custom delimiters), each with MSH-10
// replaced per send so that every one is a new message.
func hl7Mix(tb testing.TB) []*hl7v2.Message {
	files, err := filepath.Glob("../adapters/hl7v2/testdata/*.hl7")
	require.NoError(tb, err)
	var out []*hl7v2.Message
	for _, f := range files {
		if strings.Contains(f, "batch") {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(tb, err)
		msgs, err := mllp.SplitMessages(data)
		require.NoError(tb, err)
		for _, raw := range msgs {
			m, err := hl7v2.Parse(raw)
			require.NoError(tb, err)
			// Original mode, so that every message is answered.
			require.NoError(tb, m.Set("MSH-15", ""))
			require.NoError(tb, m.Set("MSH-16", ""))
			out = append(out, m)
		}
	}
	require.NotEmpty(tb, out)
	return out
}

// BenchmarkMLLP measures HL7 v2 messages accepted over MLLP, each stored
// durably in PostgreSQL before its AA (and then published to the
// embedded broker), with 1 and 16 connections, beside the same exchange
// with a receiver that stores nothing (MLLP framing and TCP alone).
func BenchmarkMLLP(b *testing.B) {
	mix := hl7Mix(b)
	for _, conns := range []int{1, 16} {
		b.Run(fmt.Sprintf("durable-%dconns", conns), func(b *testing.B) {
			s := pgtest.Store(b)
			kcfg := kafkatest.Config(kafkatest.Brokers(b))
			producer, err := kafka.NewProducer(kcfg)
			require.NoError(b, err)
			defer producer.Close()
			icfg := intake.DefaultConfig()
			icfg.Store, icfg.Publisher = s, producer
			in, err := intake.New(icfg)
			require.NoError(b, err)
			require.NoError(b, in.Start(context.Background()))
			defer in.Close(context.Background())
			ctx := context.Background()
			var walStart string
			require.NoError(b, s.Pool().QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&walStart))
			durable, cpu := runMLLP(b, conns, mix, s.Pool(), mllp.HandlerFunc(func(ctx context.Context, m *mllp.Message) []byte {
				ack, _ := in.Receive(ctx, m.Data, intake.Source{Channel: "mllp", FrameErr: m.Err})
				return ack
			}))
			var stored int
			require.NoError(b, s.Pool().QueryRow(ctx,
				`SELECT count(*) FROM hl7_message WHERE status = 'received'`).Scan(&stored))
			require.Equal(b, b.N, stored, "every acknowledged message is stored")
			// The write volume per message, stored and marked published:
			// a figure the machine's load does not change.
			for deadline := time.Now().Add(time.Minute); ; {
				pending, err := s.Unpublished(ctx, time.Now().Add(time.Hour), 1)
				require.NoError(b, err)
				if len(pending) == 0 {
					break
				}
				require.True(b, time.Now().Before(deadline), "every message is published within a minute")
				time.Sleep(10 * time.Millisecond)
			}
			var wal float64
			require.NoError(b, s.Pool().QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)`, walStart).Scan(&wal))

			ackOnly, _ := runMLLP(b, conns, mix, nil, mllp.HandlerFunc(func(ctx context.Context, m *mllp.Message) []byte {
				h, err := hl7v2.ParseHeader(m.Data)
				if err != nil {
					return nil
				}
				ack, _ := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: hl7v2.AckAccept})
				return ack
			}))
			b.ReportMetric(durable, "msgs/s")
			report("MLLP, %d connection(s): %.0f durable ACKed msgs/s; same exchange without storage %.0f msgs/s; ratio %.2f (target >= 5000/s with 16); WAL %.0f bytes per message stored and published; %s",
				conns, durable, ackOnly, durable/ackOnly, wal/float64(b.N), cpu)
		})
	}
}

// runMLLP sends b.N messages over conns connections to a server with
// handler h and returns messages per second and the CPU time per message
// of the timed part, in this process (client, server, broker) and in the
// PostgreSQL server of pool (when not nil); every ACK must be AA.
func runMLLP(b *testing.B, conns int, mix []*hl7v2.Message, pool *pgxpool.Pool, h mllp.Handler) (float64, string) {
	cfg := mllp.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	srv, err := mllp.NewServer(cfg, h)
	require.NoError(b, err)
	require.NoError(b, srv.Open(context.Background()))
	defer srv.Close()

	// Messages are made before the clock starts.
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	payloads := make([][]byte, b.N)
	var mu sync.Mutex
	for i := range payloads {
		m := mix[i%len(mix)]
		mu.Lock()
		_ = m.Set("MSH-10", fmt.Sprintf("B%s-%d", run, i))
		payloads[i] = m.Encode()
		mu.Unlock()
	}
	var meter *cpuMeter
	if pool != nil {
		meter = startCPU(context.Background(), pool)
	}
	b.ResetTimer()
	start := time.Now()
	sendAll(b, srv.Addr().String(), conns, payloads)
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := ""
	if meter != nil {
		self, pg := meter.stop()
		perMsg := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
		cpu = fmt.Sprintf("CPU %.3f ms per message in this process (client, server, broker)", perMsg(self))
		if pg >= 0 {
			cpu += fmt.Sprintf(" + %.3f ms in PostgreSQL", perMsg(pg))
		}
	}
	return float64(b.N) / elapsed.Seconds(), cpu
}

// sendAll sends payloads over conns MLLP connections to addr, each
// connection taking the next message when its last one is acknowledged;
// every acknowledgment must be AA.
func sendAll(b *testing.B, addr string, conns int, payloads [][]byte) {
	var seq atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := mllp.NewClient(mllp.DefaultClientConfig(addr))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for {
				i := int(seq.Add(1) - 1)
				if i >= len(payloads) {
					return
				}
				ack, err := c.Send(context.Background(), payloads[i])
				if err != nil {
					errs <- err
					return
				}
				if am, err := hl7v2.Parse(ack); err != nil || am.Segment("MSA", 1).Field(1).String() != "AA" {
					errs <- fmt.Errorf("message %d: not accepted: %q", i, ack)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// parallelRate runs fn(0..n-1) on workers goroutines and returns calls
// per second; an error fails the benchmark.
func parallelRate(b *testing.B, workers, n int, fn func(i int) error) float64 {
	var seq atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(seq.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(n) / time.Since(start).Seconds()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return rate
}
