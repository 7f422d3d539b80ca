package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirhub/fhirhub/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Files are named
// NNNN_name.sql; numbers must be unique and increasing.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// SchemaVersion returns the newest migration this binary has.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrationLock is the advisory lock key held while migrating, so that
// several fhirhub processes starting together migrate once.
const migrationLock = 0x66686972687562 // "fhirhub"

// Migrate applies the embedded migrations not yet applied, each in its own
// transaction, and returns how many it applied. It returns
// store.ErrSchemaTooNew when the database has a migration this binary does
// not know.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return 0, fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migration (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	current, err := appliedVersion(ctx, conn.Conn())
	if err != nil {
		return 0, err
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return 0, fmt.Errorf("%w: database at migration %d, binary knows up to %d", store.ErrSchemaTooNew, current, latest)
	}
	if err := checkApplied(ctx, conn.Conn(), ms); err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migration (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("postgres: migrate: %04d_%s: %w", m.version, m.name, err)
		}
		log.Info("applied migration", "version", m.version, "name", m.name)
		applied++
	}
	return applied, nil
}

// checkApplied refuses a database whose applied migrations are not this
// binary's: one migrated by a build whose migrations were numbered
// otherwise would skip the binary's migration of the same number and fail
// later with an error about some object, or not at all.
func checkApplied(ctx context.Context, conn *pgx.Conn, ms []migration) error {
	rows, err := conn.Query(ctx, "SELECT version, name FROM schema_migration ORDER BY version")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	names := map[int]string{}
	for _, m := range ms {
		names[m.version] = m.name
	}
	var version int
	var name string
	_, err = pgx.ForEachRow(rows, []any{&version, &name}, func() error {
		if want, ok := names[version]; ok && want != name {
			return fmt.Errorf("postgres: migrate: the database's migration %04d is %q, this binary's is %q: "+
				"it was migrated by another build; restore it or migrate it with the build that made it", version, name, want)
		}
		return nil
	})
	return err
}

// CheckSchema returns nil when the database is migrated exactly to this
// binary's schema, store.ErrSchemaTooNew when it is newer, and an error
// asking for `fhirhub migrate` when it is older.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()
	current, err := appliedVersion(ctx, conn.Conn())
	if err != nil {
		return err
	}
	switch latest := SchemaVersion(); {
	case current > latest:
		return fmt.Errorf("%w: database at migration %d, binary knows up to %d", store.ErrSchemaTooNew, current, latest)
	case current < latest:
		return fmt.Errorf("postgres: database at migration %d, binary needs %d: run `fhirhub migrate`", current, latest)
	}
	return nil
}

func appliedVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migration') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migration").Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}
