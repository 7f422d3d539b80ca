package postgres

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// historyCursor is the position after the last version of a page: history
// is ordered by (last_updated, rid, version) descending, so a page boundary
// stays put whatever is written meanwhile.
type historyCursor struct {
	at      time.Time
	rid     int64
	version int64
}

func (c historyCursor) encode() string {
	s := fmt.Sprintf("%d.%d.%d", c.at.UnixMicro(), c.rid, c.version)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeHistoryCursor(s string) (historyCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	parts := strings.Split(string(b), ".")
	if err != nil || len(parts) != 3 {
		return historyCursor{}, fhir.Errorf(fhir.IssueInvalid, "invalid paging cursor")
	}
	var n [3]int64
	for i, p := range parts {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return historyCursor{}, fhir.Errorf(fhir.IssueInvalid, "invalid paging cursor")
		}
	}
	return historyCursor{at: time.UnixMicro(n[0]), rid: n[1], version: n[2]}, nil
}

// History implements store.Reader.
func (r reader) History(ctx context.Context, q store.HistoryQuery) (*store.HistoryPage, error) {
	count := q.Count
	if count <= 0 {
		count = r.s.cfg.DefaultCount
	}
	if count > r.s.cfg.MaxCount {
		count = r.s.cfg.MaxCount
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	sc := store.ScopeFrom(ctx)
	if q.ID != "" {
		var rid int64
		var facility string
		err := r.q.QueryRow(ctx, "SELECT rid, facility FROM resource WHERE tenant = $1 AND type = $2 AND id = $3",
			sc.Tenant, q.Type, q.ID).Scan(&rid, &facility)
		if err != nil || !sc.Sees(facility) {
			return nil, fmt.Errorf("postgres: history %s/%s: %w", q.Type, q.ID, store.ErrNotFound)
		}
		where = append(where, "h.rid = "+arg(rid))
	} else {
		where = append(where, "h.tenant = "+arg(sc.Tenant))
		if q.Type != "" {
			where = append(where, "h.type = "+arg(q.Type))
		}
	}
	if sc.Facility != "" {
		// Versions of the caller's facility and shared ones.
		where = append(where, "(h.facility = '' OR h.facility = "+arg(sc.Facility)+")")
	}
	if !q.Since.IsZero() {
		where = append(where, "h.last_updated >= "+arg(q.Since))
	}
	if !q.At.IsZero() {
		// Versions current at q.At: the newest one of each resource made at
		// or before it, provided it is not a deletion.
		where = append(where, "h.last_updated <= "+arg(q.At),
			"NOT EXISTS (SELECT 1 FROM resource_history n WHERE n.rid = h.rid AND n.version > h.version AND n.last_updated <= "+arg(q.At)+")")
	}
	countWhere := append([]string(nil), where...)
	countArgs := append([]any(nil), args...)
	if q.Cursor != "" {
		c, err := decodeHistoryCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		where = append(where, "(h.last_updated, h.rid, h.version) < ("+arg(c.at)+", "+arg(c.rid)+", "+arg(c.version)+")")
	}
	sql := "SELECT h.rid, h.type, h.id, h.version, h.last_updated, h.method, h.deleted, h.content FROM resource_history h"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY h.last_updated DESC, h.rid DESC, h.version DESC LIMIT " + arg(count+1)
	rows, err := r.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: history: %w", err)
	}
	defer rows.Close()
	page := &store.HistoryPage{Total: -1}
	var last historyCursor
	for rows.Next() {
		var (
			res     store.Resource
			rid     int64
			content *string
		)
		if err := rows.Scan(&rid, &res.Type, &res.ID, &res.Version, &res.LastUpdated, &res.Method, &res.Deleted, &content); err != nil {
			return nil, fmt.Errorf("postgres: history: %w", err)
		}
		if len(page.Versions) == count {
			page.Next = last.encode()
			break
		}
		if content != nil {
			res.Content = []byte(*content)
		}
		page.Versions = append(page.Versions, &res)
		last = historyCursor{at: res.LastUpdated, rid: rid, version: res.Version}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: history: %w", err)
	}
	if q.ID != "" || q.Type != "" {
		sql := "SELECT count(*) FROM resource_history h"
		if len(countWhere) > 0 {
			sql += " WHERE " + strings.Join(countWhere, " AND ")
		}
		if err := r.q.QueryRow(ctx, sql, countArgs...).Scan(&page.Total); err != nil {
			return nil, fmt.Errorf("postgres: history count: %w", err)
		}
	}
	return page, nil
}
