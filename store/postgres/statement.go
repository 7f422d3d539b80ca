package postgres

import (
	"context"
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
func (w *writeStatement) render(b *strings.Builder, args []any) []any {
	for i, p := range w.parts {
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
	return args
}

// exec runs the gathered parts as one statement, for an existing rid.
func (w *writeStatement) exec(ctx context.Context, q querier) error {
	if len(w.parts) == 0 {
		return nil
	}
	var b strings.Builder
	args := w.render(&b, []any{w.rid})
	b.WriteString(" SELECT 1")
	_, err := q.Exec(ctx, b.String(), args...)
	return err
}

// indexInsertHead is how every index insert of queueInsertIndex selects
// its rows: the rid as $1 beside the unnested arrays (insertBatch relies
// on this form).
const indexInsertHead = "SELECT $1, * FROM unnest("
