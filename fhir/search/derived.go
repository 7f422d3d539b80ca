package search

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Derived parameters.
//
// Many R4 parameters select, on a resource type, exactly what other
// parameters of the same type select together, so that their index rows
// would repeat rows written anyway:
//
//   - an alias: the same expression (Patient.phonetic and Patient.name,
//     both "Patient.name"; DeviceUseStatement.patient and .subject);
//   - a union: each branch of its top-level union is a branch of another
//     parameter's (Observation.combo-code is "Observation.code |
//     Observation.component.code", code and component-code together; a
//     composite with the same components, as combo-code-value-quantity is
//     code-value-quantity and component-code-value-quantity);
//   - a restriction: a reference parameter "X.where(resolve() is T)" over
//     the parameter whose expression is X (Observation.patient over
//     Observation.subject: its rows are subject's rows pointing at a
//     Patient). There are 47 of these in R4, one on most clinical types.
//
// Such a parameter is derived: a store keeps no rows of its own for it and
// answers a search on it from the rows of the parameters it derives from
// (Storage), which is the same search: its values are the union of
// theirs, filtered by target type for a restriction. TestDerivedValues
// checks that over the corpora. Extract still returns a derived
// parameter's values, for the callers that look at values in memory
// (compartments).
//
// Only the R4 parameters take part, as derived ones and as the ones they
// derive from; a parameter added with Registry.Add stores its own rows and
// ends the derivations of the parameter it replaces. Special and
// identifier parameters are never derived (a transaction resolves
// identifiers by their own rows).

// Storage says which index rows answer a search on a parameter.
type Storage struct {
	// Params are the parameters whose rows are searched: the parameter
	// itself, unless it is derived.
	Params []string
	// Target is set for a restriction: only the rows of Params[0] that
	// reference this resource type.
	Target string
}

// Storage returns where the rows of the parameter code of resourceType are
// kept: the parameter itself unless it is derived (see above). It costs
// two map lookups.
func (r *Registry) Storage(resourceType, code string) Storage {
	if ti := r.snap.Load().types[resourceType]; ti != nil {
		if st, ok := ti.derived[code]; ok {
			return st
		}
	}
	return Storage{Params: []string{code}}
}

// Derived returns the derived parameters of resourceType by code, whose
// values Extract returns but a store does not keep, each with its
// Storage: a shared map that must not be modified, nil when there is
// none.
func (r *Registry) Derived(resourceType string) map[string]Storage {
	if ti := r.snap.Load().types[resourceType]; ti != nil {
		return ti.derived
	}
	return nil
}

// restriction matches a branch "X.where(resolve() is T)".
var restriction = regexp.MustCompile(`^(.+)\.where\(resolve\(\)\s+is\s+([A-Za-z]+)\)$`)

// derive finds the derived parameters of ti, the index of resource type
// rt, among its bound R4 parameters.
func (ti *typeIndex) derive(m *model, rt string) {
	type cand struct {
		code  string
		typ   Type
		parts []string
		// comps is a composite's components (type and expression),
		// which the ones it derives from must share.
		comps string
	}
	var cands []cand
	for _, bp := range ti.bound {
		p := bp.p
		if p.Type == TypeSpecial || p.Code == "identifier" || !isR4(p) {
			continue
		}
		var comps strings.Builder
		for _, c := range bp.comps {
			fmt.Fprintf(&comps, "%s %s;", c.typ, unparen(c.expr))
		}
		cands = append(cands, cand{p.Code, p.Type, ownBranches(m, rt, normalBranches(bp.branches)), comps.String()})
	}
	// Fewer branches first, so that a union is decided after the
	// parameters it may derive from; equal expressions keep the first
	// code in order as the one that stores rows.
	sort.SliceStable(cands, func(i, j int) bool {
		if len(cands[i].parts) != len(cands[j].parts) {
			return len(cands[i].parts) < len(cands[j].parts)
		}
		return cands[i].code < cands[j].code
	})
	derived := map[string]Storage{}
	stored := func(c cand) bool { _, ok := derived[c.code]; return !ok }
	for i, c := range cands {
		// An alias or a union of stored parameters decided before it.
		var from []string
		covered := map[string]bool{}
		for _, d := range cands[:i] {
			if d.typ != c.typ || d.comps != c.comps || !stored(d) || !subset(d.parts, c.parts) {
				continue
			}
			from = append(from, d.code)
			for _, p := range d.parts {
				covered[p] = true
			}
		}
		if len(from) > 0 && len(covered) == len(c.parts) {
			derived[c.code] = Storage{Params: from}
			continue
		}
		// A restriction of a stored reference parameter.
		if c.typ != TypeReference || len(c.parts) != 1 {
			continue
		}
		m := restriction.FindStringSubmatch(c.parts[0])
		if m == nil {
			continue
		}
		over := []string{unparen(m[1])}
		for _, d := range cands {
			if d.code != c.code && d.typ == TypeReference && stored(d) && slices.Equal(d.parts, over) {
				derived[c.code] = Storage{Params: []string{d.code}, Target: m[2]}
				break
			}
		}
	}
	ti.derived = derived
}

// forget ends the derivations that involve code (Registry.Add replaced
// the parameter): it stores its own rows, and so do the parameters
// derived from it.
func (ti *typeIndex) forget(code string) {
	if ti.derived == nil {
		return
	}
	kept := map[string]Storage{}
	for c, st := range ti.derived {
		if c != code && !slices.Contains(st.Params, code) {
			kept[c] = st
		}
	}
	ti.derived = kept
}

// isR4 reports whether p is one of the official R4 definitions.
func isR4(p *Param) bool {
	return strings.HasPrefix(p.URL, "http://hl7.org/fhir/SearchParameter/")
}

// normalBranches returns branches without enclosing parentheses and
// extra spaces, sorted and without repeats, for comparison.
func normalBranches(branches []string) []string {
	out := make([]string, len(branches))
	for i, b := range branches {
		out[i] = unparen(b)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ownBranches drops the branches that start with another resource type
// than rt ("CarePlan.subject" in Observation's part of a parameter of
// several types), which select nothing on rt.
func ownBranches(m *model, rt string, parts []string) []string {
	return slices.DeleteFunc(parts, func(p string) bool {
		head := strings.TrimLeft(p, "(")
		if i := strings.IndexAny(head, ".( "); i >= 0 {
			head = head[:i]
		}
		t := m.types[head]
		return t != nil && t.kind == kindResource && !t.abstract && head != rt
	})
}

// unparen collapses the spaces of s and removes the parentheses that
// enclose all of it.
func unparen(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' && closes(s) == len(s)-1 {
		s = s[1 : len(s)-1]
	}
	return s
}

// closes returns the position of the parenthesis that closes s[0].
func closes(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// subset reports whether every element of a is in b (both sorted).
func subset(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}
