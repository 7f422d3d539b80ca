// Package postgres implements store.Store on PostgreSQL with pgx/v5:
// resources and their history, search index tables written in the same
// transaction as the resource, search SQL, embedded migrations, and a
// private local server for the embedded default (FHIR R4 http.html,
// search.html).
package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

var _ store.Store = (*Store)(nil)

// Config configures a Store.
type Config struct {
	// URL is the PostgreSQL connection URL.
	URL string
	// MaxConns bounds the connection pool (0: pgx default).
	MaxConns int32
	// Extractor computes index values; required.
	Extractor Extractor
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// BaseURL is the server's FHIR base: absolute references starting
	// with it are indexed as the local Type/id they name.
	BaseURL string
	// DefaultCount and MaxCount bound search page sizes (0: 20 and 1000).
	DefaultCount int
	MaxCount     int
}

// Store is the PostgreSQL store.
type Store struct {
	pool    *pgxpool.Pool
	cfg     Config
	log     *slog.Logger
	creates *createGroup
	reader
}

// Open connects to cfg.URL and checks that the schema matches this binary
// (see Migrate and CheckSchema).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Extractor == nil {
		return nil, errors.New("postgres: config: no Extractor")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultCount <= 0 {
		cfg.DefaultCount = 20
	}
	if cfg.MaxCount <= 0 {
		cfg.MaxCount = 1000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: config: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, cfg: cfg, log: log, creates: newCreateGroup()}
	s.reader = reader{q: pool, s: s}
	return s, nil
}

// Pool returns the connection pool (for migrations and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// querier is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// maxAttempts bounds retries of transactions that fail with a
// serialization failure or deadlock.
const maxAttempts = 8

// Transaction implements store.Store.
func (s *Store) Transaction(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, func(ptx pgx.Tx) error {
			t := &tx{s: s, raw: ptx}
			t.reader = reader{q: flushing{t}, s: s}
			if err := fn(ctx, t); err != nil {
				return err
			}
			return t.flush(ctx)
		})
		if err == nil || !retryable(err) {
			return err
		}
		s.log.Debug("retrying transaction", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 2 * time.Millisecond):
		}
	}
	return err
}

// retryable reports whether err is a serialization failure or deadlock:
// the transaction did nothing and running it again can succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// now returns the store clock truncated to milliseconds, the precision of
// meta.lastUpdated, so that the column and the JSON agree.
func (s *Store) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// nextTime is the lastUpdated of the version after cur: now, but always
// later than cur's, so that a resource's versions are ordered in time even
// when the clock steps back.
func (s *Store) nextTime(cur *current) time.Time {
	if now := s.now(); now.After(cur.lastUpdated) {
		return now
	}
	return cur.lastUpdated.Add(time.Millisecond)
}

type reader struct {
	q querier
	s *Store
}

const resourceCols = "version, last_updated, deleted, content"

func scanResource(row pgx.Row, typ, id string, extra ...any) (*store.Resource, error) {
	r := &store.Resource{Type: typ, ID: id}
	var content string
	if err := row.Scan(append([]any{&r.Version, &r.LastUpdated, &r.Deleted, &content}, extra...)...); err != nil {
		return nil, err
	}
	r.Content = []byte(content)
	return r, nil
}

// Read implements store.Reader.
func (r reader) Read(ctx context.Context, typ, id string) (*store.Resource, error) {
	sc := store.ScopeFrom(ctx)
	var facility string
	res, err := scanResource(r.q.QueryRow(ctx,
		"SELECT "+resourceCols+", facility FROM resource WHERE tenant = $1 AND type = $2 AND id = $3", sc.Tenant, typ, id), typ, id, &facility)
	if err == nil && !sc.Sees(facility) {
		err = pgx.ErrNoRows
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: read %s/%s: %w", typ, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read: %w", err)
	}
	if res.Deleted {
		res.Method = "DELETE"
		res.Content = nil
		return res, fmt.Errorf("postgres: read %s/%s: %w", typ, id, store.ErrDeleted)
	}
	return res, nil
}

// VRead implements store.Reader.
func (r reader) VRead(ctx context.Context, typ, id string, version int64) (*store.Resource, error) {
	res := &store.Resource{Type: typ, ID: id, Version: version}
	sc := store.ScopeFrom(ctx)
	var content *string
	var facility string
	err := r.q.QueryRow(ctx, `SELECT h.last_updated, h.deleted, h.method, h.content, h.facility FROM resource_history h
		WHERE h.rid = (SELECT rid FROM resource WHERE tenant = $1 AND type = $2 AND id = $3) AND h.version = $4`, sc.Tenant, typ, id, version).
		Scan(&res.LastUpdated, &res.Deleted, &res.Method, &content, &facility)
	if err == nil && !sc.Sees(facility) {
		err = pgx.ErrNoRows
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: vread %s/%s/_history/%d: %w", typ, id, version, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: vread: %w", err)
	}
	if res.Deleted {
		return res, fmt.Errorf("postgres: vread %s/%s/_history/%d: %w", typ, id, version, store.ErrDeleted)
	}
	if content != nil {
		res.Content = []byte(*content)
	}
	return res, nil
}

// tx is a transaction. Its creates are gathered (see insertBatch) and
// written together before anything else reads or writes through it, and
// before it commits, so that every statement sees them.
type tx struct {
	reader  // reads through flushing
	s       *Store
	raw     querier
	pending insertBatch
	failed  error // the gathered creates could not be written
}

// flush writes the gathered creates. Once that fails, the transaction
// cannot commit what its callers were told: every later call fails with
// the same error, so that no caller takes it for its own outcome and
// tries again.
func (t *tx) flush(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	if err := t.pending.exec(ctx, t.raw); err != nil {
		t.failed, t.pending = fmt.Errorf("postgres: writing the transaction's creates: %w", err), insertBatch{}
		return t.failed
	}
	return nil
}

// flushing is a transaction's querier: it writes the gathered creates
// before each statement.
type flushing struct{ t *tx }

func (f flushing) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := f.t.flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return f.t.raw.Exec(ctx, sql, args...)
}

func (f flushing) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := f.t.flush(ctx); err != nil {
		return nil, err
	}
	return f.t.raw.Query(ctx, sql, args...)
}

func (f flushing) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := f.t.flush(ctx); err != nil {
		return errRow{err}
	}
	return f.t.raw.QueryRow(ctx, sql, args...)
}

func (f flushing) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := f.t.flush(ctx); err != nil {
		return errBatch{err}
	}
	return f.t.raw.SendBatch(ctx, b)
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatch is a pgx.BatchResults that fails with err.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

// Create implements store.Store: version 1 of obj, written by a single
// statement that is its own transaction, together with concurrent
// creates (see createGroup).
func (s *Store) Create(ctx context.Context, obj fhir.Object) (*store.Resource, error) {
	v, err := s.version1(store.ScopeFrom(ctx), fhir.ResourceType(obj), fhir.ResourceID(obj), obj, "POST")
	if err != nil {
		return nil, err
	}
	return s.creates.create(ctx, s, v)
}

// Lock implements store.Tx with transaction-scoped advisory locks, all in
// one statement. They are taken in the order of their 64-bit keys (unnest
// reads the array in order): one order for every transaction is what
// keeps two that share locks from deadlocking.
func (t *tx) Lock(ctx context.Context, names ...string) error {
	tenant := store.ScopeFrom(ctx).Tenant
	keys := make([]int64, len(names))
	for i, n := range names {
		keys[i] = key("lock", tenant, n)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var err error
	switch len(keys) {
	case 0:
		return nil
	case 1:
		_, err = t.q.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", keys[0])
	default:
		_, err = t.q.Exec(ctx, "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k", keys)
	}
	if err != nil {
		return fmt.Errorf("postgres: lock: %w", err)
	}
	return nil
}

// Create implements store.Tx. The insert is gathered and written with
// the transaction's other creates before its next statement or its
// commit, so a resource that exists already is reported (with
// ErrVersionConflict) then, or at once when this transaction created it.
func (t *tx) Create(ctx context.Context, obj fhir.Object, method string) (*store.Resource, error) {
	typ, id := fhir.ResourceType(obj), fhir.ResourceID(obj)
	res, ok, err := t.s.gather(&t.pending, store.ScopeFrom(ctx), typ, id, obj, method)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("postgres: create %s/%s: %w", typ, id, store.ErrVersionConflict)
	}
	if t.pending.Len() >= maxPendingInserts {
		if err := t.flush(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// insert writes obj as version 1 at once; it returns nil, nil when
// Type/id exists.
func (t *tx) insert(ctx context.Context, typ, id string, obj fhir.Object, method string) (*store.Resource, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.s.insertVersion1(ctx, t.raw, store.ScopeFrom(ctx), typ, id, obj, method)
}

// gather adds version 1 of obj to b and returns it; false when b has
// Type/id already.
func (s *Store) gather(b *insertBatch, sc store.Scope, typ, id string, obj fhir.Object, method string) (*store.Resource, bool, error) {
	v, err := s.version1(sc, typ, id, obj, method)
	if err != nil {
		return nil, false, err
	}
	return v.res, b.add(v), nil
}

// version1 is version 1 of a resource with its index values, ready to
// be gathered into an insertBatch.
type version1 struct {
	res      *store.Resource
	values   search.Values
	derived  map[string]search.Storage // the parameters whose values are not written
	scope    store.Scope
	facility string
}

// version1 sets obj's version metadata and computes its index values.
func (s *Store) version1(sc store.Scope, typ, id string, obj fhir.Object, method string) (*version1, error) {
	facility, err := writeFacility(sc, obj, nil)
	if err != nil {
		return nil, err
	}
	values, err := s.cfg.Extractor.Extract(obj)
	if err != nil {
		return nil, fmt.Errorf("postgres: index %s: %w", typ, err)
	}
	now := s.now()
	fhir.SetMeta(obj, "1", now)
	s.localReferences(&values)
	return &version1{
		res:      &store.Resource{Type: typ, ID: id, Version: 1, LastUpdated: now, Method: method, Content: fhir.MarshalJSON(obj)},
		values:   values,
		derived:  s.cfg.Extractor.Derived(typ),
		scope:    sc,
		facility: facility,
	}, nil
}

// writeFacility returns the facility of a version of obj written in scope
// sc over a current version tagged cur (cur nil for a new resource). A
// caller confined to a facility writes in it: a new resource, and one of
// that facility, is tagged with it unless obj carries a tag, which must
// then be that facility; a shared (untagged) resource stays shared. A
// tenant-wide caller writes what obj says.
func writeFacility(sc store.Scope, obj fhir.Object, cur *string) (string, error) {
	f := store.FacilityOf(obj)
	if sc.Facility == "" {
		return f, nil
	}
	if f != "" && f != sc.Facility {
		return "", fhir.Errorf(fhir.IssueForbidden, "the resource is tagged with another facility than the caller's").At("meta.tag")
	}
	if f == "" && (cur == nil || *cur == sc.Facility) {
		store.TagFacility(obj, sc.Facility)
		f = sc.Facility
	}
	return f, nil
}

// insertVersion1 writes obj as version 1 (resource, history, outbox and
// index rows in one statement, see insertBatch); nil, nil when Type/id
// exists.
func (s *Store) insertVersion1(ctx context.Context, q querier, sc store.Scope, typ, id string, obj fhir.Object, method string) (*store.Resource, error) {
	var b insertBatch
	res, _, err := s.gather(&b, sc, typ, id, obj, method)
	if err != nil {
		return nil, err
	}
	if err := b.exec(ctx, q); err != nil {
		if errors.Is(err, store.ErrVersionConflict) {
			return nil, nil
		}
		return nil, fmt.Errorf("postgres: insert: %w", err)
	}
	return res, nil
}

type current struct {
	rid         int64
	version     int64
	lastUpdated time.Time
	deleted     bool
	content     string
	facility    string
}

// lockCurrent returns the current row of Type/id locked for update, or nil.
func (t *tx) lockCurrent(ctx context.Context, typ, id string) (*current, error) {
	return t.current(ctx, typ, id, " FOR UPDATE")
}

// current returns the current row of Type/id, or nil; lock is "" or a
// locking clause.
func (t *tx) current(ctx context.Context, typ, id, lock string) (*current, error) {
	c := &current{}
	err := t.q.QueryRow(ctx, `SELECT rid, version, last_updated, deleted, content, facility FROM resource
		WHERE tenant = $1 AND type = $2 AND id = $3`+lock, store.ScopeFrom(ctx).Tenant, typ, id).
		Scan(&c.rid, &c.version, &c.lastUpdated, &c.deleted, &c.content, &c.facility)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read row: %w", err)
	}
	return c, nil
}

// unchanged returns the current version of obj's resource when obj equals
// it apart from meta.versionId and meta.lastUpdated (and ifVersion, when
// set, is current), else nil. It reads without a row lock: an update
// that changes nothing then does not wait for concurrent writers of the
// resource (the practitioner or ward that every HL7 v2 message restates),
// and is as if it ran before them.
// missing reports that there was no row: the caller may insert at once.
func (t *tx) unchanged(ctx context.Context, obj fhir.Object, ifVersion int64, method string) (res *store.Resource, missing bool, err error) {
	typ, id := fhir.ResourceType(obj), fhir.ResourceID(obj)
	cur, err := t.current(ctx, typ, id, "")
	if err != nil || cur == nil || cur.deleted || (ifVersion > 0 && ifVersion != cur.version) ||
		!store.ScopeFrom(ctx).Sees(cur.facility) {
		return nil, cur == nil && err == nil, err
	}
	// The version metadata Put sets again when it writes.
	fhir.SetMeta(obj, strconv.FormatInt(cur.version, 10), cur.lastUpdated)
	content := fhir.MarshalJSON(obj)
	if !bytes.Equal(content, []byte(cur.content)) {
		return nil, false, nil
	}
	return &store.Resource{Type: typ, ID: id, Version: cur.version, LastUpdated: cur.lastUpdated, Method: method, Content: content}, false, nil
}

// Put implements store.Tx.
func (t *tx) Put(ctx context.Context, obj fhir.Object, ifVersion int64, method string) (*store.Resource, bool, error) {
	res, missing, err := t.unchanged(ctx, obj, ifVersion, method)
	if res != nil || err != nil {
		return res, false, err
	}
	typ, id := fhir.ResourceType(obj), fhir.ResourceID(obj)
	var cur *current
	for {
		if !missing { // known missing: insert, which finds a concurrent row
			if cur, err = t.lockCurrent(ctx, typ, id); err != nil {
				return nil, false, err
			}
			if cur != nil {
				break
			}
		}
		missing = false
		if ifVersion > 0 {
			return nil, false, fmt.Errorf("postgres: update %s/%s: %w", typ, id, store.ErrNotFound)
		}
		res, err := t.insert(ctx, typ, id, obj, method)
		if err != nil {
			return nil, false, err
		}
		if res != nil {
			return res, true, nil
		}
		// A concurrent transaction created it first: lock that row.
	}
	sc := store.ScopeFrom(ctx)
	if !sc.Sees(cur.facility) {
		return nil, false, fhir.Errorf(fhir.IssueForbidden, "%s/%s belongs to another facility than the caller's", typ, id)
	}
	facility, err := writeFacility(sc, obj, &cur.facility)
	if err != nil {
		return nil, false, err
	}
	if ifVersion > 0 && ifVersion != cur.version {
		return nil, false, fmt.Errorf("postgres: update %s/%s: expected version %d, current %d: %w",
			typ, id, ifVersion, cur.version, store.ErrVersionConflict)
	}
	if !cur.deleted {
		// No new version when nothing but the version metadata differs.
		fhir.SetMeta(obj, strconv.FormatInt(cur.version, 10), cur.lastUpdated)
		if same := fhir.MarshalJSON(obj); bytes.Equal(same, []byte(cur.content)) {
			return &store.Resource{Type: typ, ID: id, Version: cur.version, LastUpdated: cur.lastUpdated,
				Method: method, Content: same}, false, nil
		}
	}
	values, err := t.s.cfg.Extractor.Extract(obj)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: index %s: %w", typ, err)
	}
	version := cur.version + 1
	now := t.s.nextTime(cur)
	fhir.SetMeta(obj, strconv.FormatInt(version, 10), now)
	content := fhir.MarshalJSON(obj)
	w := &writeStatement{rid: cur.rid}
	w.Queue(`UPDATE resource SET version = $2, last_updated = $3, deleted = false, content = $4, facility = $5 WHERE rid = $1`,
		cur.rid, version, now, string(content), facility)
	w.Queue(`INSERT INTO resource_history (rid, version, tenant, type, id, last_updated, method, content, facility)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, cur.rid, version, sc.Tenant, typ, id, now, method, string(content), facility)
	if !cur.deleted {
		queueDeleteIndex(w, cur.rid)
	}
	t.s.localReferences(&values)
	queueInsertIndex(w, hashType(sc.Tenant, typ), cur.rid, &values, t.s.cfg.Extractor.Derived(typ))
	op := "update"
	if cur.deleted {
		op = "create"
	}
	queueOutbox(w, cur.rid, typ, id, version, op, patientCompartment(typ, id, &values), now)
	if err := w.exec(ctx, t.q); err != nil {
		return nil, false, fmt.Errorf("postgres: update: %w", err)
	}
	return &store.Resource{Type: typ, ID: id, Version: version, LastUpdated: now, Method: method, Content: content}, cur.deleted, nil
}

// Delete implements store.Tx.
func (t *tx) Delete(ctx context.Context, typ, id string, ifVersion int64) (*store.Resource, error) {
	cur, err := t.lockCurrent(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	sc := store.ScopeFrom(ctx)
	if cur == nil || !sc.Sees(cur.facility) {
		return nil, fmt.Errorf("postgres: delete %s/%s: %w", typ, id, store.ErrNotFound)
	}
	if ifVersion > 0 && ifVersion != cur.version {
		return nil, fmt.Errorf("postgres: delete %s/%s: %w", typ, id, store.ErrVersionConflict)
	}
	if cur.deleted {
		return &store.Resource{Type: typ, ID: id, Version: cur.version, LastUpdated: cur.lastUpdated,
			Deleted: true, Method: "DELETE"}, fmt.Errorf("postgres: delete %s/%s: %w", typ, id, store.ErrDeleted)
	}
	version := cur.version + 1
	now := t.s.nextTime(cur)
	w := &writeStatement{rid: cur.rid}
	w.Queue(`UPDATE resource SET version = $2, last_updated = $3, deleted = true, content = '' WHERE rid = $1`,
		cur.rid, version, now)
	w.Queue(`INSERT INTO resource_history (rid, version, tenant, type, id, last_updated, method, deleted, facility)
		VALUES ($1, $2, $3, $4, $5, $6, 'DELETE', true, $7)`, cur.rid, version, sc.Tenant, typ, id, now, cur.facility)
	queueDeleteIndex(w, cur.rid)
	queueOutbox(w, cur.rid, typ, id, version, "delete", t.s.compartmentOf(typ, id, cur.content), now)
	if err := w.exec(ctx, t.q); err != nil {
		return nil, fmt.Errorf("postgres: delete: %w", err)
	}
	return &store.Resource{Type: typ, ID: id, Version: version, LastUpdated: now, Deleted: true, Method: "DELETE"}, nil
}
