package service

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// ParseOption configures ParseSearch.
type ParseOption func(*parseConfig)

type parseConfig struct {
	baseURL string
	types   []string
}

// WithBaseURL names the server's FHIR base ("https://example.org/fhir"):
// a reference search value that starts with it is a local Type/id.
func WithBaseURL(base string) ParseOption {
	return func(c *parseConfig) { c.baseURL = strings.TrimSuffix(base, "/") }
}

// WithResourceTypes lists the resource types a search across all types
// covers when it has no _type (default: every R4 resource type the
// registry knows).
func WithResourceTypes(types []string) ParseOption {
	return func(c *parseConfig) { c.types = types }
}

// resultParams are handled by the REST layer when it shapes the Bundle;
// ParseSearch neither uses nor reports them.
var resultParams = map[string]bool{
	"_summary": true, "_elements": true, "_format": true, "_pretty": true,
	"_contained": true, "_containedType": true,
}

// maxChainDepth bounds chains and nested _has (search.html#chaining).
const maxChainDepth = 4

// ParseSearch turns the query parameters of a search on resourceType
// ("" for a search across all types) into a store.SearchQuery, resolving
// every parameter against reg (R4 search.html):
//
//   - parameters: comma-separated values are alternatives (OR), repeated
//     parameters all apply (AND); "\," "\$" "\|" "\\" escape the
//     separators (search.html#escaping);
//   - modifiers :missing, :exact, :contains (string), :not, :text,
//     :of-type (token), :[Type] (reference), :below, :above (uri);
//   - prefixes eq ne gt lt ge le sa eb ap on date, number and quantity;
//   - chains (subject:Patient.name=x, subject.name=x, several levels) and
//     reverse chains (_has:Observation:patient:code=x, nested);
//   - composites (code-value-quantity=http://loinc.org|8480-6$gt100);
//   - _id, _lastUpdated, _type (across types), _sort, _count (0: count
//     only), _total, _include and _revinclude (with :iterate), and the
//     paging cursor CursorParam.
//
// It returns warnings (severity warning, code not-supported, expression
// the parameter name) for unknown parameters and parameters that cannot
// be searched (_text, _content, _query, _filter, _list, special ones):
// those are left out of the query, and the caller decides whether to
// report them or refuse the request (Prefer: handling=strict). A malformed
// value, an unknown or unsupported modifier, or an ambiguous chain is a
// *fhir.Error (code invalid or not-supported) whose Expression is the
// parameter name. _summary, _elements, _format, _pretty, _contained and
// _containedType are for the caller and ignored here (_summary=count
// also sets CountOnly).
func ParseSearch(reg *search.Registry, resourceType string, params url.Values, opts ...ParseOption) (*store.SearchQuery, []fhir.Issue, error) {
	p := &parser{reg: reg, q: &store.SearchQuery{Type: resourceType}}
	for _, o := range opts {
		o(&p.cfg)
	}
	if err := p.parseTypes(params); err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, raw := range params[name] {
			if err := p.param(name, raw); err != nil {
				return nil, p.warnings, err
			}
		}
	}
	p.finish()
	return p.q, p.warnings, nil
}

// parser holds the state of one ParseSearch.
type parser struct {
	reg      *search.Registry
	cfg      parseConfig
	q        *store.SearchQuery
	types    []string // the types searched: [Type], _type, or all
	explicit bool     // types came from Type or _type
	warnings []fhir.Issue
}

// parseTypes sets the searched types: the resource type, or _type's list,
// or (for a search across all types) every type.
func (p *parser) parseTypes(params url.Values) error {
	if p.q.Type != "" {
		if p.reg.Params(p.q.Type) == nil {
			return invalidParam("", "unknown resource type %q", p.q.Type)
		}
		p.types, p.explicit = []string{p.q.Type}, true
		return nil
	}
	for _, v := range params["_type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if p.reg.Params(t) == nil {
				return invalidParam("_type", "unknown resource type %q in _type", t)
			}
			if !slices.Contains(p.types, t) {
				p.types = append(p.types, t)
			}
		}
	}
	if len(p.types) > 0 {
		p.explicit = true
		return nil
	}
	p.types = p.cfg.types
	if len(p.types) == 0 {
		p.types = allResourceTypes(p.reg)
	}
	return nil
}

// allResourceTypes returns every resource type the registry knows: the
// targets of Provenance.target, which R4 lets point at any resource.
func allResourceTypes(reg *search.Registry) []string {
	var out []string
	if tp := reg.Lookup("Provenance", "target"); tp != nil {
		for _, t := range tp.Targets {
			if reg.Params(t) != nil {
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// finish sets the query's type list for a search across types with
// _type, clauses or sort keys: parameter clauses need it (index rows are
// keyed by type), and with it _id and _lastUpdated use the (type, id) and
// (type, last_updated) indexes.
func (p *parser) finish() {
	if p.q.Type == "" && (p.explicit || len(p.q.Where) > 0 || len(p.q.Sort) > 0) {
		p.q.Types = p.types
	}
}

// param handles one occurrence of a query parameter.
func (p *parser) param(name, raw string) error {
	base, mod, _ := strings.Cut(name, ":")
	switch {
	case resultParams[name]:
		if name == "_summary" && raw == "count" {
			p.q.CountOnly = true
		}
		return nil
	case name == "_type":
		if p.q.Type != "" {
			p.warn(name, "_type applies to a search across all types; ignored")
		}
		return nil
	case name == CursorParam:
		p.q.Cursor = raw
		return nil
	case name == "_count":
		return p.parseCount(raw)
	case name == "_total":
		return p.parseTotal(raw)
	case name == "_sort":
		return p.parseSort(raw)
	case base == "_include" || base == "_revinclude":
		return p.parseInclude(base == "_revinclude", mod, raw)
	}
	c, err := p.clause(p.types, name, raw)
	if err != nil {
		var u *unsearchable
		if errors.As(err, &u) {
			p.warn(name, u.msg)
			return nil
		}
		return err
	}
	if c != nil {
		p.q.Where = append(p.q.Where, *c)
	}
	return nil
}

// unsearchable is a parameter that is left out with a warning.
type unsearchable struct{ msg string }

func (u *unsearchable) Error() string { return u.msg }

func unknown(format string, args ...any) error {
	return &unsearchable{msg: fmt.Sprintf(format, args...)}
}

func (p *parser) warn(name, msg string) {
	p.warnings = append(p.warnings, fhir.Issue{
		Severity: fhir.SeverityWarning, Code: fhir.IssueNotSupported,
		Diagnostics: msg, Expression: []string{name},
	})
}

// invalidParam returns an invalid *fhir.Error about parameter name.
func invalidParam(name, format string, args ...any) error {
	e := fhir.Errorf(fhir.IssueInvalid, format, args...)
	if name != "" {
		e = e.At(name)
	}
	return e
}

// unsupportedParam returns a not-supported *fhir.Error about parameter name.
func unsupportedParam(name, format string, args ...any) error {
	return fhir.Errorf(fhir.IssueNotSupported, format, args...).At(name)
}

// clause parses name=raw on the given types into a clause; nil (without
// error) when the value is empty, which search.html says to ignore.
func (p *parser) clause(types []string, name, raw string) (*store.Clause, error) {
	root, leaf, err := p.resolve(types, name, name, 0)
	if err != nil {
		return nil, err
	}
	vals, err := p.values(name, leaf, raw)
	if err != nil || len(vals) == 0 {
		return nil, err
	}
	leaf.Values = vals
	return root, nil
}

// lookup returns the parameter code defined, with one type, on every type
// of types; nil when some type lacks it.
func (p *parser) lookup(types []string, code string) *search.Param {
	var first *search.Param
	for _, t := range types {
		sp := p.reg.Lookup(t, code)
		if sp == nil || (first != nil && sp.Type != first.Type) {
			return nil
		}
		if first == nil {
			first = sp
		}
	}
	return first
}

// resolve parses a parameter name (code[:modifier][.chain] or
// _has:Type:param:rest) on types, returning the root clause and the leaf
// clause that receives the values. full is the whole name, for messages.
func (p *parser) resolve(types []string, full, name string, depth int) (root, leaf *store.Clause, err error) {
	if depth > maxChainDepth {
		return nil, nil, invalidParam(full, "chain of %s is longer than %d", full, maxChainDepth)
	}
	if rest, ok := strings.CutPrefix(name, "_has:"); ok {
		return p.resolveHas(types, full, rest, depth)
	}
	head, chain, isChain := strings.Cut(name, ".")
	code, mod, _ := strings.Cut(head, ":")
	if isChain {
		return p.resolveChain(types, full, code, mod, chain, depth)
	}
	if len(types) == 0 {
		return nil, nil, unknown("search parameter %q needs a resource type", full)
	}
	sp := p.lookup(types, code)
	if sp == nil {
		return nil, nil, unknown("unknown search parameter %q for %s: ignored", full, strings.Join(short(types), ","))
	}
	c := &store.Clause{Param: code, Type: string(sp.Type), Modifier: mod}
	if err := p.checkParam(full, sp, c, types); err != nil {
		return nil, nil, err
	}
	return c, c, nil
}

// short abbreviates a long list of types for messages.
func short(types []string) []string {
	if len(types) > 3 {
		return []string{"all resource types"}
	}
	return types
}

// checkParam validates a non-chained clause's parameter and modifier and
// completes the clause (reference targets, composite components).
func (p *parser) checkParam(full string, sp *search.Param, c *store.Clause, types []string) error {
	switch {
	case sp.Type == search.TypeSpecial:
		return unknown("search parameter %q (special) is not supported: ignored", full)
	case sp.Expression == "":
		return unknown("search parameter %q is not supported: ignored", full)
	}
	c.Targets = sp.Targets
	if err := checkModifier(p.reg, full, sp, c); err != nil {
		return err
	}
	if sp.Type == search.TypeComposite {
		comps, err := p.components(full, sp, types[0])
		if err != nil {
			return err
		}
		c.Components = comps
	}
	return nil
}

// components resolves a composite parameter's component definitions on
// resource type typ.
func (p *parser) components(full string, sp *search.Param, typ string) ([]store.Clause, error) {
	out := make([]store.Clause, 0, len(sp.Components))
	for _, comp := range sp.Components {
		var def *search.Param
		for _, cand := range p.reg.Params(typ) {
			if cand.URL == comp.Definition {
				def = cand
				break
			}
		}
		if def == nil {
			return nil, unsupportedParam(full, "composite parameter %s: component %s is not known", full, comp.Definition)
		}
		out = append(out, store.Clause{Param: def.Code, Type: string(def.Type)})
	}
	return out, nil
}

// modifiers lists the modifiers each parameter type accepts
// (search.html#modifiers) besides :missing.
var modifiers = map[search.Type][]string{
	search.TypeString:    {"exact", "contains"},
	search.TypeToken:     {"not", "text", "of-type"},
	search.TypeReference: {},
	search.TypeURI:       {"below", "above"},
}

// knownModifiers are the R4 modifiers; a known one that a type does not
// take is not-supported, anything else is invalid.
var knownModifiers = []string{"missing", "exact", "contains", "text", "not", "above", "below", "in", "not-in", "of-type", "identifier", "type"}

func checkModifier(reg *search.Registry, full string, sp *search.Param, c *store.Clause) error {
	m := c.Modifier
	switch {
	case m == "" || m == "missing" && c.Param != "_id" && c.Param != "_lastUpdated":
		return nil
	case slices.Contains(modifiers[sp.Type], m) && c.Param != "_id":
		return nil
	case sp.Type == search.TypeReference && reg.Params(m) != nil:
		if len(sp.Targets) > 0 && !slices.Contains(sp.Targets, m) {
			return invalidParam(full, "%s cannot refer to a %s", c.Param, m)
		}
		return nil
	case slices.Contains(knownModifiers, m):
		return unsupportedParam(full, "modifier :%s is not supported on %s parameter %s", m, sp.Type, c.Param)
	}
	return invalidParam(full, "unknown modifier :%s on %s", m, c.Param)
}

// resolveChain resolves code[:Type].rest (search.html#chaining): the
// reference parameter code, then rest on the types it points at.
func (p *parser) resolveChain(types []string, full, code, mod, rest string, depth int) (*store.Clause, *store.Clause, error) {
	sp := p.lookup(types, code)
	if sp == nil {
		return nil, nil, unknown("unknown search parameter %q for %s: ignored", code, strings.Join(short(types), ","))
	}
	if sp.Type != search.TypeReference {
		return nil, nil, invalidParam(full, "%s is not a reference parameter and cannot be chained", code)
	}
	c := &store.Clause{Param: code, Type: string(sp.Type), Targets: sp.Targets}
	chain := &store.Chain{}
	targets := sp.Targets
	switch {
	case mod != "":
		if p.reg.Params(mod) == nil || len(sp.Targets) > 0 && !slices.Contains(sp.Targets, mod) {
			return nil, nil, invalidParam(full, "%s cannot refer to a %q", code, mod)
		}
		chain.TargetType, targets = mod, []string{mod}
	case len(targets) == 1:
		chain.TargetType = targets[0]
	default:
		// Without a type, every target must define the chained parameter.
		next := chainedCode(rest)
		var having []string
		for _, t := range targets {
			if next == "_has" || p.reg.Lookup(t, next) != nil {
				having = append(having, t)
			}
		}
		switch {
		case len(having) == 0:
			return nil, nil, unknown("unknown search parameter %q in chain %s: ignored", next, full)
		case len(having) < len(targets):
			return nil, nil, invalidParam(full,
				"chain %s is ambiguous: %s may refer to %s; name the type, as in %s:%s.%s",
				full, code, strings.Join(targets, ", "), code, having[0], rest)
		}
	}
	inner, leaf, err := p.resolve(targets, full, rest, depth+1)
	if err != nil {
		return nil, nil, err
	}
	chain.Clause = *inner
	if leaf == inner {
		leaf = &chain.Clause
	}
	c.Chain = chain
	return c, leaf, nil
}

// chainedCode is the parameter code at the start of a chain's rest.
func chainedCode(rest string) string {
	if strings.HasPrefix(rest, "_has:") {
		return "_has"
	}
	end := strings.IndexAny(rest, ":.")
	if end < 0 {
		return rest
	}
	return rest[:end]
}

// resolveHas resolves Type:param:rest after "_has:" (search.html#has).
func (p *parser) resolveHas(types []string, full, s string, depth int) (*store.Clause, *store.Clause, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, nil, invalidParam(full, "_has needs _has:Type:reference-parameter:parameter")
	}
	typ, ref, rest := parts[0], parts[1], parts[2]
	if p.reg.Params(typ) == nil {
		return nil, nil, invalidParam(full, "unknown resource type %q in _has", typ)
	}
	if p.q.Type == "" && !p.explicit {
		return nil, nil, invalidParam(full, "_has needs a resource type (or _type)")
	}
	rp := p.reg.Lookup(typ, ref)
	if rp == nil || rp.Type != search.TypeReference {
		return nil, nil, invalidParam(full, "%s is not a reference parameter of %s", ref, typ)
	}
	if len(rp.Targets) > 0 && !slices.ContainsFunc(types, func(t string) bool { return slices.Contains(rp.Targets, t) }) {
		return nil, nil, invalidParam(full, "%s.%s cannot refer to %s", typ, ref, strings.Join(short(types), ","))
	}
	inner, leaf, err := p.resolve([]string{typ}, full, rest, depth+1)
	if err != nil {
		return nil, nil, err
	}
	has := &store.Has{Type: typ, RefParam: ref, Clause: *inner}
	if leaf == inner {
		leaf = &has.Clause
	}
	return &store.Clause{Param: "_has", Type: "special", Has: has}, leaf, nil
}
