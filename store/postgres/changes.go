package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

var _ store.ChangeFeed = (*Store)(nil)

// outboxLock is the advisory lock key held by the one publisher taking
// changes at a time, so that changes leave in order even with several
// fhirhub processes on one database.
const outboxLock = 0x66686972686f7574 // "fhirhout"

// queueOutbox adds the outbox row of a version to w.
func queueOutbox(w queuer, rid int64, typ, id string, version int64, op, compartment string, at time.Time) {
	w.Queue(`INSERT INTO outbox (rid, type, id, version, operation, compartment, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		rid, typ, id, version, op, compartment, at)
}

// compartmentParams are the reference parameters that put a resource in
// a Patient's compartment, most specific first (R4 CompartmentDefinition
// patient lists "patient" or "subject" for most types).
var compartmentParams = []string{"patient", "subject", "beneficiary", "individual", "who", "actor"}

// patientCompartment returns the Patient id whose compartment a resource
// with these index values is in: its own id for a Patient, else the
// first Patient reference among compartmentParams.
func patientCompartment(typ, id string, v *search.Values) string {
	if typ == "Patient" {
		return id
	}
	for _, p := range compartmentParams {
		for _, r := range v.References {
			if r.Param == p && r.Type == "Patient" && r.ID != "" {
				return r.ID
			}
		}
	}
	return ""
}

// compartmentOf returns the Patient compartment of a stored version's
// JSON ("" when it cannot be read).
func (s *Store) compartmentOf(typ, id, content string) string {
	if typ == "Patient" {
		return id
	}
	parsed, err := fhir.ParseJSON([]byte(content))
	obj, ok := parsed.(fhir.Object)
	if err != nil || !ok {
		return ""
	}
	values, err := s.cfg.Extractor.Extract(obj)
	if err != nil {
		return ""
	}
	s.localReferences(&values)
	return patientCompartment(typ, id, &values)
}

// PublishChanges implements store.ChangeFeed: in one transaction holding
// the outbox lock, it reads the oldest changes, calls publish, and deletes
// them once it returned nil.
func (s *Store) PublishChanges(ctx context.Context, limit, maxContent int, publish func(context.Context, []store.Change) error) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(outboxLock)).Scan(&locked); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT o.seq, o.type, o.id, o.version, o.operation, o.compartment, o.at,
				CASE WHEN length(h.content) <= $2 THEN h.content END, coalesce(h.tenant, ''), coalesce(h.facility, '')
			FROM outbox o LEFT JOIN resource_history h ON h.rid = o.rid AND h.version = o.version
			ORDER BY o.seq LIMIT $1`, limit, maxContent)
		if err != nil {
			return err
		}
		var cs []store.Change
		var seqs []int64
		for rows.Next() {
			var c store.Change
			var content *string
			if err := rows.Scan(&c.Seq, &c.Type, &c.ID, &c.Version, &c.Operation, &c.Compartment, &c.Time, &content, &c.Tenant, &c.Facility); err != nil {
				rows.Close()
				return err
			}
			if content != nil && *content != "" {
				c.Content = []byte(*content)
			}
			cs = append(cs, c)
			seqs = append(seqs, c.Seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		if err := publish(ctx, cs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE seq = ANY($1)`, seqs); err != nil {
			return err
		}
		n = len(cs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: publish changes: %w", err)
	}
	return n, nil
}
