package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

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

// rendered caches statement's text by the parts' text (which fixes each
// part's number of arguments): a resource type writes its versions with a
// few such shapes, and renumbering the placeholders of every part with a
// regular expression cost as much as extracting the index values.
var rendered sync.Map

// statement returns the parts as one statement of CTEs w0, w1... ending
// in SELECT 1, with the rid as $1 and each part's $2.. renumbered after
// those before it, and its arguments.
func (w *writeStatement) statement() (string, []any) {
	args := []any{w.rid}
	for i := range w.parts {
		args = append(args, w.args[i]...)
	}
	key := strings.Join(w.parts, "\x00")
	if text, ok := rendered.Load(key); ok {
		return text.(string), args
	}
	var b strings.Builder
	n := 1 // arguments before the part's
	for i, p := range w.parts {
		shift := n - 1
		p = placeholder.ReplaceAllStringFunc(p, func(m string) string {
			k, _ := strconv.Atoi(m[1:])
			if k == 1 {
				return m
			}
			return "$" + strconv.Itoa(k+shift)
		})
		n += len(w.args[i])
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (%s)", i, p)
	}
	b.WriteString(" SELECT 1")
	rendered.Store(key, b.String())
	return b.String(), args
}

// exec runs the gathered parts as one statement, for an existing rid.
func (w *writeStatement) exec(ctx context.Context, q querier) error {
	if len(w.parts) == 0 {
		return nil
	}
	sql, args := w.statement()
	_, err := q.Exec(ctx, sql, args...)
	return err
}

// indexInsertHead is how every index insert of queueInsertIndex selects
// its rows: the rid as $1 beside the unnested arrays (insertBatch relies
// on this form).
const indexInsertHead = "SELECT $1, * FROM unnest("
