package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
)

// Extractor computes the search index values of a resource.
// *search.Registry implements it.
type Extractor interface {
	Extract(obj fhir.Object) (search.Values, error)
	paramStorage
	// Derived returns the parameters of a resource type whose values
	// Extract returns but whose rows are not written: searches on them
	// read the rows of others (Storage).
	Derived(resourceType string) map[string]search.Storage
}

// paramStorage tells which parameters' rows answer a search on a
// parameter (search.Registry.Storage).
type paramStorage interface {
	Storage(resourceType, code string) search.Storage
}

// Normalizer gives the form string searches compare (search.Normalize).
var normalize = func(s string) string { return search.Normalize(s) }

// indexTables are the tables holding index rows, deleted by rid on update.
var indexTables = []string{"idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite"}

// queuer collects statements: *pgx.Batch, or a writeStatement that
// runs them as one.
type queuer interface {
	Queue(query string, arguments ...any) *pgx.QueuedQuery
}

// queueDeleteIndex adds the statements removing rid's index rows to b.
func queueDeleteIndex(b queuer, rid int64) {
	for _, t := range indexTables {
		b.Queue("DELETE FROM "+t+" WHERE rid = $1", rid)
	}
}

// textSeparator separates the texts that share a token row's display:
// :text matches a prefix of the display or of a word after a space, so a
// search for words at the end of one text and the start of the next finds
// the control character between them and fails.
const textSeparator = " \x1f "

// queueInsertIndex adds one multi-row INSERT per non-empty value type to b.
// typ is the hash type of the resource, hashType(tenant, resource type):
// it is hashed into every key and used for nothing else. The values of
// the derived parameters (search.Registry.Derived) are not written: the
// rows of the parameters they derive from answer their searches.
func queueInsertIndex(b queuer, typ string, rid int64, v *search.Values, derived map[string]search.Storage) {
	if len(derived) > 0 {
		kept := withoutDerived(v, derived)
		v = &kept
	}
	if n := len(v.Strings); n > 0 {
		params, norms, exacts := make([]int64, n), make([]string, n), make([]string, n)
		for i, s := range v.Strings {
			params[i], norms[i], exacts[i] = paramKey(typ, s.Param), normalize(s.Value), s.Value
		}
		b.Queue(`INSERT INTO idx_string (rid, param, norm, exact)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`, rid, params, norms, exacts)
	}
	if n := len(v.Tokens); n > 0 {
		params, hc, hs := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		systems, codes, displays := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		add := func(param, system, code, display string) {
			params = append(params, paramKey(typ, param))
			hc = append(hc, tokenCodeKey(typ, param, code))
			hs = append(hs, tokenSysKey(typ, param, system))
			systems, codes, displays = append(systems, system), append(codes, code), append(displays, normalize(display))
		}
		var texts []search.Token
		coded := map[string]int{} // parameter -> its first coded row
		for _, t := range v.Tokens {
			if t.System == "" && t.Code == "" && t.OfTypeCode == "" {
				texts = append(texts, t)
				continue
			}
			if _, ok := coded[t.Param]; !ok {
				coded[t.Param] = len(params)
			}
			add(t.Param, t.System, t.Code, t.Display)
			if t.OfTypeCode != "" {
				// :of-type matches type system, type code and value together.
				add(t.Param+":of-type", t.OfTypeSystem, ofTypeCode(t.OfTypeCode, t.Code), "")
			}
		}
		// A text without a code (CodeableConcept.text) needs a row of its
		// own only for :text, which matches any row of the parameter: it
		// joins the display of the parameter's first coded row, when there
		// is one, behind a separator that no searched word can span. One
		// row fewer, and four index entries fewer, per coded concept with
		// a text.
		for _, t := range texts {
			if i, ok := coded[t.Param]; ok {
				displays[i] += textSeparator + normalize(t.Display)
				continue
			}
			add(t.Param, "", "", t.Display)
		}
		b.Queue(`INSERT INTO idx_token (rid, param, h_code, h_sys, system, code, display)
			SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[])`,
			rid, params, hc, hs, systems, codes, displays)
	}
	if n := len(v.Dates); n > 0 {
		params, los, his := make([]int64, n), make([]time.Time, n), make([]time.Time, n)
		for i, d := range v.Dates {
			params[i], los[i], his[i] = paramKey(typ, d.Param), d.Lo, d.Hi
		}
		b.Queue(`INSERT INTO idx_date (rid, param, lo, hi)
			SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::timestamptz[])`, rid, params, los, his)
	}
	if n := len(v.Numbers); n > 0 {
		params, vals, los, his := make([]int64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i, x := range v.Numbers {
			params[i], vals[i], los[i], his[i] = paramKey(typ, x.Param), x.Value, x.Lo, x.Hi
		}
		b.Queue(`INSERT INTO idx_number (rid, param, value, lo, hi)
			SELECT $1, * FROM unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[])`, rid, params, vals, los, his)
	}
	if n := len(v.Quantities); n > 0 {
		params, hc, hsc := make([]int64, n), make([]int64, n), make([]int64, n)
		vals, los, his := make([]float64, n), make([]float64, n), make([]float64, n)
		for i, q := range v.Quantities {
			code := q.Code
			if code == "" {
				code = q.Unit
			}
			params[i] = paramKey(typ, q.Param)
			hc[i] = tokenCodeKey(typ, q.Param, code)
			hsc[i] = tokenSysCodeKey(typ, q.Param, q.System, code)
			vals[i], los[i], his[i] = q.Value, q.Lo, q.Hi
		}
		b.Queue(`INSERT INTO idx_quantity (rid, param, h_code, h_sys_code, value, lo, hi)
			SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[])`,
			rid, params, hc, hsc, vals, los, his)
	}
	if n := len(v.References); n > 0 {
		params, types, ids, urls := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range v.References {
			params[i], types[i], ids[i], urls[i] = paramKey(typ, r.Param), r.Type, r.ID, r.URL
		}
		b.Queue(`INSERT INTO idx_reference (rid, param, target_type, target_id, url)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])`, rid, params, types, ids, urls)
	}
	if n := len(v.URIs); n > 0 {
		params, vals := make([]int64, n), make([]string, n)
		for i, u := range v.URIs {
			params[i], vals[i] = paramKey(typ, u.Param), u.Value
		}
		b.Queue(`INSERT INTO idx_uri (rid, param, value)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[])`, rid, params, vals)
	}
	queueInsertComposites(b, typ, rid, v.Composites)
}

func tokenCodeKey(typ, param, code string) int64 { return key(typ, param, code) }
func tokenSysCodeKey(typ, param, system, code string) int64 {
	return key(typ, param, "|", system, code)
}
func tokenSysKey(typ, param, system string) int64 { return key(typ, param, "|", system) }
func ofTypeCode(typeCode, value string) string    { return typeCode + "|" + value }

// queueInsertComposites writes composite rows in one multi-row INSERT:
// the first component must be a token; the second is a token, quantity,
// number, date, string or reference. Each value is written twice, with
// and without the first component's system, so "|code"-less searches
// ("code$value") use the same index.
func queueInsertComposites(b queuer, typ string, rid int64, cs []search.Composite) {
	if len(cs) == 0 {
		return
	}
	n := 2 * len(cs)
	var (
		params, h1s, h2s = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		los, his         = make([]*float64, 0, n), make([]*float64, 0, n)
		tlos, this       = make([]*time.Time, 0, n), make([]*time.Time, 0, n)
	)
	for _, c := range cs {
		if len(c.Parts) < 2 {
			continue
		}
		first, ok := c.Parts[0].(search.Token)
		if !ok || first.Code == "" {
			// A search names the first component's code, so a composite
			// whose first part has none (a CodeableConcept.text) is
			// never found: it would cost two rows and four index
			// entries for nothing.
			continue
		}
		var h2 int64
		var lo, hi *float64
		var tlo, thi *time.Time
		switch p := c.Parts[1].(type) {
		case search.Token:
			h2 = key(p.System, p.Code)
		case search.Quantity:
			lo, hi = &p.Lo, &p.Hi
		case search.Number:
			lo, hi = &p.Lo, &p.Hi
		case search.Date:
			tlo, thi = &p.Lo, &p.Hi
		case search.String:
			h2 = key(normalize(p.Value))
		case search.Reference:
			h2 = key(p.Type, p.ID)
		default:
			continue
		}
		pk := paramKey(typ, c.Param)
		firsts := []int64{compositeFirstKey(typ, c.Param, first.System, first.Code), compositeFirstKey(typ, c.Param, "", first.Code)}
		if first.System == "" {
			firsts = firsts[1:] // the same key twice
		}
		for _, h1 := range firsts {
			params, h1s, h2s = append(params, pk), append(h1s, h1), append(h2s, h2)
			los, his, tlos, this = append(los, lo), append(his, hi), append(tlos, tlo), append(this, thi)
		}
	}
	if len(params) == 0 {
		return
	}
	b.Queue(`INSERT INTO idx_composite (rid, param, h_first, h_second, lo, hi, t_lo, t_hi)
		SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::timestamptz[], $8::timestamptz[])`,
		rid, params, h1s, h2s, los, his, tlos, this)
}

// compositeFirstKey: an empty system stands for "any system" and is
// written beside the system-qualified row.
func compositeFirstKey(typ, param, system, code string) int64 {
	return key(typ, param, "composite", system, code)
}

// runBatch sends b and reads every result, returning the first error.
func runBatch(ctx context.Context, q querier, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	br := q.SendBatch(ctx, b)
	for i := 0; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("batch statement %d: %w", i, err)
		}
	}
	return br.Close()
}

// localReferences turns absolute references on this server's base
// ("http://host/fhir/Patient/1") into the local Type/id they name, so
// that searches by Type/id find them.
func (s *Store) localReferences(v *search.Values) {
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	if base == "" {
		return
	}
	for i := range v.References {
		r := &v.References[i]
		rest, ok := strings.CutPrefix(r.URL, base+"/")
		if !ok {
			continue
		}
		typ, id, ok := strings.Cut(rest, "/")
		if !ok || typ == "" || id == "" {
			continue
		}
		if j := strings.Index(id, "/_history/"); j >= 0 {
			id = id[:j]
		}
		if strings.Contains(id, "/") {
			continue
		}
		r.Type, r.ID, r.URL = typ, id, ""
	}
}

// withoutDerived returns v without the values of the derived parameters.
// It copies only the kinds of values it drops some of.
func withoutDerived(v *search.Values, derived map[string]search.Storage) search.Values {
	out := *v
	out.Strings = dropDerived(v.Strings, derived, func(x search.String) string { return x.Param })
	out.Tokens = dropDerived(v.Tokens, derived, func(x search.Token) string { return x.Param })
	out.Dates = dropDerived(v.Dates, derived, func(x search.Date) string { return x.Param })
	out.Numbers = dropDerived(v.Numbers, derived, func(x search.Number) string { return x.Param })
	out.Quantities = dropDerived(v.Quantities, derived, func(x search.Quantity) string { return x.Param })
	out.References = dropDerived(v.References, derived, func(x search.Reference) string { return x.Param })
	out.URIs = dropDerived(v.URIs, derived, func(x search.URI) string { return x.Param })
	out.Composites = dropDerived(v.Composites, derived, func(x search.Composite) string { return x.Param })
	return out
}

func dropDerived[T any](vals []T, derived map[string]search.Storage, param func(T) string) []T {
	isDerived := func(x T) bool { _, ok := derived[param(x)]; return ok }
	first := slices.IndexFunc(vals, isDerived)
	if first < 0 {
		return vals
	}
	out := append(make([]T, 0, len(vals)-1), vals[:first]...)
	for _, x := range vals[first+1:] {
		if !isDerived(x) {
			out = append(out, x)
		}
	}
	return out
}
