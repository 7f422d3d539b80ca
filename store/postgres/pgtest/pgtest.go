// Package pgtest gives tests a real PostgreSQL: a private server started
// from the local installation for the test binary (or the server named by
// FHIRHUB_TEST_DATABASE_URL), with a fresh migrated database per test.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store/postgres"
)

var (
	mu      sync.Mutex
	server  *postgres.Local
	adminDB string // maintenance URL of an external server
	seq     atomic.Int64
)

// Main runs the package's tests with a private PostgreSQL server and stops
// it afterwards. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m, false))
}

// MainDurable is Main with a server that commits durably (fsync and
// synchronous commit on, as the managed local server and production
// run), for benchmarks whose figures must mean what they say.
func MainDurable(m *testing.M) {
	os.Exit(run(m, true))
}

func run(m *testing.M, durable bool) int {
	if url := os.Getenv("FHIRHUB_TEST_DATABASE_URL"); url != "" {
		adminDB = url
		return m.Run()
	}
	removeOrphans()
	dir, err := os.MkdirTemp("", "fhirhub-pgtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil { // the server may run as another user
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Durability is not under test in tests: a crash of the machine is
	// not one of their cases.
	settings := map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
	if durable {
		settings = map[string]string{"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
	}
	server, err = postgres.StartLocal(ctx, postgres.LocalConfig{Dir: dir + "/data", Settings: settings})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: cannot start PostgreSQL (tests need it):", err)
		return 1
	}
	defer server.Stop()
	return m.Run()
}

// URL creates a fresh, empty database and returns its URL; it is dropped
// when tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("t%d_%d_%s", os.Getpid(), seq.Add(1), sanitize(tb.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	mu.Lock()
	defer mu.Unlock()
	switch {
	case server != nil:
		url, err := server.CreateDatabase(ctx, name)
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		tb.Cleanup(func() { dropDatabase(tb, server.AdminURL(), name) })
		return url
	case adminDB != "":
		conn, err := pgx.Connect(ctx, adminDB)
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		tb.Cleanup(func() { dropDatabase(tb, adminDB, name) })
		return withDatabase(adminDB, name)
	default:
		tb.Fatal("pgtest: no PostgreSQL: call pgtest.Main from TestMain (make test provides the server)")
		return ""
	}
}

func dropDatabase(tb testing.TB, admin, name string) {
	if os.Getenv("FHIRHUB_TEST_KEEP_DATABASES") != "" {
		tb.Logf("pgtest: kept database %s (FHIRHUB_TEST_KEEP_DATABASES)", name)
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Logf("pgtest: drop %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		tb.Logf("pgtest: drop %s: %v", name, err)
	}
}

// Store returns a Store on a fresh migrated database with the R4 search
// parameters; it is closed when tb ends.
func Store(tb testing.TB) *postgres.Store {
	tb.Helper()
	return StoreWith(tb, postgres.Config{})
}

// StoreWith is Store with cfg (URL and Extractor are filled in when empty).
func StoreWith(tb testing.TB, cfg postgres.Config) *postgres.Store {
	tb.Helper()
	ctx := context.Background()
	if cfg.URL == "" {
		cfg.URL = URL(tb)
	}
	if cfg.Extractor == nil {
		cfg.Extractor = search.Default()
	}
	pool, err := pgxpool.New(ctx, cfg.URL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		pool.Close()
		tb.Fatalf("pgtest: migrate: %v", err)
	}
	pool.Close()
	s, err := postgres.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// withDatabase returns the connection string dsn naming database name
// instead: a URL gets it as its path; a keyword/value string gets a
// dbname, which overrides an earlier one.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name
}
