package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// BundleOptions tune batch and transaction processing.
type BundleOptions struct {
	// Representation puts each written resource in its response entry
	// (Prefer: return=representation).
	Representation bool
	// Review, when set, is called for a transaction inside its database
	// transaction, once the criteria of its conditional entries are
	// resolved and before anything is written, with the entries that
	// update by criteria (PUT or PATCH on Type?criteria) and the current
	// resources their criteria match; it may turn them into ensures or
	// drop them (see Update). It runs again when the database transaction
	// is retried. Its error fails the Bundle, and is returned as it is.
	Review func(ctx context.Context, updates []*Update) error
	// Finish, when set, is called for a transaction inside its database
	// transaction once every entry has run, with what the entries wrote
	// (each one's response location, Type/id/_history/n, in entry
	// order), so that the caller's own record of the outcome commits
	// with the effect. It runs again when the database transaction is
	// retried; its error fails the Bundle and is returned as it is.
	Finish func(ctx context.Context, tx store.Tx, written []string) error
}

// entry is one Bundle.entry with its request parsed.
type entry struct {
	index    int
	fullURL  string
	method   string
	rawURL   string
	typ      string
	id       string
	version  int64
	op       string // "" or "_history" or "_search"
	query    string // criteria or search parameters
	resource fhir.Object
	patch    []byte
	ifMatch  int64
	ifNone   string  // If-None-Exist
	ifNoneM  string  // If-None-Match
	req      request // the request as parsed, restored for each attempt
	assigned string  // id assigned to a POST before processing
	// matched holds what the entry's criteria matched when the
	// transaction began, under their locks when they matched nothing
	// (see lockUnmatched); resolved says it is set. cond is the
	// entry's criteria, shared with the entries that have the same.
	matched  []*store.Resource
	resolved bool
	cond     *criterion
	// fresh: a conditional PUT whose criteria matched nothing and whose
	// resource gets a new server-assigned id, so a create. dropped: a
	// PATCH that Review dropped.
	fresh   bool
	dropped bool
	// current and absent: what a PUT by id found when the transaction
	// read its target before the writes (see readTargets).
	current *store.Resource
	absent  bool

	result   Result
	response fhir.Object // for GET: the resource or Bundle returned
}

func (e *entry) path() string { return "Bundle.entry[" + strconv.Itoa(e.index) + "]" }

// request is what Review may change in an entry's request.
type request struct {
	method, rawURL, query, ifNone string
}

func (e *entry) saveRequest() { e.req = request{e.method, e.rawURL, e.query, e.ifNone} }

func (e *entry) restoreRequest() {
	e.method, e.rawURL, e.query, e.ifNone = e.req.method, e.req.rawURL, e.req.query, e.req.ifNone
}

// Bundle processes a batch or transaction Bundle (http.html#transaction)
// and returns the batch-response or transaction-response Bundle. A
// transaction is atomic: any failing entry fails the whole Bundle with that
// entry's error. Batch entries succeed or fail one by one.
func (s *Service) Bundle(ctx context.Context, bundle fhir.Object, opts BundleOptions) (fhir.Object, error) {
	if fhir.ResourceType(bundle) != "Bundle" {
		return nil, fhir.Errorf(fhir.IssueInvalid, "expected a Bundle").At("resourceType")
	}
	kind, _ := bundle["type"].(string)
	if kind != "batch" && kind != "transaction" {
		return nil, fhir.Errorf(fhir.IssueInvalid, "Bundle.type must be batch or transaction to be processed").At("Bundle.type")
	}
	raw, _ := bundle["entry"].([]any)
	if len(raw) > s.cfg.MaxBundleEntries {
		return nil, fhir.Errorf(fhir.IssueTooCostly, "the Bundle has %d entries, more than the limit of %d", len(raw), s.cfg.MaxBundleEntries).At("Bundle.entry")
	}
	entries := make([]*entry, len(raw))
	errs := make([]error, len(raw)) // batch: each entry's outcome
	for i, r := range raw {
		e, err := parseEntry(i, r)
		entries[i] = e
		if err != nil {
			if kind == "transaction" {
				return nil, err
			}
			errs[i] = err
		}
	}
	if kind == "transaction" {
		if err := s.transaction(ctx, entries, opts); err != nil {
			return nil, err
		}
		return s.responseBundle("transaction-response", entries, nil, opts), nil
	}
	for i, e := range entries {
		if errs[i] != nil { // unparseable entry
			continue
		}
		errs[i] = s.Store().Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
			return s.runEntry(ctx, tx, e, nil)
		})
	}
	return s.responseBundle("batch-response", entries, errs, opts), nil
}

// Store returns the store the service writes to.
func (s *Service) Store() store.Store { return s.cfg.Store }

func parseEntry(i int, raw any) (*entry, error) {
	e := &entry{index: i}
	at := e.path()
	m, ok := raw.(map[string]any)
	if !ok {
		return e, fhir.Errorf(fhir.IssueStructure, "entry is not an object").At(at)
	}
	e.fullURL, _ = m["fullUrl"].(string)
	if r, ok := m["resource"].(map[string]any); ok {
		e.resource = r
	}
	req, ok := m["request"].(map[string]any)
	if !ok {
		return e, fhir.Errorf(fhir.IssueRequired, "entry.request is missing").At(at + ".request")
	}
	method, _ := req["method"].(string)
	rawURL, _ := req["url"].(string)
	if rawURL == "" {
		return e, fhir.Errorf(fhir.IssueRequired, "entry.request.url is missing").At(at + ".request.url")
	}
	e.rawURL = rawURL
	if v, ok := req["ifMatch"].(string); ok {
		n, err := ParseETag(v)
		if err != nil {
			return e, fhir.Errorf(fhir.IssueInvalid, "invalid ifMatch %q", v).At(at + ".request.ifMatch")
		}
		e.ifMatch = n
	}
	e.ifNone, _ = req["ifNoneExist"].(string)
	e.ifNoneM, _ = req["ifNoneMatch"].(string)
	path, query, _ := strings.Cut(rawURL, "?")
	path = strings.Trim(path, "/")
	e.query = query
	parts := strings.Split(path, "/")
	e.typ = parts[0]
	switch {
	case len(parts) == 1:
	case len(parts) == 2 && (parts[1] == "_search" || parts[1] == "_history"):
		e.op = parts[1]
	case len(parts) == 2:
		e.id = parts[1]
	case len(parts) == 3 && parts[2] == "_history":
		e.id, e.op = parts[1], "_history"
	case len(parts) == 4 && parts[2] == "_history":
		e.id = parts[1]
		v, err := strconv.ParseInt(parts[3], 10, 64)
		if err != nil || v < 1 {
			return e, fhir.Errorf(fhir.IssueInvalid, "invalid version in %q", rawURL).At(at + ".request.url")
		}
		e.version = v
	default:
		return e, fhir.Errorf(fhir.IssueNotSupported, "unsupported request url %q", rawURL).At(at + ".request.url")
	}
	switch method {
	case "GET", "HEAD":
	case "POST":
		if e.id != "" || e.op != "" {
			return e, fhir.Errorf(fhir.IssueInvalid, "POST must name a resource type only").At(at + ".request.url")
		}
		if e.resource == nil {
			return e, fhir.Errorf(fhir.IssueRequired, "POST needs entry.resource").At(at + ".resource")
		}
	case "PUT":
		if e.resource == nil {
			return e, fhir.Errorf(fhir.IssueRequired, "PUT needs entry.resource").At(at + ".resource")
		}
		if e.id == "" && e.query == "" {
			return e, fhir.Errorf(fhir.IssueInvalid, "PUT needs Type/id or Type?criteria").At(at + ".request.url")
		}
	case "DELETE":
		if e.id == "" && e.query == "" {
			return e, fhir.Errorf(fhir.IssueInvalid, "DELETE needs Type/id or Type?criteria").At(at + ".request.url")
		}
	case "PATCH":
		if e.id == "" && e.query == "" {
			return e, fhir.Errorf(fhir.IssueInvalid, "PATCH needs Type/id or Type?criteria").At(at + ".request.url")
		}
		b, ok := e.resource, e.resource != nil
		if !ok || fhir.ResourceType(b) != "Binary" {
			return e, fhir.Errorf(fhir.IssueNotSupported, "PATCH in a Bundle needs a Binary resource holding a JSON Patch").At(at + ".resource")
		}
		p, err := binaryData(b)
		if err != nil {
			return e, fhir.AsError(err).At(at + ".resource")
		}
		e.patch = p
	default:
		return e, fhir.Errorf(fhir.IssueInvalid, "unsupported method %q", method).At(at + ".request.method")
	}
	e.method = method
	e.saveRequest()
	return e, nil
}

// transaction runs entries atomically in the order http.html#trules
// requires: DELETE, POST, PUT/PATCH, GET/HEAD, after assigning the ids of
// created resources and rewriting references between entries.
func (s *Service) transaction(ctx context.Context, entries []*entry, opts BundleOptions) error {
	// Resource content is rewritten below; keep the client's copy for retries.
	originals := make([]fhir.Object, len(entries))
	for i, e := range entries {
		if e.resource != nil {
			originals[i] = e.resource
		}
	}
	conds := conditionalCriteria(entries)
	// With speculate, PUTs by id read their target before the writes
	// (readTargets); last is the state of the last attempt.
	speculate, last := true, (*txRun)(nil)
	attempt := func(ctx context.Context, tx store.Tx) error {
		// The locks of the conditional entries that match nothing yet
		// (they may create), taken in one order up front: two
		// transactions that would create the same resource (one new
		// Practitioner in two messages) then wait for each other instead
		// of deadlocking; the entries take them again, which is free.
		// Criteria that match already need no lock (see lockIfNone).
		for i, e := range entries {
			if originals[i] != nil {
				e.resource = fhir.Clone(originals[i]).(map[string]any)
			}
			e.restoreRequest()
			e.result, e.response, e.assigned, e.matched, e.resolved = Result{}, nil, "", nil, false
			e.fresh, e.dropped, e.current, e.absent = false, false, nil, false
		}
		if err := s.lockUnmatched(ctx, tx, conds); err != nil {
			return err
		}
		if opts.Review != nil {
			if err := reviewUpdates(ctx, entries, opts.Review); err != nil {
				return err
			}
		}
		run := newTxRun()
		last = run
		if speculate && guardOf(ctx) == nil {
			if err := readTargets(ctx, tx, entries); err != nil {
				return err
			}
		}
		refs, err := s.resolveTargets(ctx, tx, entries)
		if err != nil {
			return err
		}
		conditional := map[string]string{} // each conditional reference is searched once
		for _, e := range entries {
			if e.resource == nil {
				continue
			}
			if err := s.rewriteReferences(ctx, tx, e, refs, conditional); err != nil {
				return err
			}
		}
		for _, group := range [][]string{{"DELETE"}, {"POST"}, {"PUT", "PATCH"}, {"GET", "HEAD"}} {
			for _, e := range entries {
				if !slices.Contains(group, e.method) {
					continue
				}
				if err := s.runEntry(ctx, tx, e, run); err != nil {
					if fe := fhir.AsError(err); fe != nil && (len(fe.Expression) == 0 || !strings.HasPrefix(fe.Expression[0], "Bundle")) {
						prefixExpressions(fe, e.path()+".resource")
					}
					return fmt.Errorf("service: transaction entry %d: %w", e.index, err)
				}
			}
		}
		if opts.Finish != nil {
			return opts.Finish(ctx, tx, written(entries))
		}
		return nil
	}
	err := s.Store().Transaction(ctx, attempt)
	if err != nil && last != nil && last.speculated && errors.Is(err, store.ErrVersionConflict) {
		// A PUT by id whose resource was absent when read has been
		// created by a concurrent transaction since: run again, the PUT
		// updating what that one created.
		speculate = false
		err = s.Store().Transaction(ctx, attempt)
	}
	return err
}

// criterion is the criteria of conditional entries.
type criterion struct {
	typ, query string
	canonical  string   // CanonicalCriteria
	locks      []string // CriteriaLocks
	entries    []*entry // the entries with these criteria
}

// conditionalCriteria returns the distinct criteria of the conditional
// entries (ifNoneExist, and PUT, PATCH or DELETE by criteria), and sets
// each entry's cond.
func conditionalCriteria(entries []*entry) []*criterion {
	var out []*criterion
	for _, e := range entries {
		criteria := ""
		switch {
		case e.method == "POST":
			criteria = e.ifNone
		case e.id == "" && e.query != "" && (e.method == "PUT" || e.method == "PATCH" || e.method == "DELETE"):
			criteria = e.query
		}
		if i := strings.IndexByte(criteria, '?'); i >= 0 {
			criteria = criteria[i+1:]
		}
		if criteria == "" {
			continue
		}
		params, err := url.ParseQuery(criteria)
		if err != nil || len(params) == 0 {
			continue // reported when the entry runs
		}
		canonical := CanonicalCriteria(e.typ, params)
		if i := slices.IndexFunc(out, func(c *criterion) bool { return c.canonical == canonical }); i >= 0 {
			out[i].entries = append(out[i].entries, e)
			e.cond = out[i]
			continue
		}
		c := &criterion{typ: e.typ, query: criteria, canonical: canonical, locks: CriteriaLocks(e.typ, params), entries: []*entry{e}}
		e.cond = c
		out = append(out, c)
	}
	return out
}

// lockUnmatched resolves the criteria of the conditional entries before
// any entry runs: it searches them (see matchAll); takes, in one order,
// the locks of those that match nothing (their entries may create);
// searches those again, now that a transaction that held a lock has
// committed; and gives each entry what its criteria matched. Invalid
// criteria are left to their entry, which reports the error where it
// belongs.
func (s *Service) lockUnmatched(ctx context.Context, tx store.Tx, conds []*criterion) error {
	found, err := s.matchAll(ctx, tx, conds)
	if err != nil {
		return err
	}
	var locks []string
	var unmatched []*criterion
	for i, c := range conds {
		switch {
		case found[i].err != nil: // invalid
		case len(found[i].matches) == 0:
			locks = append(locks, c.locks...)
			unmatched = append(unmatched, c)
		default:
			c.resolve(found[i].matches)
		}
	}
	if len(locks) == 0 {
		return nil
	}
	if err := tx.Lock(ctx, locks...); err != nil {
		return err
	}
	if found, err = s.matchAll(ctx, tx, unmatched); err != nil {
		return err
	}
	for i, c := range unmatched {
		if found[i].err != nil {
			return found[i].err
		}
		c.resolve(found[i].matches)
	}
	return nil
}

// resolve gives the entries of c what c matches.
func (c *criterion) resolve(matches []*store.Resource) {
	for _, e := range c.entries {
		e.matched, e.resolved = matches, true
	}
}

// prefixExpressions turns resource paths into Bundle paths:
// "Patient.name" -> "Bundle.entry[3].resource.name".
func prefixExpressions(fe *fhir.Error, prefix string) {
	fix := func(exprs []string) {
		for i, x := range exprs {
			if _, rest, ok := strings.Cut(x, "."); ok {
				exprs[i] = prefix + "." + rest
			} else {
				exprs[i] = prefix
			}
		}
	}
	fix(fe.Expression)
	if len(fe.Expression) == 0 {
		fe.Expression = []string{prefix}
	}
	for i := range fe.More {
		fix(fe.More[i].Expression)
	}
}

// resolveTargets decides the Type/id each POST and conditional PUT entry
// will write, before anything is written, and returns fullUrl -> Type/id.
func (s *Service) resolveTargets(ctx context.Context, tx store.Tx, entries []*entry) (map[string]string, error) {
	refs := map[string]string{}
	seen := map[string]int{}
	for _, e := range entries {
		var target string
		switch e.method {
		case "POST":
			if e.ifNone != "" {
				matches, err := s.entryMatches(ctx, tx, e, e.ifNone, false)
				if err != nil {
					return nil, atEntry(err, e)
				}
				switch len(matches) {
				case 0:
				case 1:
					e.assigned = matches[0].ID
					e.result = Result{Resource: matches[0], Status: http.StatusOK}
				default:
					return nil, atEntry(multipleMatches("ifNoneExist"), e)
				}
			}
			if e.assigned == "" {
				e.assigned = s.cfg.NewID()
			}
			target = e.typ + "/" + e.assigned
		case "PUT":
			if e.id != "" {
				target = e.typ + "/" + e.id
				break
			}
			matches, err := s.entryMatches(ctx, tx, e, e.query, false)
			if err != nil {
				return nil, atEntry(err, e)
			}
			switch len(matches) {
			case 0:
				if id, _ := e.resource["id"].(string); id != "" {
					e.assigned = id
				} else {
					e.assigned, e.fresh = s.cfg.NewID(), true
				}
			case 1:
				e.assigned = matches[0].ID
			default:
				return nil, atEntry(multipleMatches("conditional update"), e)
			}
			target = e.typ + "/" + e.assigned
		case "DELETE", "PATCH":
			if e.id != "" {
				target = e.typ + "/" + e.id
			}
		}
		if target != "" {
			if j, dup := seen[target]; dup {
				return nil, fhir.Errorf(fhir.IssueDuplicate, "entries %d and %d both write %s", j, e.index, target).At(e.path())
			}
			seen[target] = e.index
		}
		if e.fullURL != "" && target != "" && (e.method == "POST" || e.method == "PUT") {
			refs[e.fullURL] = target
		}
	}
	return refs, nil
}

// entryMatches returns what e's criteria match: what lockUnmatched found
// when the transaction began, else a search. After the transaction's
// first writes (afterWrites), only a match found then is reused: an entry
// that ran since may have created what the criteria match (a PATCH after
// the POST that ensures its resource).
func (s *Service) entryMatches(ctx context.Context, tx store.Tx, e *entry, criteria string, afterWrites bool) ([]*store.Resource, error) {
	if e.resolved && (len(e.matched) > 0 || !afterWrites) {
		return e.matched, nil
	}
	return s.matchCriteria(ctx, tx, e.typ, criteria, lockIfNone)
}

func atEntry(err error, e *entry) error {
	if fe := fhir.AsError(err); fe != nil && len(fe.Expression) == 0 {
		fe.Expression = []string{e.path() + ".request"}
	}
	return err
}

// rewriteReferences replaces, in e.resource, references to other entries'
// fullUrls by the Type/id they were given, and conditional references
// ("Patient?identifier=...") by the one resource they match.
func (s *Service) rewriteReferences(ctx context.Context, tx store.Tx, e *entry, refs, conditional map[string]string) error {
	var walkErr error
	var walk func(v any, key string) any
	walk = func(v any, key string) any {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				x[k] = walk(c, k)
			}
		case []any:
			for i, c := range x {
				x[i] = walk(c, key)
			}
		case string:
			if t, ok := refs[x]; ok {
				return t
			}
			if key == "reference" && walkErr == nil {
				if to, ok := conditional[x]; ok {
					return to
				}
				if typ, crit, ok := strings.Cut(x, "?"); ok && s.cfg.Validator.IsResourceType(typ) {
					matches, err := s.matchCriteria(ctx, tx, typ, crit, lockNone)
					if err != nil {
						walkErr = err
						return x
					}
					if len(matches) != 1 {
						walkErr = fmt.Errorf("%w: %w", ErrPreconditionFailed,
							fhir.Errorf(fhir.IssueNotFound, "conditional reference %q matches %d resources, not one", x, len(matches)).At(e.path()+".resource"))
						return x
					}
					conditional[x] = typ + "/" + matches[0].ID
					return conditional[x]
				}
			}
		}
		return v
	}
	walk(e.resource, "")
	return walkErr
}

// runEntry performs one entry inside tx. run is the transaction's state
// (nil in a batch): with it, an entry uses what the transaction resolved
// and wrote before it instead of reading again (see bundle_run.go).
func (s *Service) runEntry(ctx context.Context, tx store.Tx, e *entry, run *txRun) error {
	var err error
	switch e.method {
	case "POST":
		if e.result.Resource != nil { // matched by ifNoneExist
			return nil
		}
		if run != nil {
			err = s.runCreate(ctx, tx, e, run)
			break
		}
		e.result, err = s.create(ctx, tx, e.typ, e.resource, e.ifNone, e.assigned)
	case "PUT":
		if e.id != "" {
			if run != nil && (e.current != nil || e.absent) && !run.written[e.typ+"/"+e.id] {
				err = s.runPutByID(ctx, tx, e, run)
				break
			}
			e.result, err = s.update(ctx, tx, e.typ, e.id, e.resource, e.ifMatch, "PUT")
		} else if e.assigned != "" { // transaction: target resolved already
			if _, has := e.resource["id"]; !has {
				e.resource["id"] = e.assigned
			}
			if run != nil {
				err = s.runConditionalPut(ctx, tx, e, run)
				break
			}
			e.result, err = s.update(ctx, tx, e.typ, e.assigned, e.resource, e.ifMatch, "PUT")
		} else {
			e.result, err = s.conditionalUpdate(ctx, tx, e.typ, e.query, e.resource, e.ifMatch, "")
		}
	case "DELETE":
		if e.id != "" {
			e.result, err = s.delete(ctx, tx, e.typ, e.id, e.ifMatch)
			if errors.Is(err, store.ErrNotFound) {
				e.result, err = Result{Status: http.StatusNoContent}, nil
			}
		} else {
			e.result, err = s.conditionalDelete(ctx, tx, e.typ, e.query)
		}
	case "PATCH":
		if e.dropped {
			e.result = Result{Status: http.StatusOK}
			return nil
		}
		id := e.id
		var known *store.Resource
		if id == "" {
			matches, fresh, merr := s.patchMatches(ctx, tx, e, run)
			if merr != nil {
				return merr
			}
			if len(matches) != 1 {
				return multipleMatches("conditional patch")
			}
			id = matches[0].ID
			if fresh {
				known = matches[0]
			}
		}
		e.result, err = s.patch(ctx, tx, e.typ, id, e.patch, e.ifMatch, known)
	case "GET", "HEAD":
		err = s.runRead(ctx, tx, e)
	}
	if err == nil && run != nil {
		run.wrote(e)
	}
	return err
}

// runRead performs a GET entry: read, vread, history or search.
func (s *Service) runRead(ctx context.Context, tx store.Tx, e *entry) error {
	switch {
	case e.version > 0:
		r, err := tx.VRead(ctx, e.typ, e.id, e.version)
		if err != nil {
			return err
		}
		e.result = Result{Resource: r, Status: http.StatusOK}
	case e.id != "" && e.op == "":
		r, err := tx.Read(ctx, e.typ, e.id)
		if err != nil {
			return err
		}
		if e.ifNoneM != "" {
			if v, err := ParseETag(e.ifNoneM); err == nil && v == r.Version {
				e.result = Result{Resource: r, Status: http.StatusNotModified}
				return nil
			}
		}
		e.result = Result{Resource: r, Status: http.StatusOK}
	case e.op == "_history":
		page, err := tx.History(ctx, store.HistoryQuery{Type: e.typ, ID: e.id})
		if err != nil {
			return err
		}
		e.response = s.HistoryBundle(page, url.Values{}, "")
		e.result = Result{Status: http.StatusOK}
	default:
		params, err := url.ParseQuery(e.query)
		if err != nil {
			return fhir.Errorf(fhir.IssueInvalid, "invalid query in %q", e.rawURL).At(e.path() + ".request.url")
		}
		res, q, warnings, err := s.search(ctx, tx, e.typ, params)
		if err != nil {
			return err
		}
		e.response = s.SearchBundle(e.typ, q, params, res, warnings)
		e.result = Result{Status: http.StatusOK}
	}
	return nil
}

// written returns the response locations (Type/id/_history/n) of the
// entries that wrote, in entry order, as responseBundle gives them.
func written(entries []*entry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if r := e.result.Resource; r != nil && e.method != "GET" && e.method != "HEAD" {
			out = append(out, location(r))
		}
	}
	return out
}

// location is the response location of version r, Type/id/_history/n.
func location(r *store.Resource) string {
	return r.Reference() + "/_history/" + strconv.FormatInt(r.Version, 10)
}

func (s *Service) responseBundle(kind string, entries []*entry, errs []error, opts BundleOptions) fhir.Object {
	out := make([]any, len(entries))
	for i, e := range entries {
		var err error
		if errs != nil {
			err = errs[i]
		}
		resp := fhir.Object{}
		ent := fhir.Object{"response": resp}
		if err != nil {
			resp["status"] = statusLine(Status(err))
			resp["outcome"] = OperationOutcome(err)
			out[i] = ent
			continue
		}
		r := e.result.Resource
		resp["status"] = statusLine(e.result.Status)
		if r != nil {
			if e.method != "GET" && e.method != "HEAD" {
				resp["location"] = location(r)
			}
			resp["etag"] = r.ETag()
			resp["lastModified"] = fhir.FormatInstant(r.LastUpdated)
			if s.cfg.BaseURL != "" && !r.Deleted {
				ent["fullUrl"] = s.cfg.BaseURL + "/" + r.Reference()
			}
			if len(r.Content) > 0 && (opts.Representation || e.method == "GET") && e.result.Status != http.StatusNotModified {
				if obj, err := fhir.ParseObject(r.Content); err == nil {
					ent["resource"] = obj
				}
			}
		}
		if e.response != nil {
			ent["resource"] = e.response
		}
		out[i] = ent
	}
	return fhir.Object{
		"resourceType": "Bundle",
		"id":           NewUUID(),
		"type":         kind,
		"meta":         fhir.Object{"lastUpdated": fhir.FormatInstant(time.Now())},
		"entry":        out,
	}
}

func statusLine(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

// ParseETag parses an ETag or If-Match value (W/"3", "3" or 3) into a version.
func ParseETag(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("service: invalid ETag %q", s)
	}
	return v, nil
}
