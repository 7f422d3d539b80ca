package main

import (
	"fmt"
	"sort"
	"strings"
)

// expansion is the set of codes of a value set, by code system, or why it
// cannot be computed from the definitions at hand.
type expansion struct {
	codes map[string]map[string]bool // system -> code
	err   string
}

func (x *expansion) add(system, code string) {
	if x.codes[system] == nil {
		x.codes[system] = map[string]bool{}
	}
	x.codes[system][code] = true
}

func (x *expansion) gen(url string) genValueSet {
	v := genValueSet{URL: url}
	for system, codes := range x.codes {
		sc := genSystemCodes{System: system}
		for c := range codes {
			sc.Codes = append(sc.Codes, c)
		}
		sort.Strings(sc.Codes)
		v.Systems = append(v.Systems, sc)
	}
	sort.Slice(v.Systems, func(i, j int) bool { return v.Systems[i].System < v.Systems[j].System })
	return v
}

// expand computes the codes of the value set url from its compose
// (valueset.html#compose): whole code systems, listed concepts, is-a and
// descendent-of filters, other value sets, and excluded concepts.
func (g *generator) expand(url string, visiting []string) *expansion {
	if x, ok := g.expansions[url]; ok {
		return x
	}
	x := &expansion{codes: map[string]map[string]bool{}}
	fail := func(format string, args ...any) *expansion {
		x.codes, x.err = nil, fmt.Sprintf(format, args...)
		g.expansions[url] = x
		return x
	}
	for _, v := range visiting {
		if v == url {
			return &expansion{err: "value set includes itself"}
		}
	}
	vs := g.valueSets[url]
	if vs == nil {
		return fail("value set not in the definitions")
	}
	if vs.Compose == nil {
		return fail("value set has no compose")
	}
	visiting = append(visiting, url)
	for _, inc := range vs.Compose.Include {
		part, err := g.conceptSet(inc, visiting)
		if err != "" {
			return fail("%s", err)
		}
		for system, codes := range part {
			for c := range codes {
				x.add(system, c)
			}
		}
	}
	for _, exc := range vs.Compose.Exclude {
		if exc.System == "" || len(exc.Concept) == 0 || len(exc.Filter) > 0 || len(exc.ValueSet) > 0 {
			return fail("exclude other than listed concepts")
		}
		for _, c := range exc.Concept {
			delete(x.codes[exc.System], c.Code)
		}
	}
	if len(x.codes) == 0 {
		return fail("value set is empty")
	}
	g.expansions[url] = x
	return x
}

func (g *generator) conceptSet(inc conceptSet, visiting []string) (map[string]map[string]bool, string) {
	var sets []map[string]map[string]bool
	for _, ref := range inc.ValueSet {
		ref, _, _ = strings.Cut(ref, "|")
		x := g.expand(ref, visiting)
		if x.err != "" {
			return nil, fmt.Sprintf("included %s: %s", ref, x.err)
		}
		sets = append(sets, x.codes)
	}
	if inc.System != "" {
		codes := map[string]bool{}
		switch {
		case len(inc.Concept) > 0:
			for _, c := range inc.Concept {
				codes[c.Code] = true
			}
		default:
			cs := g.codeSystems[inc.System]
			if cs == nil {
				return nil, fmt.Sprintf("code system %s not in the definitions", inc.System)
			}
			if cs.Content != "complete" {
				return nil, fmt.Sprintf("code system %s has content %q", inc.System, cs.Content)
			}
			if len(inc.Filter) == 0 {
				walkConcepts(cs.Concept, func(c concept) { codes[c.Code] = true })
				break
			}
			if len(inc.Filter) > 1 {
				return nil, fmt.Sprintf("%d filters on %s", len(inc.Filter), inc.System)
			}
			f := inc.Filter[0]
			if f.Property != "concept" || (f.Op != "is-a" && f.Op != "descendent-of") {
				return nil, fmt.Sprintf("filter %s %s on %s", f.Property, f.Op, inc.System)
			}
			found := false
			walkConcepts(cs.Concept, func(c concept) {
				if c.Code != f.Value {
					return
				}
				found = true
				if f.Op == "is-a" {
					codes[c.Code] = true
				}
				walkConcepts(c.Concept, func(d concept) { codes[d.Code] = true })
			})
			if !found {
				return nil, fmt.Sprintf("filter value %s not in %s", f.Value, inc.System)
			}
		}
		sets = append(sets, map[string]map[string]bool{inc.System: codes})
	}
	if len(sets) == 0 {
		return nil, "include without system or value set"
	}
	// The parts of one include are intersected (valueset.html#compose).
	out := sets[0]
	for _, s := range sets[1:] {
		next := map[string]map[string]bool{}
		for system, codes := range out {
			for c := range codes {
				if s[system][c] {
					if next[system] == nil {
						next[system] = map[string]bool{}
					}
					next[system][c] = true
				}
			}
		}
		out = next
	}
	return out, ""
}

func walkConcepts(cs []concept, f func(concept)) {
	for _, c := range cs {
		f(c)
		walkConcepts(c.Concept, f)
	}
}
