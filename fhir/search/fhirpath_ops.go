package search

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Operators (fhirpath.html, "Operations"): union, boolean logic,
// equality and equivalence, comparison, membership and the little
// arithmetic and string concatenation an index expression might use.

func (cp *compiler) binary(a *ast, focus tset) (compiled, error) {
	left, err := cp.compile(a.left, focus)
	if err != nil {
		return compiled{}, err
	}
	right, err := cp.compile(a.right, focus)
	if err != nil {
		return compiled{}, err
	}
	lf, rf := left.fn, right.fn
	// both evaluates the two operands on the focus and calls f with them.
	both := func(f func(c *evalCtx, l, r, out []node) []node) evalFn {
		return func(c *evalCtx, in, out []node) []node {
			l := lf(c, in, c.get())
			r := rf(c, in, c.get())
			out = f(c, l, r, out)
			c.put(r)
			c.put(l)
			return out
		}
	}
	boolean := tset{cp.m.tBoolean}
	switch a.name {
	case "|":
		switch {
		case left.empty:
			return right, nil
		case right.empty:
			return left, nil
		}
		fn := func(c *evalCtx, in, out []node) []node {
			start := len(out)
			s := lf(c, in, c.get())
			out = appendUnique(out, start, s)
			s = rf(c, in, s[:0])
			out = appendUnique(out, start, s)
			c.put(s)
			return out
		}
		return compiled{fn: fn, out: left.out.union(right.out)}, nil

	case "and", "or", "xor", "implies":
		op := a.name
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			lv, lk := truth(l)
			rv, rk := truth(r)
			var v, known bool
			switch op {
			case "and":
				switch {
				case lk && !lv || rk && !rv:
					v, known = false, true
				case lk && rk:
					v, known = true, true
				}
			case "or":
				switch {
				case lk && lv || rk && rv:
					v, known = true, true
				case lk && rk:
					v, known = false, true
				}
			case "xor":
				v, known = lv != rv, lk && rk
			case "implies":
				switch {
				case lk && !lv:
					v, known = true, true
				case lk && lv:
					v, known = rv, rk
				case rk && rv:
					v, known = true, true
				}
			}
			if known {
				out = append(out, c.boolNode(v))
			}
			return out
		}), out: boolean}, nil

	case "=", "!=", "~", "!~":
		equiv := a.name == "~" || a.name == "!~"
		negate := a.name == "!=" || a.name == "!~"
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			var eq bool
			switch {
			case equiv && len(l) == 0 && len(r) == 0:
				eq = true
			case len(l) == 0 || len(r) == 0:
				return out
			case len(l) != len(r):
				eq = false
			default:
				eq = true
				for i := range l {
					if equiv && !nodesEquivalent(l[i], r[i]) || !equiv && !nodesEqual(l[i], r[i]) {
						eq = false
						break
					}
				}
			}
			return append(out, c.boolNode(eq != negate))
		}), out: boolean}, nil

	case "<", ">", "<=", ">=":
		op := a.name
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			if len(l) != 1 || len(r) != 1 {
				return out
			}
			cmp, ok := compareNodes(l[0], r[0])
			if !ok {
				return out
			}
			var v bool
			switch op {
			case "<":
				v = cmp < 0
			case ">":
				v = cmp > 0
			case "<=":
				v = cmp <= 0
			default:
				v = cmp >= 0
			}
			return append(out, c.boolNode(v))
		}), out: boolean}, nil

	case "in", "contains":
		in := a.name == "in"
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			item, coll := l, r
			if !in {
				item, coll = r, l
			}
			if len(item) != 1 {
				return out
			}
			found := false
			for _, n := range coll {
				if nodesEqual(item[0], n) {
					found = true
					break
				}
			}
			return append(out, c.boolNode(found))
		}), out: boolean}, nil

	case "&":
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			ls, _ := single(l).(string)
			rs, _ := single(r).(string)
			return append(out, node{ls + rs, c.m.tString})
		}), out: tset{cp.m.tString}}, nil

	case "+", "-", "*", "/", "div", "mod":
		op := a.name
		return compiled{fn: both(func(c *evalCtx, l, r, out []node) []node {
			if len(l) != 1 || len(r) != 1 {
				return out
			}
			if ls, ok := l[0].v.(string); ok && op == "+" {
				if rs, ok := r[0].v.(string); ok {
					return append(out, node{ls + rs, c.m.tString})
				}
				return out
			}
			x, ok1 := number(l[0].v)
			y, ok2 := number(r[0].v)
			if !ok1 || !ok2 {
				return out
			}
			var z float64
			switch op {
			case "+":
				z = x + y
			case "-":
				z = x - y
			case "*":
				z = x * y
			case "/":
				if y == 0 {
					return out
				}
				z = x / y
			case "div":
				if y == 0 {
					return out
				}
				z = math.Trunc(x / y)
			case "mod":
				if y == 0 {
					return out
				}
				z = math.Mod(x, y)
			}
			t := c.m.tDecimal
			if z == math.Trunc(z) && op != "/" && l[0].t.system == "Integer" && r[0].t.system == "Integer" {
				t = c.m.tInteger
			}
			return append(out, node{json.Number(strconv.FormatFloat(z, 'f', -1, 64)), t})
		}), out: tset{cp.m.tInteger, cp.m.tDecimal}}, nil
	}
	return compiled{}, cp.errorf(a, "unsupported operator %s", a.name)
}

func single(s []node) any {
	if len(s) == 1 {
		return s[0].v
	}
	return nil
}

// nodesEquivalent is FHIRPath equivalence (~): strings ignoring case,
// accents and runs of whitespace, everything else as equality.
func nodesEquivalent(a, b node) bool {
	if x, ok := a.v.(string); ok {
		if y, ok := b.v.(string); ok {
			return Normalize(x) == Normalize(y)
		}
	}
	return nodesEqual(a, b)
}

// compareNodes orders two primitives: numbers numerically, dates and
// times by the instant they start at, strings by bytes.
func compareNodes(a, b node) (int, bool) {
	if x, ok := number(a.v); ok {
		y, ok := number(b.v)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	x, ok1 := a.v.(string)
	y, ok2 := b.v.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	if isDateSystem(a.t) && isDateSystem(b.t) {
		xl, _, err1 := ParseDate(x)
		yl, _, err2 := ParseDate(y)
		if err1 == nil && err2 == nil {
			return xl.Compare(yl), true
		}
	}
	return strings.Compare(x, y), true
}

func isDateSystem(t *typeDef) bool { return t.system == "Date" || t.system == "DateTime" }
