package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/adapters/mllp"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestMain runs the test binary as fhirhub itself when asked to, so that
// tests can start, kill and restart real server processes.
func TestMain(m *testing.M) {
	if os.Getenv("FHIRHUB_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"fhirhub"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	pgtest.Main(m)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts `fhirhub serve` as a child process. Its embedded
// token issuer keeps its key in a temporary directory unless args name an
// -auth-key-file.
func startServer(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "FHIRHUB_TEST_RUN_MAIN=1", "FHIRHUB_LOG_LEVEL=warn",
		"FHIRHUB_AUTH_KEY_FILE="+filepath.Join(t.TempDir(), "issuer.pem"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

// runMain runs the fhirhub command args (token, replay ...) and returns
// its standard output; it fails the test when the command fails.
func runMain(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runMainErr(args...)
	require.NoError(t, err, "fhirhub %s", args[0])
	return out
}

func runMainErr(args ...string) (string, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FHIRHUB_TEST_RUN_MAIN=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	return string(out), err
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hl7Message(control string, patient int) []byte {
	return []byte("MSH|^~\\&|LIS|CITYLAB|FHIRHUB|HOSP|20261102083000||ORU^R01^ORU_R01|" + control + "|P|2.5.1\r" +
		fmt.Sprintf("PID|1||MRN%d^^^CITYLAB^MR||Doe^Jane||19800101|F\r", patient) +
		"OBR|1|ORD1|FIL1|2345-7^Glucose^LN\rOBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-6.1|N|||F\r")
}

// TestKillDuringIngestLosesNothing sends messages over several
// connections, kills the server with SIGKILL mid-stream, restarts it, and
// checks that every message that was answered AA is in the message store,
// on the hl7v2.inbound topic and processed into FHIR.
func TestKillDuringIngestLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dbURL := pgtest.URL(t)
	brokers := kafkatest.Brokers(t)
	mllpAddr := freePort(t)
	args := []string{"-database-url", dbURL, "-kafka-brokers", brokers[0], "-http-addr", "127.0.0.1:0", "-mllp-addr", mllpAddr}

	first := startServer(t, args...)
	waitListening(t, mllpAddr)

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := mllp.DefaultClientConfig(mllpAddr)
			cfg.Retries, cfg.AckTimeout = 0, 5*time.Second
			client, err := mllp.NewClient(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			defer client.Close()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				control := fmt.Sprintf("K%d-%d", c, i)
				ack, err := client.Send(context.Background(), hl7Message(control, c))
				if err != nil {
					return // the server died
				}
				m, err := hl7v2.Parse(ack)
				if err == nil && m.Segment("MSA", 1).Field(1).String() == "AA" {
					mu.Lock()
					acked[control] = true
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a few hundred messages are acknowledged.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		require.True(t, time.Now().Before(deadline), "only %d messages acknowledged", n)
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_, _ = first.Process.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d messages acknowledged AA before the kill", len(acked))

	startServer(t, args...)
	waitListening(t, mllpAddr)

	// Every acknowledged message is stored ...
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT control_id FROM hl7_message WHERE claims_key`)
	require.NoError(t, err)
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	storedSet := map[string]bool{}
	for _, c := range stored {
		storedSet[c] = true
	}
	for c := range acked {
		assert.True(t, storedSet[c], "message %s was acknowledged but is not stored", c)
	}

	// ... and, once the restarted server has repaired, on the topic.
	kcfg := kafkatest.Config(brokers)
	consumer, err := kafka.NewConsumer(kcfg, "crash-test", kafka.TopicHL7Inbound)
	require.NoError(t, err)
	defer consumer.Close()
	onTopic := map[string]bool{}
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(onTopic) < len(storedSet) {
		r, err := consumer.Fetch(fctx)
		require.NoError(t, err, "%d of %d stored messages found on the topic", len(onTopic), len(storedSet))
		control, _ := r.HeaderValue(intake.HeaderControlID)
		if storedSet[string(control)] {
			onTopic[string(control)] = true
		}
	}
	for c := range acked {
		assert.True(t, onTopic[c], "message %s was acknowledged but is not on the topic", c)
	}

	// ... and processed into FHIR by the ingest pipeline, once.
	var waiting int
	deadline = time.Now().Add(2 * time.Minute)
	for {
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM hl7_message WHERE claims_key AND status <> 'processed'`).Scan(&waiting))
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err = conn.Query(ctx, `SELECT control_id FROM hl7_message WHERE claims_key AND status = 'processed'`)
	require.NoError(t, err)
	processed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	processedSet := map[string]bool{}
	for _, c := range processed {
		processedSet[c] = true
	}
	for c := range acked {
		assert.True(t, processedSet[c], "message %s was acknowledged but is not processed", c)
	}
	assert.Zero(t, waiting, "stored messages not processed")
	var twice int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM hl7_message WHERE claims_key AND attempts > 1`).Scan(&twice))
	assert.Zero(t, twice, "messages processed twice (records redelivered after the restart are skipped)")
}
