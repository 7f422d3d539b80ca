package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// writeStatement gathers the writes of one resource version (resource
// row, history row, index deletes and inserts), each written with the
// resource's rid as $1 and its own values from $2, and runs them as a
// single statement of data-modifying CTEs: one parse, plan and round trip
// instead of one per table. The parts see the same snapshot, so deleting a
// table's old index rows and inserting the new ones together is safe.
type writeStatement struct {
	rid   int64
	parts []string
	args  [][]any // per part, its $2, $3...
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// Queue adds a part; args[0] is the rid (ignored: the statement's own).
func (w *writeStatement) Queue(query string, args ...any) *pgx.QueuedQuery {
	w.parts = append(w.parts, query)
	w.args = append(w.args, args[1:])
	return nil
}

// render writes the parts as CTEs w0, w1... after the given leading
// arguments, renumbering each part's $2.. after those before it; $1 is
// left as it is.
func (w *writeStatement) render(b *strings.Builder, args []any, transform func(string) (string, error)) ([]any, error) {
	for i, p := range w.parts {
		if transform != nil {
			var err error
			if p, err = transform(p); err != nil {
				return nil, err
			}
		}
		shift := len(args) - 1
		p = placeholder.ReplaceAllStringFunc(p, func(m string) string {
			n, _ := strconv.Atoi(m[1:])
			if n == 1 {
				return m
			}
			return "$" + strconv.Itoa(n+shift)
		})
		args = append(args, w.args[i]...)
		if b.Len() > 0 {
			b.WriteString(", ")
		} else {
			b.WriteString("WITH ")
		}
		fmt.Fprintf(b, "w%d AS (%s)", i, p)
	}
	return args, nil
}

// exec runs the gathered parts as one statement, for an existing rid.
func (w *writeStatement) exec(ctx context.Context, q querier) error {
	if len(w.parts) == 0 {
		return nil
	}
	var b strings.Builder
	args, err := w.render(&b, []any{w.rid}, nil)
	if err != nil {
		return err
	}
	b.WriteString(" SELECT 1")
	_, err = q.Exec(ctx, b.String(), args...)
	return err
}

// indexInsertHead is how every index insert of queueInsertIndex selects
// its rows: the rid as $1 beside the unnested arrays.
const indexInsertHead = "SELECT $1, * FROM unnest("

// execInsert runs, as one statement, the insert of version 1 of typ/id
// (a first CTE whose RETURNING gives the new rid) together with the
// gathered history and index inserts, which take that rid in place of $1.
// Outside a transaction block it is its own transaction: one round trip
// where BEGIN, INSERT, the index statement and COMMIT take four. It
// returns the rid, or 0 when typ/id exists already (nothing is written).
func (w *writeStatement) execInsert(ctx context.Context, q querier, typ, id string, now any, content string) (int64, error) {
	var b strings.Builder
	b.WriteString(`WITH r AS (INSERT INTO resource (type, id, version, last_updated, content)
		VALUES ($1, $2, 1, $3, $4) ON CONFLICT (type, id) DO NOTHING RETURNING rid)`)
	args, err := w.render(&b, []any{typ, id, now, content}, func(p string) (string, error) {
		switch {
		case strings.Contains(p, indexInsertHead):
			return strings.Replace(p, indexInsertHead, "SELECT r.rid, u.* FROM r CROSS JOIN unnest(", 1) + " AS u", nil
		case strings.Contains(p, "VALUES ($1,"):
			head, tail, _ := strings.Cut(p, "VALUES ($1,")
			tail = strings.TrimSuffix(strings.TrimSpace(tail), ")")
			return head + "SELECT r.rid," + tail + " FROM r", nil
		}
		return "", fmt.Errorf("postgres: statement part cannot take the new rid: %.60s", p)
	})
	if err != nil {
		return 0, err
	}
	b.WriteString(" SELECT rid FROM r")
	var rid int64
	err = q.QueryRow(ctx, b.String(), args...).Scan(&rid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return rid, err
}
