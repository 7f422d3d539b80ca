package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// server is the whole FHIR API over a loopback socket and a fresh database.
type server struct {
	base   string
	store  *postgres.Store
	client *http.Client
}

func newServer(tb testing.TB) *server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	tb.Cleanup(srv.Close)
	base := srv.URL + "/fhir"
	reg := search.NewRegistry()
	st := pgtest.StoreWith(tb, postgres.Config{MaxConns: 32, Extractor: reg, BaseURL: base})
	v := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: v, Registry: reg, BaseURL: base})
	require.NoError(tb, err)
	api, err := rest.New(rest.Config{Service: svc, BaseURL: base, ResourceTypes: v.ResourceTypes()})
	require.NoError(tb, err)
	srv.Config.Handler = api.Handler()
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	return &server{base: base, store: st, client: &http.Client{Transport: tr}}
}

func (s *server) post(tb testing.TB, path, ct string, body []byte) []byte {
	res, err := s.client.Post(s.base+path, ct, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		tb.Fatalf("POST %s: %d %.500s", path, res.StatusCode, out)
	}
	return out
}

func (s *server) get(tb testing.TB, path string) {
	res, err := s.client.Get(s.base + path)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		tb.Fatalf("GET %s: %d", path, res.StatusCode)
	}
}

// copyBaseline measures PostgreSQL alone: COPY of docs into a plain table
// with a text column, in one transaction, as rows per second.
func copyBaseline(tb testing.TB, s *server, docs [][]byte) float64 {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.store.Pool().Config().ConnConfig.ConnString())
	require.NoError(tb, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS copy_baseline (id bigserial, content text)")
	require.NoError(tb, err)
	rows := make([][]any, len(docs))
	for i, d := range docs {
		rows[i] = []any{string(d)}
	}
	start := time.Now()
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"copy_baseline"}, []string{"content"}, pgx.CopyFromRows(rows))
	require.NoError(tb, err)
	return float64(len(docs)) / time.Since(start).Seconds()
}

func observationCount() int {
	if n, err := strconv.Atoi(os.Getenv("FHIRHUB_BENCH_OBSERVATIONS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// percentiles returns p50 and p99 of ds in milliseconds.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	return at(0.50), at(0.99)
}

func report(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }
