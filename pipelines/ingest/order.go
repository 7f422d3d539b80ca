package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// This file keeps an older message from overwriting newer data (issue:
// "an older message, by MSH-7/EVN, must not overwrite newer data").
// Per-patient order on the topic is not enough: senders send out of order,
// and replays re-drive old messages.
//
// A message's event time is EVN-2 (recorded date/time) for ADT, else MSH-7.
// Before anything is written, each overwrite of the Bundle (a PUT or PATCH
// on criteria) looks at the resource it would change: inside the
// transaction, as the transaction's own resolution of the criteria found
// it (review, through service.BundleOptions.Review), so that the criteria
// are searched once; for an A40, whose Bundle completeMerge rewrites from
// what it reads, by a search before (supersede). When that resource's
// meta.source names another stored message ("hl7v2-message/<id>") whose
// event time is later than this message's, and that message overwrote
// this very resource (its own Bundle has a PUT or PATCH with the same
// type and criteria; an A40 counts as overwriting whatever it wrote, as it
// re-points resources), the overwrite is superseded:
//
//   - a PUT becomes an ensure (POST with ifNoneExist on its criteria), a
//     no-op on the existing resource that keeps its fullUrl resolvable
//     for the entries referring to it;
//   - a PATCH is dropped, except that an A40 keeps its /link and /active
//     operations: a merge is not undone by newer demographics.
//
// Ensures are never dropped, so nothing new is lost, and a resource that a
// newer message only ensured is not newer data: an ORU creates an unknown
// patient from PID, and an A08 about that patient completes it even if
// its event is older than the result. Equal times, resources written by
// other clients (no such meta.source), and messages without a usable time
// apply as before. The message is recorded processed, with a note saying
// how many overwrites were superseded, of which types, and by which
// messages (no values of the message).

// eventTime returns the time of m's event: EVN-2 for ADT when valid, else
// MSH-7; zero when neither is usable.
func eventTime(m *hl7v2.Message, loc *time.Location) time.Time {
	if m.Header().Type.Code == "ADT" {
		if evn := m.Segment("EVN", 1); evn.Exists() {
			if d, err := hl7v2.ParseTS(evn.Field(2), loc); err == nil && !d.IsZero() {
				return d.Time
			}
		}
	}
	if d := m.Header().Time; !d.IsZero() {
		return d.Time
	}
	return time.Time{}
}

// sourceInfo is what ordering needs to know about a message that wrote a
// resource: stored messages never change, so it is cached.
type sourceInfo struct {
	at     time.Time
	msg    *hl7v2.Message // nil once keys is set, or when unparseable
	merge  bool           // an A40
	once   sync.Once
	keys   map[string]bool // "Type?criteria" it overwrote (PUT or PATCH)
	keyErr error
}

// overwrote reports whether the source message's Bundle overwrote the
// resource typ?criteria. It maps the message once.
func (s *sourceInfo) overwrote(mapFn func(*hl7v2.Message, mappings.Options) (fhir.Object, error), ref, key string) (bool, error) {
	if s.merge {
		return true, nil
	}
	s.once.Do(func() {
		s.keys = map[string]bool{}
		if s.msg == nil {
			return
		}
		b, err := mapFn(s.msg, mappings.Options{MessageRef: ref})
		s.msg = nil
		if err != nil {
			s.keyErr = err
			return
		}
		entries, _ := b["entry"].([]any)
		for _, raw := range entries {
			e, _ := raw.(fhir.Object)
			req, _ := e["request"].(fhir.Object)
			if m := req["method"]; m == "PUT" || m == "PATCH" {
				u, _ := req["url"].(string)
				s.keys[u] = true
			}
		}
	})
	return s.keys[key], s.keyErr
}

// sourceCache is a bounded cache of sourceInfo by message id.
type sourceCache struct {
	mu sync.Mutex
	m  map[int64]*sourceInfo
}

// sourceCacheSize bounds the cache; it is emptied when full (the entries
// are cheap to rebuild: one read of a stored message).
const sourceCacheSize = 4096

// source returns what is known of stored message id; nil when it is not
// (no longer) stored.
func (p *Pipeline) source(ctx context.Context, id int64) (*sourceInfo, error) {
	c := &p.sources
	c.mu.Lock()
	info := c.m[id]
	c.mu.Unlock()
	if info != nil {
		return info, nil
	}
	m, err := p.cfg.Messages.Message(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("order: source message: %w", err)
	}
	info = &sourceInfo{}
	if parsed, err := hl7v2.Parse(m.Raw); err == nil {
		h := parsed.Header()
		info.at = eventTime(parsed, nil)
		info.merge = h.Type.Code == "ADT" && h.Type.Trigger == "A40"
		info.msg = parsed
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= sourceCacheSize {
		c.m = map[int64]*sourceInfo{}
	}
	c.m[id] = info
	c.mu.Unlock()
	return info, nil
}

// superseded collects the overwrites that newer messages superseded, for
// the note recorded with the outcome.
type superseded struct {
	n     int
	types []string
	by    []int64
}

func (s *superseded) add(typ string, by int64) {
	s.n++
	if !slices.Contains(s.types, typ) {
		s.types = append(s.types, typ)
	}
	if !slices.Contains(s.by, by) {
		s.by = append(s.by, by)
	}
}

// note returns the note to record with the outcome, "" when nothing was
// superseded.
func (s *superseded) note() string {
	if s.n == 0 {
		return ""
	}
	ids := make([]string, len(s.by))
	for i, id := range s.by {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("partially superseded: %d of the message's updates not applied (%s), newer data from message %s kept",
		s.n, strings.Join(s.types, ", "), strings.Join(ids, ", "))
}

// review is the service.BundleOptions.Review of a message that is not an
// A40: it turns the overwrites that newer messages have superseded into
// ensures or drops them (see above), from what the transaction's criteria
// matched, and returns the note to record with the outcome ("" when none
// was). It costs, per other message found as the source of a resource,
// one message read (cached) and, only when that message is the newer, one
// mapping of it (cached).
func (p *Pipeline) review(ctx context.Context, msg *store.HL7Message, at time.Time, updates []*service.Update) (string, error) {
	var sup superseded
	for _, u := range updates {
		newer, err := p.newerSource(ctx, msg.ID, at, u.Type, u.Criteria, u.Matches)
		if err != nil {
			return "", err
		}
		if newer == 0 {
			continue
		}
		sup.add(u.Type, newer)
		switch u.Method {
		case "PUT":
			u.Ensure()
		case "PATCH":
			u.Drop()
		}
	}
	return sup.note(), nil
}

// supersede is review for an A40's bundle, before completeMerge rewrites
// it: it searches the criteria of each PUT or PATCH first, and keeps a
// superseded Patient PATCH's /link and /active operations (a merge is not
// undone by newer demographics).
func (p *Pipeline) supersede(ctx context.Context, msg *store.HL7Message, parsed *hl7v2.Message, bundle fhir.Object) (string, error) {
	at := eventTime(parsed, nil)
	if at.IsZero() {
		return "", nil
	}
	merge := parsed.Header().Type.Code == "ADT" && parsed.Header().Type.Trigger == "A40"
	entries, _ := bundle["entry"].([]any)
	var sup superseded
	out := entries[:0]
	for _, raw := range entries {
		e, _ := raw.(fhir.Object)
		req, _ := e["request"].(fhir.Object)
		method, _ := req["method"].(string)
		u, _ := req["url"].(string)
		typ, criteria, conditional := strings.Cut(u, "?")
		if (method != "PUT" && method != "PATCH") || !conditional {
			out = append(out, raw)
			continue
		}
		matches, err := p.match(ctx, typ, criteria)
		if err != nil {
			return "", err
		}
		newer, err := p.newerSource(ctx, msg.ID, at, typ, criteria, matches)
		if err != nil {
			return "", err
		}
		if newer == 0 {
			out = append(out, raw)
			continue
		}
		sup.add(typ, newer)
		switch method {
		case "PUT":
			e["request"] = fhir.Object{"method": "POST", "url": typ, "ifNoneExist": criteria}
			out = append(out, e)
		case "PATCH":
			if merge && typ == "Patient" {
				if kept, err := keepPatchOps(e, "/link", "/active"); err != nil {
					return "", err
				} else if kept {
					out = append(out, e)
				}
			}
		}
	}
	bundle["entry"] = out
	return sup.note(), nil
}

// newerSource returns the id of the message, newer than at, that last
// overwrote the typ resource matching criteria, given the current
// resources the criteria match; 0 when there is none.
func (p *Pipeline) newerSource(ctx context.Context, self int64, at time.Time, typ, criteria string, matches []*store.Resource) (int64, error) {
	if len(matches) != 1 {
		// None: nothing to overwrite. Several: the transaction reports it.
		return 0, nil
	}
	obj, err := fhir.ParseObject(matches[0].Content)
	if err != nil {
		return 0, nil
	}
	meta, _ := obj["meta"].(fhir.Object)
	src, _ := meta["source"].(string)
	idText, ok := strings.CutPrefix(src, "hl7v2-message/")
	if !ok {
		return 0, nil
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id == self {
		return 0, nil
	}
	info, err := p.source(ctx, id)
	if err != nil || info == nil || !info.at.After(at) {
		return 0, err
	}
	over, err := info.overwrote(p.cfg.Map, src, typ+"?"+criteria)
	if err != nil || !over {
		// A source that no longer maps cannot say what it wrote: apply.
		return 0, nil
	}
	return id, nil
}

// keepPatchOps keeps only the operations on paths of a PATCH entry and
// reports whether any is left.
func keepPatchOps(e fhir.Object, paths ...string) (bool, error) {
	ops, err := patchOps(e)
	if err != nil {
		return false, err
	}
	kept := ops[:0]
	for _, o := range ops {
		op, _ := o.(fhir.Object)
		if path, _ := op["path"].(string); slices.Contains(paths, path) {
			kept = append(kept, o)
		}
	}
	setPatchOps(e, kept)
	return len(kept) > 0, nil
}
