package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

var _ store.MessageStore = (*Store)(nil)

// messageColumns are the hl7_message columns read into a store.HL7Message
// by scanMessage, without raw.
const messageColumns = `id, received_at, channel, peer, sending_app, sending_facility, receiving_app,
	receiving_facility, control_id, message_type, trigger_event, structure, version, patient_id,
	patient_id_system, status, ack_code, error, attempts, coalesce(duplicate_of, 0), processed_at,
	claims_key AND NOT EXISTS (SELECT FROM hl7_message_unpublished u WHERE u.id = hl7_message.id), resources`

func scanMessage(row pgx.Row, withRaw bool) (*store.HL7Message, error) {
	m := new(store.HL7Message)
	var processed *time.Time
	var status string
	dest := []any{&m.ID, &m.ReceivedAt, &m.Channel, &m.Peer, &m.SendingApp, &m.SendingFacility, &m.ReceivingApp,
		&m.ReceivingFacility, &m.ControlID, &m.Type, &m.Trigger, &m.Structure, &m.Version, &m.PatientID,
		&m.PatientIDSystem, &status, &m.AckCode, &m.Error, &m.Attempts, &m.DuplicateOf, &processed,
		&m.Published, &m.Resources}
	if withRaw {
		dest = append(dest, &m.Raw)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.Status = store.MessageStatus(status)
	if processed != nil {
		m.ProcessedAt = *processed
	}
	return m, nil
}

// bodyHash identifies a message body for duplicate detection: SHA-256 of
// the message with segment terminators normalised to CR and trailing
// terminators removed, so that a resend through a system that writes LF
// or CRLF is still the same message. The text is hashed as it is, without
// a normalised copy: CRLF is hashed as CR and a lone LF as CR.
func bodyHash(raw []byte) []byte {
	end := len(raw)
	for end > 0 && (raw[end-1] == '\r' || raw[end-1] == '\n') {
		end--
	}
	b := raw[:end]
	if bytes.IndexByte(b, '\n') < 0 {
		sum := sha256.Sum256(b)
		return sum[:]
	}
	h := sha256.New()
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			h.Write(b)
			break
		}
		h.Write(b[:j])
		if j == 0 || b[j-1] != '\r' {
			h.Write([]byte{'\r'})
		}
		b = b[j+1:]
	}
	return h.Sum(nil)
}

// insertMessageSQL stores a message and queues a claimant for publishing
// (hl7_message_unpublished) in one statement.
const insertMessageSQL = `WITH m AS (INSERT INTO hl7_message (received_at, raw, body_hash, channel, peer, sending_app,
	sending_facility, receiving_app, receiving_facility, control_id, message_type, trigger_event, structure,
	version, patient_id, patient_id_system, status, ack_code, error, attempts, duplicate_of, claims_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, nullif($21, 0), $22)
ON CONFLICT (sending_facility, control_id) WHERE claims_key DO NOTHING
RETURNING id, claims_key),
q AS (INSERT INTO hl7_message_unpublished (id) SELECT id FROM m WHERE claims_key)
SELECT id FROM m`

func insertArgs(m *store.HL7Message, hash []byte) []any {
	return []any{m.ReceivedAt, m.Raw, hash, m.Channel, m.Peer, m.SendingApp,
		m.SendingFacility, m.ReceivingApp, m.ReceivingFacility, m.ControlID, m.Type, m.Trigger, m.Structure,
		m.Version, m.PatientID, m.PatientIDSystem, string(m.Status), m.AckCode, m.Error, m.Attempts,
		m.DuplicateOf, m.Status.Claims()}
}

// ReceiveMessages implements store.MessageStore. The batch is inserted by
// one statement (insertBatchSQL), which is also its transaction, so that a
// batch costs one round trip and one executor run whatever its size. Each
// claimant is inserted with ON CONFLICT DO NOTHING on the partial unique
// key, so that two receivers racing on one key serialise on the index and
// the loser finds the winner's committed row; the losers are then stored
// as duplicates or conflicts, in order, in a second transaction.
func (s *Store) ReceiveMessages(ctx context.Context, ms []*store.HL7Message) ([]*store.HL7Message, error) {
	hashes := make([][]byte, len(ms))
	for i, m := range ms {
		hashes[i] = bodyHash(m.Raw)
	}
	ids := make([]int64, len(ms))
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err = s.insertMessages(ctx, ms, hashes, ids); err == nil || !retryable(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: receive messages: %w", err)
	}
	originals := make([]*store.HL7Message, len(ms))
	final := make([]store.HL7Message, len(ms))
	for i, m := range ms {
		final[i] = *m
	}
	var lost []int // claimants whose key another message holds
	for i, id := range ids {
		if id == 0 {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		err = s.retry(ctx, func(ptx pgx.Tx) error {
			for _, i := range lost {
				m := ms[i]
				orig, origHash, err := s.claimant(ctx, ptx, m.SendingFacility, m.ControlID)
				if err != nil {
					return err
				}
				dup := *m
				dup.DuplicateOf = orig.ID
				dup.AckCode = orig.AckCode
				if bytes.Equal(origHash, hashes[i]) {
					dup.Status = store.MessageDuplicate
				} else {
					dup.Status = store.MessageConflict
					dup.Error = "control id already used by a different message from this sending facility"
				}
				if err := ptx.QueryRow(ctx, insertMessageSQL, insertArgs(&dup, hashes[i])...).Scan(&ids[i]); err != nil {
					return err
				}
				originals[i] = orig
				final[i] = dup
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: receive messages: duplicates: %w", err)
		}
	}
	for i, m := range ms {
		*m = final[i]
		m.ID = ids[i]
	}
	return originals, nil
}

// insertBatchSQL stores a batch of messages, given as one array per
// column, in one statement (one executor run and one round trip for the
// whole batch, against one statement per message), queueing the
// claimants for publishing (hl7_message_unpublished). Rows are inserted
// in the order given (ORDER BY ord), so their identity ids rise in that
// order; a claimant whose key is taken, by a committed message or by one
// earlier in the batch, is skipped by ON CONFLICT DO NOTHING and returns
// no row.
const insertBatchSQL = `WITH input AS (
	SELECT * FROM unnest($1::timestamptz[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
		$14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::integer[],
		$21::bigint[], $22::boolean[]) WITH ORDINALITY AS u(received_at, raw, body_hash, channel, peer,
		sending_app, sending_facility, receiving_app, receiving_facility, control_id, message_type,
		trigger_event, structure, version, patient_id, patient_id_system, status, ack_code, error, attempts,
		duplicate_of, claims_key, ord)),
m AS (INSERT INTO hl7_message (received_at, raw, body_hash, channel, peer, sending_app,
	sending_facility, receiving_app, receiving_facility, control_id, message_type, trigger_event, structure,
	version, patient_id, patient_id_system, status, ack_code, error, attempts, duplicate_of, claims_key)
SELECT received_at, raw, body_hash, channel, peer, sending_app, sending_facility, receiving_app,
	receiving_facility, control_id, message_type, trigger_event, structure, version, patient_id,
	patient_id_system, status, ack_code, error, attempts, nullif(duplicate_of, 0), claims_key
FROM input ORDER BY ord
ON CONFLICT (sending_facility, control_id) WHERE claims_key DO NOTHING
RETURNING id, claims_key, sending_facility, control_id),
q AS (INSERT INTO hl7_message_unpublished (id) SELECT id FROM m WHERE claims_key)
SELECT id, claims_key, sending_facility, control_id FROM m ORDER BY id`

// insertMessages inserts ms in one statement, an implicit transaction,
// and sets ids[i] to each stored id, 0 for a claimant whose key another
// message holds.
func (s *Store) insertMessages(ctx context.Context, ms []*store.HL7Message, hashes [][]byte, ids []int64) error {
	n := len(ms)
	var (
		at       = make([]time.Time, n)
		raw      = make([][]byte, n)
		attempts = make([]int32, n)
		dupOf    = make([]int64, n)
		claims   = make([]bool, n)
		text     = make([]string, 16*n) // the text columns, one after the other
		col      = func(c int) []string { return text[c*n : (c+1)*n : (c+1)*n] }
	)
	for i, m := range ms {
		ids[i] = 0
		at[i], raw[i], attempts[i], dupOf[i], claims[i] = m.ReceivedAt, m.Raw, int32(m.Attempts), m.DuplicateOf, m.Status.Claims()
		for c, v := range [...]string{m.Channel, m.Peer, m.SendingApp, m.SendingFacility, m.ReceivingApp,
			m.ReceivingFacility, m.ControlID, m.Type, m.Trigger, m.Structure, m.Version, m.PatientID,
			m.PatientIDSystem, string(m.Status), m.AckCode, m.Error} {
			text[c*n+i] = v
		}
	}
	rows, err := s.pool.Query(ctx, insertBatchSQL, at, raw, hashes, col(0), col(1), col(2), col(3), col(4),
		col(5), col(6), col(7), col(8), col(9), col(10), col(11), col(12), col(13), col(14), col(15),
		attempts, dupOf, claims)
	if err != nil {
		return err
	}
	defer rows.Close()
	// The returned rows come in id order, which is the order given: match
	// them to the messages, skipping the claimants that lost their key.
	i := 0
	for rows.Next() {
		var id int64
		var claim bool
		var facility, control string
		if err := rows.Scan(&id, &claim, &facility, &control); err != nil {
			return err
		}
		for i < n && !(claims[i] == claim && ms[i].SendingFacility == facility && ms[i].ControlID == control) {
			if !claims[i] {
				return fmt.Errorf("insert batch: message %d of %d not stored", i+1, n)
			}
			i++
		}
		if i == n {
			return errors.New("insert batch: a stored row matches no message")
		}
		ids[i] = id
		i++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for ; i < n; i++ {
		if !claims[i] {
			return fmt.Errorf("insert batch: message %d of %d not stored", i+1, n)
		}
	}
	return nil
}

// claimant reads the message that claims a key, with its body hash.
func (s *Store) claimant(ctx context.Context, q querier, facility, controlID string) (*store.HL7Message, []byte, error) {
	var hash []byte
	m, err := scanMessage(rowWithExtra{q.QueryRow(ctx, `SELECT `+messageColumns+`, body_hash FROM hl7_message
		WHERE sending_facility = $1 AND control_id = $2 AND claims_key`, facility, controlID), &hash}, false)
	if err != nil {
		return nil, nil, fmt.Errorf("claimant: %w", err)
	}
	return m, hash, nil
}

// rowWithExtra scans one more column after those scanMessage reads.
type rowWithExtra struct {
	row   pgx.Row
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra)...) }

// retry runs fn in a transaction, again on serialization failures and
// deadlocks.
func (s *Store) retry(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !retryable(err) {
			return err
		}
	}
	return err
}

// Message implements store.MessageStore.
func (s *Store) Message(ctx context.Context, id int64) (*store.HL7Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+`, raw FROM hl7_message WHERE id = $1`, id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: message: %w", err)
	}
	return m, nil
}

// MarkPublished implements store.MessageStore.
func (s *Store) MarkPublished(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	// Committed without waiting for the WAL flush (synchronous_commit off
	// for this statement's transaction): a crash may forget the mark, and
	// the repair loop then publishes the messages again, which consumers
	// tell apart by message id; an ACK's commit does not queue behind it.
	_, err := s.pool.Exec(ctx, `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
		DELETE FROM hl7_message_unpublished WHERE id = ANY($1) AND EXISTS (SELECT FROM async)`, ids)
	if err != nil {
		return fmt.Errorf("postgres: mark published: %w", err)
	}
	return nil
}

// Unpublished implements store.MessageStore.
func (s *Store) Unpublished(ctx context.Context, before time.Time, limit int) ([]*store.HL7Message, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+messageColumns+`, raw FROM hl7_message
		WHERE id IN (SELECT id FROM hl7_message_unpublished) AND received_at < $1 ORDER BY id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: unpublished: %w", err)
	}
	defer rows.Close()
	var out []*store.HL7Message
	for rows.Next() {
		m, err := scanMessage(rows, true)
		if err != nil {
			return nil, fmt.Errorf("postgres: unpublished: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: unpublished: %w", err)
	}
	return out, nil
}

// Messages implements store.MessageStore: newest first by (received_at,
// id), keyset-paged so that pages stay stable while messages arrive.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) (*store.MessagePage, error) {
	count := q.Count
	if count <= 0 {
		count = 50
	}
	if count > 500 {
		count = 500
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	eq("status", string(q.Status))
	eq("message_type", q.Type)
	eq("trigger_event", q.Trigger)
	eq("sending_app", q.SendingApp)
	eq("sending_facility", q.SendingFacility)
	eq("patient_id", q.PatientID)
	eq("control_id", q.ControlID)
	if !q.Since.IsZero() {
		where = append(where, "received_at >= "+arg(q.Since))
	}
	if !q.Before.IsZero() {
		where = append(where, "received_at < "+arg(q.Before))
	}
	if q.Cursor != "" {
		at, id, err := decodeMessageCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		where = append(where, "(received_at, id) < ("+arg(at)+", "+arg(id)+")")
	}
	sql := `SELECT ` + messageColumns
	if q.WithRaw {
		sql += `, raw`
	}
	sql += ` FROM hl7_message`
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	sql += ` ORDER BY received_at DESC, id DESC LIMIT ` + arg(count+1)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: messages: %w", err)
	}
	defer rows.Close()
	page := new(store.MessagePage)
	for rows.Next() {
		m, err := scanMessage(rows, q.WithRaw)
		if err != nil {
			return nil, fmt.Errorf("postgres: messages: %w", err)
		}
		page.Messages = append(page.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: messages: %w", err)
	}
	if len(page.Messages) > count {
		page.Messages = page.Messages[:count]
		last := page.Messages[count-1]
		page.Next = encodeMessageCursor(last.ReceivedAt, last.ID)
	}
	return page, nil
}

func encodeMessageCursor(at time.Time, id int64) string {
	return strconv.FormatInt(at.UnixMicro(), 36) + "." + strconv.FormatInt(id, 36)
}

func decodeMessageCursor(c string) (time.Time, int64, error) {
	a, b, ok := strings.Cut(c, ".")
	us, err1 := strconv.ParseInt(a, 36, 64)
	id, err2 := strconv.ParseInt(b, 36, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, &fhir.Error{Code: fhir.IssueInvalid, Message: "the cursor is not one this server returned", Expression: []string{"cursor"}}
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// FinishMessage implements store.MessageStore.
func (s *Store) FinishMessage(ctx context.Context, id int64, o store.MessageOutcome) error {
	return finishMessage(ctx, s.pool, id, o)
}

// FinishMessage records the outcome of processing message id within the
// transaction, so that it commits with the transaction's effect (see
// store.MessageStore).
func (t *tx) FinishMessage(ctx context.Context, id int64, o store.MessageOutcome) error {
	return finishMessage(ctx, t.q, id, o)
}

func finishMessage(ctx context.Context, q querier, id int64, o store.MessageOutcome) error {
	if o.Status != store.MessageProcessed && o.Status != store.MessageError {
		return fmt.Errorf("postgres: finish message: status %q is not an outcome", o.Status)
	}
	resources := o.Resources
	if resources == nil {
		resources = []string{}
	}
	tag, err := q.Exec(ctx, `UPDATE hl7_message SET status = $2, error = $3, resources = $4,
		attempts = attempts + 1, processed_at = $5 WHERE id = $1 AND claims_key`,
		id, string(o.Status), o.Error, resources, o.At)
	if err != nil {
		return fmt.Errorf("postgres: finish message: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: finish message %d: %w", id, store.ErrNotFound)
	}
	return nil
}
