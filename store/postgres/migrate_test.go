package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()

	// An unmigrated database is refused with a hint to migrate.
	_, err = postgres.Open(ctx, postgres.Config{URL: url, Extractor: search.Default()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fhirhub migrate")

	n, err := postgres.Migrate(ctx, pool, nil)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), n, "every migration applied once")
	n, err = postgres.Migrate(ctx, pool, nil)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to do the second time")
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Extractor: search.Default()})
	require.NoError(t, err)
	s.Close()

	// A database migrated by a newer binary is refused by Open and Migrate.
	_, err = pool.Exec(ctx, "INSERT INTO schema_migration (version, name) VALUES ($1, 'from_the_future')", postgres.SchemaVersion()+1)
	require.NoError(t, err)
	_, err = postgres.Open(ctx, postgres.Config{URL: url, Extractor: search.Default()})
	assert.ErrorIs(t, err, store.ErrSchemaTooNew)
	_, err = postgres.Migrate(ctx, pool, nil)
	assert.ErrorIs(t, err, store.ErrSchemaTooNew)
}

// TestMigrateRefusesAnotherBuildsMigrations: a database whose applied
// migration of some number is not this binary's (migrations numbered
// otherwise by another build) is refused with a clear error instead of
// having the binary's migration of that number skipped.
func TestMigrateRefusesAnotherBuildsMigrations(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(ctx, `CREATE TABLE schema_migration (version integer PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO schema_migration (version, name) VALUES (1, 'something_else')")
	require.NoError(t, err)
	_, err = postgres.Migrate(ctx, pool, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `migration 0001 is "something_else"`)
}
