package search

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The compiler turns a FHIRPath syntax tree into nested closures (evalFn)
// and checks it against the type model on the way: every navigation step
// knows the datatype(s) it starts from, so element names are checked once,
// choice elements become lookups of their JSON keys (value[x] ->
// valueQuantity, valueString...) and ofType()/as on a choice element
// selects its keys at compile time. Nothing of the syntax tree is looked at
// again when a resource is evaluated.

// tset is the set of types an expression can produce, known at compile
// time. An empty set means the expression always yields the empty
// collection; kindAny stands for types known only at run time.
type tset []*typeDef

func (s tset) add(t *typeDef) tset {
	for _, x := range s {
		if x == t {
			return s
		}
	}
	return append(s, t)
}

func (s tset) union(o tset) tset {
	r := append(tset(nil), s...)
	for _, t := range o {
		r = r.add(t)
	}
	if r == nil {
		r = tset{}
	}
	return r
}

func (s tset) has(k typeKind) bool {
	for _, t := range s {
		if t.kind == k {
			return true
		}
	}
	return false
}

func (s tset) String() string {
	names := make([]string, len(s))
	for i, t := range s {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// compiled is a compiled (sub)expression.
type compiled struct {
	fn    evalFn
	out   tset
	ident bool     // fn returns its focus unchanged
	empty bool     // fn always returns the empty collection
	nav   *navInfo // fn is a member navigation (for ofType fusion)
	lit   *node    // fn returns this constant
}

type navInfo struct {
	prev    compiled
	name    string
	entries []navEntry
	dynamic bool
}

// navEntry is the element that a navigation selects on values of type t.
type navEntry struct {
	t *typeDef
	e *elemDef
}

// stepFn maps the collection items (computed from the focus) to out; focus
// is what arguments of a function are evaluated on.
type stepFn func(c *evalCtx, focus, items, out []node) []node

func identityFn(c *evalCtx, in, out []node) []node { return append(out, in...) }
func emptyFn(c *evalCtx, in, out []node) []node    { return out }

func identity(focus tset) compiled {
	return compiled{fn: identityFn, out: focus, ident: true, empty: len(focus) == 0}
}
func emptyC() compiled { return compiled{fn: emptyFn, out: tset{}, empty: true} }

// then returns a function that evaluates prev on the focus and applies step
// to its result.
func then(prev compiled, step stepFn) evalFn {
	if prev.ident {
		return func(c *evalCtx, in, out []node) []node { return step(c, in, in, out) }
	}
	pf := prev.fn
	return func(c *evalCtx, in, out []node) []node {
		items := pf(c, in, c.get())
		out = step(c, in, items, out)
		c.put(items)
		return out
	}
}

type compiler struct {
	m    *model
	root tset // the type of %resource
}

// compileExpr compiles expr for resources of type root. The result must
// not end in a resolve() (which only type tests can use).
func compileExpr(m *model, expr string, root *typeDef) (compiled, error) {
	a, err := parseFHIRPath(expr)
	if err != nil {
		return compiled{}, err
	}
	return compileAST(m, a, tset{root}, tset{root})
}

func compileAST(m *model, a *ast, root, focus tset) (compiled, error) {
	cp := &compiler{m: m, root: root}
	c, err := cp.compile(a, focus)
	if err != nil {
		return compiled{}, err
	}
	if c.out.has(kindStub) {
		return compiled{}, fmt.Errorf("resolve() can only be type-tested here, as in where(resolve() is Patient)")
	}
	return c, nil
}

func (cp *compiler) errorf(a *ast, format string, args ...any) error {
	return fmt.Errorf("at %d: %s", a.pos, fmt.Sprintf(format, args...))
}

func (cp *compiler) compile(a *ast, focus tset) (compiled, error) {
	switch a.kind {
	case astIdent:
		return cp.pathStart(a, focus)
	case astMember:
		left, err := cp.compile(a.left, focus)
		if err != nil {
			return compiled{}, err
		}
		return cp.navigate(a, left, a.name)
	case astCall:
		input := identity(focus)
		if a.left != nil {
			var err error
			if input, err = cp.compile(a.left, focus); err != nil {
				return compiled{}, err
			}
		}
		return cp.call(a, input, focus)
	case astIndex:
		return cp.index(a, focus)
	case astLiteral:
		return cp.literal(a.lit), nil
	case astVar:
		return cp.variable(a, focus)
	case astBinary:
		return cp.binary(a, focus)
	case astUnary:
		inner, err := cp.compile(a.left, focus)
		if err != nil {
			return compiled{}, err
		}
		if inner.lit == nil || (inner.lit.t != cp.m.tInteger && inner.lit.t != cp.m.tDecimal) {
			return compiled{}, cp.errorf(a, "unary %s is only supported on number literals", a.name)
		}
		if a.name == "+" {
			return inner, nil
		}
		text := string(inner.lit.v.(json.Number))
		if strings.HasPrefix(text, "-") {
			text = text[1:]
		} else {
			text = "-" + text
		}
		return constant(node{json.Number(text), inner.lit.t}), nil
	case astTypeOp:
		left, err := cp.compile(a.left, focus)
		if err != nil {
			return compiled{}, err
		}
		tm, err := cp.m.typeSpec(a.right.name)
		if err != nil {
			return compiled{}, cp.errorf(a, "%v", err)
		}
		if a.name == "as" {
			return cp.ofType(left, tm), nil
		}
		return cp.isType(left, tm), nil
	case astEmpty:
		return emptyC(), nil
	}
	return compiled{}, cp.errorf(a, "unsupported expression")
}

func constant(n node) compiled {
	return compiled{fn: func(c *evalCtx, in, out []node) []node { return append(out, n) }, out: tset{n.t}, lit: &n}
}

func (cp *compiler) literal(l literal) compiled {
	switch l.kind {
	case litString:
		return constant(node{l.text, cp.m.tString})
	case litInteger:
		return constant(node{json.Number(l.text), cp.m.tInteger})
	case litDecimal:
		return constant(node{json.Number(l.text), cp.m.tDecimal})
	case litBool:
		return constant(node{l.b, cp.m.tBoolean})
	case litDate:
		return constant(node{l.text, cp.m.tDate})
	case litDateTime:
		return constant(node{l.text, cp.m.tDateTime})
	default:
		return constant(node{l.text, cp.m.tTime})
	}
}

var constants = map[string]string{
	"%ucum":  "http://unitsofmeasure.org",
	"%sct":   "http://snomed.info/sct",
	"%loinc": "http://loinc.org",
}

func (cp *compiler) variable(a *ast, focus tset) (compiled, error) {
	switch a.name {
	case "$this":
		return identity(focus), nil
	case "%resource", "%rootResource", "%context":
		return compiled{fn: func(c *evalCtx, in, out []node) []node { return append(out, c.root...) }, out: cp.root}, nil
	}
	if s, ok := constants[a.name]; ok {
		return constant(node{s, cp.m.tString}), nil
	}
	return compiled{}, cp.errorf(a, "unsupported variable %s", a.name)
}

// pathStart compiles an identifier at the start of a path: a type name
// ("Observation" in Observation.code) filters the focus by type; any other
// name is an element of the focus.
func (cp *compiler) pathStart(a *ast, focus tset) (compiled, error) {
	name := a.name
	if name[0] >= 'A' && name[0] <= 'Z' {
		if t := cp.m.types[name]; t != nil && t.kind != kindBackbone {
			tm := typeMatcher{name: name, fhir: t}
			all := true
			for _, ft := range focus {
				if !ft.isA(t) {
					all = false
				}
			}
			if all && len(focus) > 0 {
				return identity(focus), nil
			}
			return cp.ofType(identity(focus), tm), nil
		}
	}
	return cp.navigate(a, identity(focus), name)
}

// navigate compiles prev.name.
func (cp *compiler) navigate(a *ast, prev compiled, name string) (compiled, error) {
	var entries []navEntry
	dynamic, primitiveChild := false, false
	for _, t := range prev.out {
		switch {
		case t.kind == kindStub:
			return compiled{}, cp.errorf(a, "the result of resolve() has no elements here; only is/ofType can follow it")
		case t.kind == kindAny || t.kind == kindResource && t.abstract:
			dynamic = true
		case t.kind == kindPrimitive:
			// A primitive's id and extension are in the "_name" sibling,
			// which is not seen: they select nothing.
			if name == "id" || name == "extension" {
				primitiveChild = true
			}
		default:
			if e := t.elems[name]; e != nil {
				entries = append(entries, navEntry{t, e})
			}
		}
	}
	if len(entries) == 0 && !dynamic {
		if prev.empty || primitiveChild {
			return emptyC(), nil
		}
		return compiled{}, cp.errorf(a, "no element %q on %s", name, prev.out)
	}
	return cp.buildNav(prev, name, entries, dynamic), nil
}

func (cp *compiler) buildNav(prev compiled, name string, entries []navEntry, dynamic bool) compiled {
	out := tset{}
	for _, en := range entries {
		for _, al := range en.e.alts {
			out = out.add(al.t)
		}
	}
	if dynamic {
		out = out.add(cp.m.tAny)
	}
	var step stepFn
	switch {
	case !dynamic && len(entries) == 1 && len(prev.out) == 1 && len(entries[0].e.alts) == 1:
		key, t := entries[0].e.alts[0].key, entries[0].e.alts[0].t
		step = func(c *evalCtx, _, items, out []node) []node {
			for _, n := range items {
				if m, ok := n.v.(map[string]any); ok {
					if v, ok := m[key]; ok {
						out = c.appendJSON(out, v, t)
					}
				}
			}
			return out
		}
	case !dynamic && len(entries) == 1 && len(prev.out) == 1:
		e := entries[0].e
		step = func(c *evalCtx, _, items, out []node) []node {
			for _, n := range items {
				if m, ok := n.v.(map[string]any); ok {
					out = c.appendElem(out, m, e)
				}
			}
			return out
		}
	default:
		step = func(c *evalCtx, _, items, out []node) []node {
			for _, n := range items {
				m, ok := n.v.(map[string]any)
				if !ok {
					continue
				}
				found := false
				for i := range entries {
					if entries[i].t == n.t {
						out = c.appendElem(out, m, entries[i].e)
						found = true
						break
					}
				}
				if !found && dynamic {
					out = c.navDynamic(out, n, name)
				}
			}
			return out
		}
	}
	return compiled{
		fn:  then(prev, step),
		out: out,
		nav: &navInfo{prev: prev, name: name, entries: entries, dynamic: dynamic},
	}
}

// ofType compiles prev.ofType(T) (and prev as T). On a navigation to a
// choice element it keeps only the matching JSON keys.
func (cp *compiler) ofType(prev compiled, tm typeMatcher) compiled {
	if nv := prev.nav; nv != nil && !nv.dynamic && !navHasAbstract(nv) {
		var entries []navEntry
		for _, en := range nv.entries {
			var alts []alt
			for _, al := range en.e.alts {
				if tm.match(al.t) {
					alts = append(alts, al)
				}
			}
			if len(alts) > 0 {
				entries = append(entries, navEntry{en.t, &elemDef{name: en.e.name, choice: en.e.choice, alts: alts}})
			}
		}
		if len(entries) == 0 {
			return emptyC()
		}
		return cp.buildNav(nv.prev, nv.name, entries, false)
	}
	out := tset{}
	for _, t := range prev.out {
		switch {
		case t.kind == kindStub:
			out = out.add(t)
		case t.kind == kindAny || t.kind == kindResource && t.abstract:
			if tm.fhir != nil {
				out = out.add(tm.fhir)
			} else {
				out = out.add(cp.m.tAny)
			}
		case tm.match(t):
			out = out.add(t)
		}
	}
	if len(out) == 0 {
		return emptyC()
	}
	step := func(c *evalCtx, _, items, out []node) []node {
		for _, n := range items {
			if tm.match(n.t) {
				out = append(out, n)
			}
		}
		return out
	}
	return compiled{fn: then(prev, step), out: out}
}

// navHasAbstract reports whether a navigation can select values of an
// abstract type (Resource), whose concrete type is known only at run time.
func navHasAbstract(nv *navInfo) bool {
	for _, en := range nv.entries {
		for _, al := range en.e.alts {
			if al.t.abstract {
				return true
			}
		}
	}
	return false
}

// isType compiles "prev is T": true or false for a single item, empty
// otherwise.
func (cp *compiler) isType(prev compiled, tm typeMatcher) compiled {
	step := func(c *evalCtx, _, items, out []node) []node {
		if len(items) != 1 {
			return out
		}
		return append(out, c.boolNode(tm.match(items[0].t)))
	}
	return compiled{fn: then(prev, step), out: tset{cp.m.tBoolean}}
}

func (cp *compiler) index(a *ast, focus tset) (compiled, error) {
	left, err := cp.compile(a.left, focus)
	if err != nil {
		return compiled{}, err
	}
	idx, err := cp.compile(a.args[0], focus)
	if err != nil {
		return compiled{}, err
	}
	step := func(c *evalCtx, focus, items, out []node) []node {
		r := idx.fn(c, focus, c.get())
		defer c.put(r)
		if len(r) != 1 {
			return out
		}
		f, ok := number(r[0].v)
		if ok && f >= 0 && int(f) < len(items) && float64(int(f)) == f {
			out = append(out, items[int(f)])
		}
		return out
	}
	return compiled{fn: then(left, step), out: left.out}, nil
}
