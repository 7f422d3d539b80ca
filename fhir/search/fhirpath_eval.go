package search

import (
	"encoding/json"
	"reflect"
	"strconv"
	"sync"
)

// Runtime side of compiled FHIRPath: the node a closure passes on, the
// evaluation context with its reusable buffers, and the value semantics
// (equality, truth) of fhirpath.html.

// node is one item of a FHIRPath collection: a JSON value of the resource
// (map[string]any, string, json.Number or bool) and its FHIR type. A
// resolve() result has a nil v and the referenced resource type.
type node struct {
	v any
	t *typeDef
}

// evalFn evaluates a compiled expression on the focus collection in and
// appends the result to out.
type evalFn func(c *evalCtx, in, out []node) []node

// evalCtx carries the root resource and a free list of node buffers, so
// that a steady stream of evaluations allocates nothing for intermediate
// collections.
type evalCtx struct {
	m    *model
	root []node
	free [][]node
	// per component of a composite
	scratch []Values
	parts   [][]any
}

func (c *evalCtx) get() []node {
	if n := len(c.free); n > 0 {
		s := c.free[n-1]
		c.free = c.free[:n-1]
		return s[:0]
	}
	return make([]node, 0, 8)
}

// put returns a buffer to the free list, cleared so that the pool keeps
// no resource reachable.
func (c *evalCtx) put(s []node) {
	if cap(s) > 0 && cap(s) <= 1024 {
		clear(s)
		c.free = append(c.free, s)
	}
}

var ctxPool = sync.Pool{New: func() any { return &evalCtx{} }}

func newCtx(m *model, root node) *evalCtx {
	c := ctxPool.Get().(*evalCtx)
	c.m = m
	c.root = append(c.root[:0], root)
	return c
}

// release returns c to the pool.
func (c *evalCtx) release() {
	clear(c.root)
	c.root = c.root[:0]
	for i := range c.scratch {
		c.scratch[i].wipe()
	}
	for i := range c.parts {
		clear(c.parts[i][:cap(c.parts[i])])
		c.parts[i] = c.parts[i][:0]
	}
	c.m = nil
	ctxPool.Put(c)
}

// appendJSON appends v (a JSON value, possibly an array) as nodes of type t.
func (c *evalCtx) appendJSON(out []node, v any, t *typeDef) []node {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if e != nil {
				out = append(out, node{e, c.refine(t, e)})
			}
		}
		return out
	}
	if v != nil {
		out = append(out, node{v, c.refine(t, v)})
	}
	return out
}

// refine returns the concrete type of a resource held in an element of an
// abstract type (contained, Bundle.entry.resource).
func (c *evalCtx) refine(t *typeDef, v any) *typeDef {
	if !t.abstract || t.kind != kindResource {
		return t
	}
	if m, ok := v.(map[string]any); ok {
		if rt, ok := m["resourceType"].(string); ok {
			if r := c.m.resource(rt); r != nil {
				return r
			}
		}
	}
	return t
}

// appendElem appends the value(s) of element e of the JSON object m.
func (c *evalCtx) appendElem(out []node, m map[string]any, e *elemDef) []node {
	for i := range e.alts {
		if v, ok := m[e.alts[i].key]; ok {
			out = c.appendJSON(out, v, e.alts[i].t)
		}
	}
	return out
}

// navDynamic navigates to name on a node whose type is only known at run
// time (an abstract resource, or an untyped value).
func (c *evalCtx) navDynamic(out []node, n node, name string) []node {
	m, ok := n.v.(map[string]any)
	if !ok {
		return out
	}
	t := c.refine(n.t, m)
	if t.kind == kindAny {
		if rt, ok := m["resourceType"].(string); ok {
			if r := c.m.resource(rt); r != nil {
				t = r
			}
		}
	}
	if t.elems != nil {
		if e := t.elems[name]; e != nil {
			return c.appendElem(out, m, e)
		}
		return out
	}
	if v, ok := m[name]; ok {
		out = c.appendJSON(out, v, c.m.tAny)
	}
	return out
}

// truth is the boolean value of a collection (fhirpath.html, "Singleton
// evaluation of collections"): known is false for the empty collection
// and for more than one item.
func truth(s []node) (value, known bool) {
	if len(s) != 1 {
		return false, false
	}
	if b, ok := s[0].v.(bool); ok {
		return b, true
	}
	return true, true
}

func (c *evalCtx) boolNode(b bool) node { return node{b, c.m.tBoolean} }

// valuesEqual is FHIRPath equality (=) of two JSON values: primitives by
// value (numbers numerically), objects deeply.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, err1 := strconv.ParseFloat(string(x), 64)
		fy, err2 := strconv.ParseFloat(string(y), 64)
		return err1 == nil && err2 == nil && fx == fy
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		if reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer() {
			return true
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return false
}

func nodesEqual(a, b node) bool {
	if a.v == nil && b.v == nil {
		return a.t == b.t
	}
	return valuesEqual(a.v, b.v)
}

// appendUnique appends the items of s not yet in out[start:].
func appendUnique(out []node, start int, s []node) []node {
next:
	for _, n := range s {
		for _, o := range out[start:] {
			if nodesEqual(n, o) {
				continue next
			}
		}
		out = append(out, n)
	}
	return out
}

// number returns the value of a numeric node.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}
