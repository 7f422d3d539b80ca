package service

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// This file resolves the criteria of a transaction's conditional entries
// with as few searches as it can. An HL7 v2 message's Bundle has a dozen
// or more, nearly all a single identifier parameter (the business keys of
// its patient, visit, orders, results, practitioners, wards), and each
// search is a statement that PostgreSQL parses and plans anew. Criteria
// made of one identifier value (with alternatives) are answered together
// by one search across their types for all their values, whose matches
// are then given to each criteria by comparing their identifiers with its
// values, as the index compares them (system and value equal).

// found is what one criteria matched, or why it could not be searched.
type found struct {
	matches []*store.Resource
	err     error // a *fhir.Error: invalid criteria
}

// matchAll returns what each of conds matches, as matchCriteria (without
// locks) returns it: up to two current resources, in creation order. A
// criteria that cannot be searched has its error in its found; other
// errors are returned.
func (s *Service) matchAll(ctx context.Context, tx store.Tx, conds []*criterion) ([]found, error) {
	out := make([]found, len(conds))
	done := make([]bool, len(conds))
	if criteriaGuardOf(ctx) == nil {
		var byID []int
		for i, c := range conds {
			if identifierAlternatives(c.query) != nil {
				byID = append(byID, i)
			}
		}
		if len(byID) > 1 {
			ok, err := s.matchIdentifiers(ctx, tx, conds, byID, out)
			if err != nil {
				return nil, err
			}
			if ok {
				for _, i := range byID {
					done[i] = true
				}
			}
		}
	}
	for i, c := range conds {
		if done[i] {
			continue
		}
		matches, err := s.matchCriteria(ctx, tx, c.typ, c.query, lockNone)
		if err != nil {
			if fhir.AsError(err) == nil || ctx.Err() != nil {
				return nil, err
			}
			out[i].err = err
			continue
		}
		out[i].matches = matches
	}
	return out, nil
}

// identifierAlternatives returns the alternatives of criteria that are one
// identifier value ("identifier=s|v" or "identifier=s|v,t|w"), each a
// system and a value; nil for any other criteria, and for alternatives
// without a system or value, which the index answers in ways a comparison
// of identifiers would have to repeat.
func identifierAlternatives(criteria string) [][2]string {
	params, err := url.ParseQuery(criteria)
	if err != nil || len(params) != 1 || len(params["identifier"]) != 1 {
		return nil
	}
	var out [][2]string
	for _, alt := range splitOr(params["identifier"][0]) {
		parts := splitEscaped(alt, '|')
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil
		}
		out = append(out, [2]string{unescape(parts[0]), unescape(parts[1])})
	}
	return out
}

// matchIdentifiers resolves the criteria conds[i] for i in idx, each one
// identifier value, with one search across their types, into out; false
// when it cannot (an unknown type or parameter, more matches than a page,
// a match it cannot give to a criteria): the caller then searches each.
func (s *Service) matchIdentifiers(ctx context.Context, tx store.Tx, conds []*criterion, idx []int, out []found) (bool, error) {
	var types, values []string
	for _, i := range idx {
		c := conds[i]
		if !s.cfg.Validator.IsResourceType(c.typ) {
			return false, nil
		}
		if !slices.Contains(types, c.typ) {
			types = append(types, c.typ)
		}
		params, _ := url.ParseQuery(c.query)
		values = append(values, params["identifier"][0])
	}
	limit := 2 * len(idx)
	params := url.Values{"_type": {strings.Join(types, ",")}, "identifier": {strings.Join(values, ",")},
		"_count": {strconv.Itoa(limit)}, "_total": {"none"}}
	q, warnings, err := ParseSearch(s.cfg.Registry, "", params, s.parseOptions()...)
	if err != nil || len(warnings) > 0 {
		return false, nil
	}
	res, err := tx.Search(ctx, q)
	if err != nil {
		if fhir.AsError(err) != nil && ctx.Err() == nil {
			return false, nil
		}
		return false, err
	}
	if res.Next != "" {
		return false, nil
	}
	alts := make([][][2]string, len(idx))
	for j, i := range idx {
		alts[j] = identifierAlternatives(conds[i].query)
	}
	for _, r := range res.Matches {
		tokens, err := s.identifierTokens(r)
		if err != nil {
			return false, nil
		}
		given := false
		for j, i := range idx {
			if conds[i].typ != r.Type || len(out[i].matches) == 2 || !anyToken(alts[j], tokens) {
				continue
			}
			out[i].matches = append(out[i].matches, r)
			given = true
		}
		if !given && !s.matchesAnyBeyondTwo(conds, idx, alts, r, tokens) {
			// Found by the index for none of them: the index and this
			// comparison disagree (a parameter redefined since the
			// resource was written). Let each criteria search.
			clear(out)
			return false, nil
		}
	}
	return true, nil
}

// matchesAnyBeyondTwo reports whether r matches a criteria that has its
// two matches already.
func (s *Service) matchesAnyBeyondTwo(conds []*criterion, idx []int, alts [][][2]string, r *store.Resource, tokens [][2]string) bool {
	for j, i := range idx {
		if conds[i].typ == r.Type && anyToken(alts[j], tokens) {
			return true
		}
	}
	return false
}

// identifierTokens returns the (system, value) of the identifier index
// values of r.
func (s *Service) identifierTokens(r *store.Resource) ([][2]string, error) {
	obj, err := fhir.ParseObject(r.Content)
	if err != nil {
		return nil, err
	}
	vals, err := s.cfg.Registry.Extract(obj)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, t := range vals.Tokens {
		if t.Param == "identifier" {
			out = append(out, [2]string{t.System, t.Code})
		}
	}
	return out, nil
}

// anyToken reports whether one of alts is one of tokens.
func anyToken(alts, tokens [][2]string) bool {
	for _, a := range alts {
		if slices.Contains(tokens, a) {
			return true
		}
	}
	return false
}
