package search

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Functions (fhirpath.html, "Functions", and the FHIR additions of
// fhirpath.html#functions: extension(), resolve()). Functions that need a
// terminology server, a resource resolver or reflection (memberOf,
// conformsTo, children, descendants, repeat, aggregate) are not supported
// and fail to compile.

func (cp *compiler) call(a *ast, input compiled, focus tset) (compiled, error) {
	nargs := func(min, max int) error {
		if len(a.args) < min || len(a.args) > max {
			if min == max {
				return cp.errorf(a, "%s() takes %d argument(s)", a.name, min)
			}
			return cp.errorf(a, "%s() takes %d to %d arguments", a.name, min, max)
		}
		return nil
	}
	boolean := tset{cp.m.tBoolean}
	switch a.name {
	case "where", "select", "exists", "all":
		if a.name == "exists" {
			if err := nargs(0, 1); err != nil {
				return compiled{}, err
			}
			if len(a.args) == 0 {
				return compiled{fn: then(input, func(c *evalCtx, _, items, out []node) []node {
					return append(out, c.boolNode(len(items) > 0))
				}), out: boolean}, nil
			}
		} else if err := nargs(1, 1); err != nil {
			return compiled{}, err
		}
		sub, err := cp.compile(a.args[0], input.out)
		if err != nil {
			return compiled{}, err
		}
		return cp.iterate(a.name, input, sub), nil

	case "empty", "count", "first", "last", "tail", "single", "distinct", "not", "hasValue",
		"allTrue", "anyTrue", "allFalse", "anyFalse", "lower", "upper", "length", "toString", "trim", "trace":
		if a.name == "trace" {
			if err := nargs(1, 2); err != nil {
				return compiled{}, err
			}
			return input, nil
		}
		if err := nargs(0, 0); err != nil {
			return compiled{}, err
		}
		return cp.collectionFunc(a.name, input), nil

	case "skip", "take":
		if err := nargs(1, 1); err != nil {
			return compiled{}, err
		}
		arg, err := cp.compile(a.args[0], focus)
		if err != nil {
			return compiled{}, err
		}
		if arg.lit == nil || arg.lit.t != cp.m.tInteger {
			return compiled{}, cp.errorf(a, "%s() needs an integer literal", a.name)
		}
		n, _ := strconv.Atoi(string(arg.lit.v.(json.Number)))
		skip := a.name == "skip"
		return compiled{fn: then(input, func(c *evalCtx, _, items, out []node) []node {
			if skip {
				if n < len(items) {
					out = append(out, items[max(n, 0):]...)
				}
				return out
			}
			return append(out, items[:min(max(n, 0), len(items))]...)
		}), out: input.out}, nil

	case "ofType", "as", "is":
		if err := nargs(1, 1); err != nil {
			return compiled{}, err
		}
		name, ok := typeName(a.args[0])
		if !ok {
			return compiled{}, cp.errorf(a, "%s() needs a type name", a.name)
		}
		tm, err := cp.m.typeSpec(name)
		if err != nil {
			return compiled{}, cp.errorf(a, "%v", err)
		}
		if a.name == "is" {
			return cp.isType(input, tm), nil
		}
		return cp.ofType(input, tm), nil

	case "resolve":
		if err := nargs(0, 0); err != nil {
			return compiled{}, err
		}
		return compiled{fn: then(input, resolveStep), out: tset{cp.m.tStub}}, nil

	case "extension":
		if err := nargs(1, 1); err != nil {
			return compiled{}, err
		}
		url, err := cp.stringArg(a, a.args[0], focus)
		if err != nil {
			return compiled{}, err
		}
		ext := cp.m.tExtension
		return compiled{fn: then(input, func(c *evalCtx, _, items, out []node) []node {
			for _, n := range items {
				m, ok := n.v.(map[string]any)
				if !ok {
					continue
				}
				exts, _ := m["extension"].([]any)
				for _, e := range exts {
					if em, ok := e.(map[string]any); ok && em["url"] == url {
						out = append(out, node{em, ext})
					}
				}
			}
			return out
		}), out: tset{ext}}, nil

	case "iif":
		if err := nargs(2, 3); err != nil {
			return compiled{}, err
		}
		var parts [3]compiled
		parts[2] = emptyC()
		for i, arg := range a.args {
			var err error
			if parts[i], err = cp.compile(arg, input.out); err != nil {
				return compiled{}, err
			}
		}
		cond, yes, no := parts[0].fn, parts[1].fn, parts[2].fn
		return compiled{fn: then(input, func(c *evalCtx, _, items, out []node) []node {
			r := cond(c, items, c.get())
			v, ok := truth(r)
			c.put(r)
			if ok && v {
				return yes(c, items, out)
			}
			return no(c, items, out)
		}), out: parts[1].out.union(parts[2].out)}, nil

	case "startsWith", "endsWith", "contains", "matches":
		if err := nargs(1, 1); err != nil {
			return compiled{}, err
		}
		arg, err := cp.stringArg(a, a.args[0], focus)
		if err != nil {
			return compiled{}, err
		}
		var test func(string) bool
		switch a.name {
		case "startsWith":
			test = func(s string) bool { return strings.HasPrefix(s, arg) }
		case "endsWith":
			test = func(s string) bool { return strings.HasSuffix(s, arg) }
		case "contains":
			test = func(s string) bool { return strings.Contains(s, arg) }
		default:
			re, err := regexp.Compile("^(?s:" + arg + ")$")
			if err != nil {
				return compiled{}, cp.errorf(a, "matches(): %v", err)
			}
			test = re.MatchString
		}
		return compiled{fn: then(input, func(c *evalCtx, _, items, out []node) []node {
			if s, ok := single(items).(string); ok {
				out = append(out, c.boolNode(test(s)))
			}
			return out
		}), out: boolean}, nil
	}
	return compiled{}, cp.errorf(a, "function %s() is not supported", a.name)
}

// typeName returns the type named by a function argument: Quantity,
// FHIR.Quantity, System.String.
func typeName(a *ast) (string, bool) {
	switch a.kind {
	case astIdent:
		return a.name, true
	case astMember:
		if a.left.kind == astIdent {
			return a.left.name + "." + a.name, true
		}
	}
	return "", false
}

func (cp *compiler) stringArg(fn, arg *ast, focus tset) (string, error) {
	c, err := cp.compile(arg, focus)
	if err != nil {
		return "", err
	}
	if c.lit == nil {
		return "", cp.errorf(fn, "%s() needs a string literal", fn.name)
	}
	s, ok := c.lit.v.(string)
	if !ok || c.lit.t != cp.m.tString {
		return "", cp.errorf(fn, "%s() needs a string literal", fn.name)
	}
	return s, nil
}

// iterate compiles where(), select(), exists(criteria) and all(), which
// evaluate sub once per input item.
func (cp *compiler) iterate(name string, input, sub compiled) compiled {
	f := sub.fn
	var step stepFn
	out := input.out
	switch name {
	case "where":
		step = func(c *evalCtx, _, items, out []node) []node {
			one, r := c.get(), c.get()
			for _, n := range items {
				one = append(one[:0], n)
				r = f(c, one, r[:0])
				if v, ok := truth(r); ok && v {
					out = append(out, n)
				}
			}
			c.put(r)
			c.put(one)
			return out
		}
	case "select":
		out = sub.out
		step = func(c *evalCtx, _, items, out []node) []node {
			one := c.get()
			for _, n := range items {
				one = append(one[:0], n)
				out = f(c, one, out)
			}
			c.put(one)
			return out
		}
	default: // exists(criteria), all(criteria)
		all := name == "all"
		out = tset{cp.m.tBoolean}
		step = func(c *evalCtx, _, items, out []node) []node {
			one, r := c.get(), c.get()
			result := all
			for _, n := range items {
				one = append(one[:0], n)
				r = f(c, one, r[:0])
				v, ok := truth(r)
				if all && !(ok && v) {
					result = false
					break
				}
				if !all && ok && v {
					result = true
					break
				}
			}
			c.put(r)
			c.put(one)
			return append(out, c.boolNode(result))
		}
	}
	return compiled{fn: then(input, step), out: out}
}

// collectionFunc compiles the functions without arguments.
func (cp *compiler) collectionFunc(name string, input compiled) compiled {
	var step stepFn
	out := input.out
	boolean := tset{cp.m.tBoolean}
	switch name {
	case "empty":
		out = boolean
		step = func(c *evalCtx, _, items, out []node) []node { return append(out, c.boolNode(len(items) == 0)) }
	case "count":
		out = tset{cp.m.tInteger}
		step = func(c *evalCtx, _, items, out []node) []node {
			return append(out, node{json.Number(strconv.Itoa(len(items))), c.m.tInteger})
		}
	case "first":
		step = func(c *evalCtx, _, items, out []node) []node {
			if len(items) > 0 {
				out = append(out, items[0])
			}
			return out
		}
	case "last":
		step = func(c *evalCtx, _, items, out []node) []node {
			if len(items) > 0 {
				out = append(out, items[len(items)-1])
			}
			return out
		}
	case "tail":
		step = func(c *evalCtx, _, items, out []node) []node {
			if len(items) > 1 {
				out = append(out, items[1:]...)
			}
			return out
		}
	case "single":
		step = func(c *evalCtx, _, items, out []node) []node {
			if len(items) == 1 {
				out = append(out, items[0])
			}
			return out
		}
	case "distinct":
		step = func(c *evalCtx, _, items, out []node) []node { return appendUnique(out, len(out), items) }
	case "not":
		out = boolean
		step = func(c *evalCtx, _, items, out []node) []node {
			if v, ok := truth(items); ok {
				out = append(out, c.boolNode(!v))
			}
			return out
		}
	case "hasValue":
		out = boolean
		step = func(c *evalCtx, _, items, out []node) []node {
			ok := len(items) == 1 && items[0].t.kind == kindPrimitive
			return append(out, c.boolNode(ok))
		}
	case "allTrue", "anyTrue", "allFalse", "anyFalse":
		out = boolean
		want := name == "allTrue" || name == "anyTrue"
		all := name == "allTrue" || name == "allFalse"
		step = func(c *evalCtx, _, items, out []node) []node {
			result := all
			for _, n := range items {
				b, ok := n.v.(bool)
				if all && (!ok || b != want) {
					result = false
					break
				}
				if !all && ok && b == want {
					result = true
					break
				}
			}
			return append(out, c.boolNode(result))
		}
	case "lower", "upper", "trim", "toString":
		out = tset{cp.m.tString}
		step = func(c *evalCtx, _, items, out []node) []node {
			if len(items) != 1 {
				return out
			}
			var s string
			switch v := items[0].v.(type) {
			case string:
				s = v
			case json.Number:
				s = string(v)
			case bool:
				s = strconv.FormatBool(v)
			default:
				return out
			}
			switch name {
			case "lower":
				s = strings.ToLower(s)
			case "upper":
				s = strings.ToUpper(s)
			case "trim":
				s = strings.TrimSpace(s)
			}
			return append(out, node{s, c.m.tString})
		}
	case "length":
		out = tset{cp.m.tInteger}
		step = func(c *evalCtx, _, items, out []node) []node {
			if s, ok := single(items).(string); ok {
				out = append(out, node{json.Number(strconv.Itoa(utf8.RuneCountInString(s))), c.m.tInteger})
			}
			return out
		}
	}
	return compiled{fn: then(input, step), out: out}
}

// resolveStep is resolve() for index expressions: it yields, for each
// reference whose target type can be told from the reference itself
// ("Patient/123", an absolute URL ending in Patient/123, Reference.type,
// a conditional "Patient?identifier=..."), a stand-in of that type without
// content, so that where(resolve() is Patient) selects the references to
// patients. References whose type cannot be told (urn:uuid:, #contained)
// resolve to nothing.
func resolveStep(c *evalCtx, _, items, out []node) []node {
	for _, n := range items {
		var rt string
		switch v := n.v.(type) {
		case map[string]any:
			ref, _ := v["reference"].(string)
			typ, _ := v["type"].(string)
			r, _ := parseReference(c.m, ref, typ)
			rt = r.Type
		case string:
			r, _ := parseReference(c.m, v, "")
			rt = r.Type
		}
		if t := c.m.resource(rt); t != nil {
			out = append(out, node{nil, t})
		}
	}
	return out
}
