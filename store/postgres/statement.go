package postgres

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// writeStatement gathers the writes of one resource version (resource
// row, history row, index deletes and inserts), each taking the resource's
// rid as $1, and runs them as a single statement of data-modifying CTEs:
// one parse, plan and round trip instead of one per table. The parts see
// the same snapshot, so deleting a table's old index rows and inserting
// the new ones in the same statement is safe.
type writeStatement struct {
	rid   int64
	parts []string
	args  []any
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// Queue adds query, whose $1 is the rid and whose other placeholders are
// numbered from $2; it renumbers them after the parts queued before.
func (w *writeStatement) Queue(query string, args ...any) *pgx.QueuedQuery {
	if len(w.args) == 0 {
		w.args = append(w.args, w.rid)
	}
	offset := len(w.args) - 1 // $2 becomes $(2+offset)
	query = placeholder.ReplaceAllStringFunc(query, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		if n == 1 {
			return m
		}
		return "$" + strconv.Itoa(n+offset)
	})
	w.args = append(w.args, args[1:]...)
	w.parts = append(w.parts, query)
	return nil
}

// exec runs the gathered parts as one statement.
func (w *writeStatement) exec(ctx context.Context, q querier) error {
	if len(w.parts) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("WITH ")
	for i, p := range w.parts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("w")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(" AS (")
		b.WriteString(p)
		b.WriteString(")")
	}
	b.WriteString(" SELECT 1")
	_, err := q.Exec(ctx, b.String(), w.args...)
	return err
}
