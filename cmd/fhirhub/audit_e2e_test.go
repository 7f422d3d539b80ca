package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestShutdownWritesEveryAuditEvent stops `fhirhub serve` (SIGTERM)
// right after its last answer, with batches that would otherwise wait
// an hour: every request answered has its AuditEvent stored, and the
// health endpoints have none.
func TestShutdownWritesEveryAuditEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	db, brokers := pgtest.URL(t), kafkatest.Brokers(t)
	keyFile := filepath.Join(t.TempDir(), "issuer.pem")
	admin := strings.TrimSpace(runMain(t, "token", "-auth-key-file", keyFile, "-role", "admin", "-scope", "user/*.cruds"))
	httpAddr, mllpAddr := freePort(t), freePort(t)
	cmd := startServer(t, "-database-url", db, "-kafka-brokers", strings.Join(brokers, ","), "-http-addr", httpAddr,
		"-mllp-addr", mllpAddr, "-auth-key-file", keyFile, "-audit-flush-interval", "1h", "-rate-limit", "0")
	waitListening(t, mllpAddr)
	base := "http://" + httpAddr

	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				patient := []byte(fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"W%dP%d"}]}`, w, i))
				status, _, body := call(t, "POST", base+"/fhir/Patient", admin, patient)
				if !assert.Equal(t, http.StatusCreated, status) {
					return
				}
				status, _, _ = call(t, "GET", base+"/fhir/Patient/"+body["id"].(string), admin, nil)
				assert.Equal(t, http.StatusOK, status)
			}
		}()
	}
	wg.Wait()
	for _, path := range []string{"/healthz", "/readyz", "/fhir/metadata"} {
		status, _, _ := call(t, "GET", base+path, "", nil)
		require.Equal(t, http.StatusOK, status, path)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "clean exit")
	case <-time.After(60 * time.Second):
		t.Fatal("fhirhub serve did not stop within 60 s")
	}

	conn, err := pgx.Connect(context.Background(), db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var audits, reads, creates int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*),
		count(*) FILTER (WHERE content::jsonb->>'action' = 'R'), count(*) FILTER (WHERE content::jsonb->>'action' = 'C')
		FROM resource WHERE type = 'AuditEvent'`).Scan(&audits, &reads, &creates))
	assert.Equal(t, 2*workers*each, audits, "one AuditEvent per FHIR request, none for health and metadata")
	assert.Equal(t, workers*each, reads)
	assert.Equal(t, workers*each, creates)
}
