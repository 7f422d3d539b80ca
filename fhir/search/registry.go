package search

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fhirhub/fhirhub/fhir"
)

// Type is the type of a search parameter (R4 search.html#ptypes).
type Type string

// The search parameter types of R4.
const (
	TypeString    Type = "string"
	TypeToken     Type = "token"
	TypeDate      Type = "date"
	TypeNumber    Type = "number"
	TypeQuantity  Type = "quantity"
	TypeReference Type = "reference"
	TypeURI       Type = "uri"
	TypeComposite Type = "composite"
	TypeSpecial   Type = "special"
)

var knownTypes = map[Type]bool{
	TypeString: true, TypeToken: true, TypeDate: true, TypeNumber: true, TypeQuantity: true,
	TypeReference: true, TypeURI: true, TypeComposite: true, TypeSpecial: true,
}

// Param is a search parameter: the parts of a SearchParameter resource
// (R4 searchparameter.html) that searching and indexing use. A Param
// returned by a Registry is shared and must not be modified.
//
// Expression is empty for the parameters that are not indexed from
// elements (_text, _content, _query); parameters of type special (near)
// are known but produce no index values.
type Param struct {
	URL         string
	Code        string
	Base        []string // resource types, or Resource / DomainResource for all
	Type        Type
	Expression  string   // FHIRPath
	Targets     []string // resource types a reference parameter may point to
	Components  []Component
	Comparators []string // eq, ne, gt, lt, ge, le, sa, eb, ap
	Modifiers   []string
}

// Component is one part of a composite parameter (R4
// search.html#composite): the SearchParameter that gives its type and
// code, and an expression relative to the element the composite's own
// expression selects.
type Component struct {
	Definition string
	Expression string
}

// Registry holds search parameters per resource type, each compiled to an
// index program for every type it applies to. Get one from Default or
// NewRegistry (the zero value is not usable). A Registry is safe for
// concurrent use: Lookup, Params and Extract read an immutable snapshot
// without locks (Lookup is two map lookups); Add builds a new snapshot.
type Registry struct {
	mu   sync.Mutex // serialises Add
	snap atomic.Pointer[snapshot]
}

// snapshot is an immutable state of a Registry; Add replaces it.
type snapshot struct {
	m     *model
	byURL map[string]*Param
	types map[string]*typeIndex
	// Problems found while building the R4 registry, for tests and reports.
	failures   []paramFailure
	emptyExprs []paramFailure
}

// typeIndex holds the parameters of one resource type.
type typeIndex struct {
	t      *typeDef
	byCode map[string]*Param
	params []*Param      // sorted by code
	bound  []*boundParam // the indexed ones, sorted by code
	hint   sizeHint
	// derived are the parameters whose rows others' answer (derived.go).
	derived map[string]Storage
}

// boundParam is a parameter compiled for one resource type.
type boundParam struct {
	p     *Param
	fn    evalFn
	comps []boundComp
	// path is the part of the expression that applies to the type
	// ("Patient.birthDate" of "Patient.birthDate | Person.birthDate"),
	// for errors; branches are its top-level union branches.
	path     string
	branches []string
}

type boundComp struct {
	code string
	typ  Type
	expr string
	fn   evalFn
}

type paramFailure struct {
	URL, Code, ResourceType, Expression string
	Err                                 error
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
)

// Default returns the registry of the R4 search parameters (all 1,378 of
// the official definitions), built on first use (some 30-60 ms: it decodes
// the embedded definitions and compiles every expression for every
// resource type it applies to, about 2,600 programs) and shared afterwards. Use NewRegistry for a
// registry to which parameters can be added.
func Default() *Registry {
	defaultOnce.Do(func() {
		snap, err := buildR4()
		if err != nil {
			panic(err) // the embedded data is part of the build
		}
		defaultReg = &Registry{}
		defaultReg.snap.Store(snap)
	})
	return defaultReg
}

// NewRegistry returns a registry holding the R4 search parameters, to
// which custom ones can be added. It shares the compiled R4 parameters
// with Default and costs next to nothing after Default's first call.
func NewRegistry() *Registry {
	r := &Registry{}
	r.snap.Store(Default().snap.Load())
	return r
}

// Lookup returns the parameter named code for resourceType, including the
// ones defined for all resources (_id, _lastUpdated, _tag, _profile,
// _security, _source, _text...), or nil.
func (r *Registry) Lookup(resourceType, code string) *Param {
	ti := r.snap.Load().types[resourceType]
	if ti == nil {
		return nil
	}
	return ti.byCode[code]
}

// Params returns the parameters of resourceType sorted by code (a fresh
// slice of shared *Param), or nil for an unknown resource type.
func (r *Registry) Params(resourceType string) []*Param {
	ti := r.snap.Load().types[resourceType]
	if ti == nil {
		return nil
	}
	return slices.Clone(ti.params)
}

// parsedParam is a parameter with its expressions parsed.
type parsedParam struct {
	p     *Param
	expr  *ast
	comps []*ast
}

func parseParam(p *Param) (parsedParam, error) {
	pp := parsedParam{p: p}
	if p.Expression == "" {
		return pp, nil
	}
	var err error
	if pp.expr, err = parseFHIRPath(p.Expression); err != nil {
		return pp, fmt.Errorf("expression: %w", err)
	}
	for i, c := range p.Components {
		a, err := parseFHIRPath(c.Expression)
		if err != nil {
			return pp, fmt.Errorf("component %d: %w", i+1, err)
		}
		pp.comps = append(pp.comps, a)
	}
	return pp, nil
}

// appliesTo returns the concrete resource types a base names.
func (m *model) appliesTo(base string) []string {
	switch base {
	case "Resource":
		return m.resources
	case "DomainResource":
		var out []string
		for _, rt := range m.resources {
			if m.types[rt].isA(m.tDomainResource) {
				out = append(out, rt)
			}
		}
		return out
	}
	if m.resource(base) != nil {
		return []string{base}
	}
	return nil
}

// bind compiles pp for resource type t. It returns nil without error for a
// parameter that is not indexed (no expression, type special) or whose
// expression can select nothing on t; empty reports the latter.
func bind(m *model, byURL map[string]*Param, pp parsedParam, t *typeDef) (bp *boundParam, empty bool, err error) {
	if pp.expr == nil {
		return nil, false, nil
	}
	root := tset{t}
	c, err := compileAST(m, pp.expr, root, root)
	if err != nil {
		return nil, false, err
	}
	branches := applicableBranches(m, pp.p.Expression, pp.expr, root)
	bp = &boundParam{p: pp.p, fn: c.fn, path: strings.Join(branches, " | "), branches: branches}
	if pp.p.Type == TypeComposite {
		if len(pp.comps) == 0 {
			return nil, false, fmt.Errorf("composite without components")
		}
		for i, ca := range pp.comps {
			def := byURL[pp.p.Components[i].Definition]
			if def == nil {
				return nil, false, fmt.Errorf("component %d: unknown definition %s", i+1, pp.p.Components[i].Definition)
			}
			if def.Type == TypeComposite || def.Type == TypeSpecial {
				return nil, false, fmt.Errorf("component %d: a %s parameter cannot be a component", i+1, def.Type)
			}
			cc, err := compileAST(m, ca, root, c.out)
			if err != nil {
				return nil, false, fmt.Errorf("component %d: %w", i+1, err)
			}
			bp.comps = append(bp.comps, boundComp{code: def.Code, typ: def.Type, expr: pp.p.Components[i].Expression, fn: cc.fn})
		}
	}
	if c.empty {
		return nil, true, nil
	}
	if pp.p.Type == TypeSpecial {
		return nil, false, nil
	}
	return bp, false, nil
}

// applicableBranches returns the branches of a top-level union in expr
// that can select something on root, or expr itself.
func applicableBranches(m *model, expr string, a *ast, root tset) []string {
	var ops []int // positions of the top-level '|' operators
	for x := a; x.kind == astBinary && x.name == "|"; x = x.left {
		ops = append(ops, x.pos)
	}
	if len(ops) == 0 {
		return []string{expr}
	}
	var kept []string
	end := len(expr)
	for i, x := 0, a; i <= len(ops); i++ {
		var branch *ast
		start := 0
		if i < len(ops) {
			branch, start = x.right, ops[i]+1
			x = x.left
		} else {
			branch = x
		}
		if c, err := compileAST(m, branch, root, root); err == nil && !c.empty {
			kept = append(kept, strings.TrimSpace(expr[start:end]))
		}
		if i < len(ops) {
			end = ops[i]
		}
	}
	if len(kept) == 0 {
		return []string{expr}
	}
	slices.Reverse(kept)
	return kept
}

// buildR4 builds the snapshot of the embedded R4 definitions.
func buildR4() (*snapshot, error) {
	d, err := loadData()
	if err != nil {
		return nil, err
	}
	m, err := newModel(d.Types)
	if err != nil {
		return nil, err
	}
	s := &snapshot{m: m, byURL: make(map[string]*Param, len(d.Params)), types: make(map[string]*typeIndex, len(m.resources))}
	for _, rt := range m.resources {
		s.types[rt] = &typeIndex{t: m.types[rt], byCode: map[string]*Param{}}
	}
	parsed := make([]parsedParam, 0, len(d.Params))
	for _, dp := range d.Params {
		p := &Param{
			URL: dp.URL, Code: dp.Code, Base: dp.Base, Type: Type(dp.Type), Expression: dp.Expression,
			Targets: dp.Targets, Comparators: dp.Comparators, Modifiers: dp.Modifiers,
		}
		for _, c := range dp.Components {
			p.Components = append(p.Components, Component{Definition: c.Definition, Expression: c.Expression})
		}
		s.byURL[p.URL] = p
		pp, err := parseParam(p)
		if err != nil {
			s.failures = append(s.failures, paramFailure{p.URL, p.Code, strings.Join(p.Base, ","), p.Expression, err})
			pp = parsedParam{p: p}
		}
		parsed = append(parsed, pp)
	}
	for _, pp := range parsed {
		for _, base := range pp.p.Base {
			rts := m.appliesTo(base)
			if rts == nil {
				s.failures = append(s.failures, paramFailure{pp.p.URL, pp.p.Code, base, pp.p.Expression, fmt.Errorf("unknown base %s", base)})
			}
			for _, rt := range rts {
				ti := s.types[rt]
				ti.byCode[pp.p.Code] = pp.p
				bp, empty, err := bind(m, s.byURL, pp, ti.t)
				switch {
				case err != nil:
					s.failures = append(s.failures, paramFailure{pp.p.URL, pp.p.Code, rt, pp.p.Expression, err})
				case empty:
					s.emptyExprs = append(s.emptyExprs, paramFailure{pp.p.URL, pp.p.Code, rt, pp.p.Expression, nil})
				case bp != nil:
					ti.bound = append(ti.bound, bp)
				}
			}
		}
	}
	for rt, ti := range s.types {
		ti.sort()
		ti.derive(m, rt)
	}
	return s, nil
}

func (ti *typeIndex) sort() {
	ti.params = ti.params[:0]
	for _, p := range ti.byCode {
		ti.params = append(ti.params, p)
	}
	sort.Slice(ti.params, func(i, j int) bool { return ti.params[i].Code < ti.params[j].Code })
	sort.Slice(ti.bound, func(i, j int) bool { return ti.bound[i].p.Code < ti.bound[j].p.Code })
}

// Add registers the SearchParameter resource sp (R4 searchparameter.html)
// for each of its base resource types, replacing a parameter with the
// same url, and for each base type a parameter with the same code. The
// values it selects appear in what Extract returns from then on;
// resources stored before need reindexing.
//
// Add returns a *fhir.Error with code "invalid" (and the element concerned
// in Expression) when sp lacks url, code, base or type, names an unknown
// resource type or component, or has an expression that cannot be
// compiled for one of its base types; the registry is then unchanged.
func (r *Registry) Add(sp fhir.Object) error {
	p, err := paramFromResource(sp)
	if err != nil {
		return err
	}
	pp, err := parseParam(p)
	if err != nil {
		return fhir.Errorf(fhir.IssueInvalid, "SearchParameter %s: %v", p.Code, err).At("SearchParameter.expression").Wrap(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	m := old.m

	byURL := make(map[string]*Param, len(old.byURL)+1)
	for k, v := range old.byURL {
		byURL[k] = v
	}
	byURL[p.URL] = p

	bound := map[string]*boundParam{}
	for _, base := range p.Base {
		rts := m.appliesTo(base)
		if rts == nil {
			return fhir.Errorf(fhir.IssueInvalid, "SearchParameter %s: unknown base resource type %q", p.Code, base).At("SearchParameter.base")
		}
		for _, rt := range rts {
			bp, _, err := bind(m, byURL, pp, m.types[rt])
			if err != nil {
				return fhir.Errorf(fhir.IssueInvalid, "SearchParameter %s: expression for %s: %v", p.Code, rt, err).At("SearchParameter.expression").Wrap(err)
			}
			bound[rt] = bp
		}
	}

	s := &snapshot{m: m, byURL: byURL, types: make(map[string]*typeIndex, len(old.types))}
	for k, v := range old.types {
		s.types[k] = v
	}
	copied := map[string]bool{}
	edit := func(rt string) *typeIndex {
		if !copied[rt] {
			o := s.types[rt]
			ti := &typeIndex{t: o.t, byCode: make(map[string]*Param, len(o.byCode)+1), bound: slices.Clone(o.bound), derived: o.derived}
			for k, v := range o.byCode {
				ti.byCode[k] = v
			}
			s.types[rt] = ti
			copied[rt] = true
		}
		return s.types[rt]
	}
	removeBound := func(ti *typeIndex, match func(*Param) bool) {
		ti.bound = slices.DeleteFunc(ti.bound, func(b *boundParam) bool { return match(b.p) })
	}
	if prev := old.byURL[p.URL]; prev != nil {
		for rt, ti := range old.types {
			if q := ti.byCode[prev.Code]; q == prev {
				e := edit(rt)
				e.forget(prev.Code)
				delete(e.byCode, prev.Code)
				removeBound(e, func(q *Param) bool { return q == prev })
			}
		}
	}
	for rt, bp := range bound {
		ti := edit(rt)
		ti.forget(p.Code)
		ti.byCode[p.Code] = p
		removeBound(ti, func(q *Param) bool { return q.Code == p.Code })
		if bp != nil {
			ti.bound = append(ti.bound, bp)
		}
	}
	for rt := range copied {
		s.types[rt].sort()
	}
	r.snap.Store(s)
	return nil
}

// paramFromResource reads and checks the elements of a SearchParameter
// resource that a Param holds.
func paramFromResource(sp fhir.Object) (*Param, error) {
	if fhir.ResourceType(sp) != "SearchParameter" {
		return nil, fhir.Errorf(fhir.IssueInvalid, "not a SearchParameter").At("resourceType")
	}
	p := &Param{URL: str(sp, "url"), Code: str(sp, "code"), Type: Type(str(sp, "type")), Expression: str(sp, "expression")}
	strings := func(key string) []string {
		var out []string
		strs(sp, key, func(s string) { out = append(out, s) })
		return out
	}
	p.Base, p.Targets = strings("base"), strings("target")
	p.Comparators, p.Modifiers = strings("comparator"), strings("modifier")
	comps, _ := sp["component"].([]any)
	for _, c := range comps {
		cm, _ := c.(map[string]any)
		p.Components = append(p.Components, Component{Definition: str(cm, "definition"), Expression: str(cm, "expression")})
	}
	switch {
	case p.URL == "":
		return nil, fhir.Errorf(fhir.IssueInvalid, "SearchParameter.url is required").At("SearchParameter.url")
	case p.Code == "":
		return nil, fhir.Errorf(fhir.IssueInvalid, "SearchParameter.code is required").At("SearchParameter.code")
	case len(p.Base) == 0:
		return nil, fhir.Errorf(fhir.IssueInvalid, "SearchParameter.base is required").At("SearchParameter.base")
	case !knownTypes[p.Type]:
		return nil, fhir.Errorf(fhir.IssueInvalid, "SearchParameter.type %q is not a search parameter type", p.Type).At("SearchParameter.type")
	case p.Expression == "" && p.Type != TypeSpecial:
		return nil, fhir.Errorf(fhir.IssueInvalid, "SearchParameter.expression is required to index a %s parameter", p.Type).At("SearchParameter.expression")
	case p.Type == TypeComposite && len(p.Components) == 0:
		return nil, fhir.Errorf(fhir.IssueInvalid, "a composite SearchParameter needs components").At("SearchParameter.component")
	}
	return p, nil
}
