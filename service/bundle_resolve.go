package service

import (
	"context"
	"net/url"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// This file resolves the criteria of a transaction's conditional entries
// with as few statements as it can. An HL7 v2 message's Bundle has a
// dozen or more, nearly all one identifier value (the business keys of its
// patient, visit, orders, results, practitioners and wards), and a search
// each is a statement that PostgreSQL parses and plans anew. When the
// store's transaction can look identifiers up together
// (identifierResolver), those criteria are resolved with one statement,
// as long as the request's CriteriaGuard, if any, leaves them as they are
// (an authorised caller's); the others are searched one by one.

// identifierResolver looks up identifier values in one statement
// (store/postgres): for each i, up to limit current resources of types[i]
// whose identifier search parameter has the value systems[i]|values[i],
// in creation order, as that search returns them.
type identifierResolver interface {
	ResolveIdentifiers(ctx context.Context, types, systems, values []string, limit int) ([][]*store.Resource, error)
}

// found is what one criteria matched, or why it could not be searched.
type found struct {
	matches []*store.Resource
	err     error // a *fhir.Error: invalid criteria
}

// matchAll returns what each of conds matches, as matchCriteria (without
// locks) returns it: up to two current resources. A criteria that cannot
// be searched has its error in its found; other errors are returned.
func (s *Service) matchAll(ctx context.Context, tx store.Tx, conds []*criterion) ([]found, error) {
	out := make([]found, len(conds))
	done := make([]bool, len(conds))
	if r, ok := tx.(identifierResolver); ok {
		guard := criteriaGuardOf(ctx)
		var types, systems, values []string
		var owner []int // the criteria of each value
		for i, c := range conds {
			alts := s.identifierAlternatives(c.typ, c.query)
			if alts != nil && guard != nil && !guardLeavesAsIs(ctx, guard, c.typ, c.query) {
				alts = nil // searched below, where the guard confines or refuses it
			}
			for _, a := range alts {
				types, systems, values, owner = append(types, c.typ), append(systems, a[0]), append(values, a[1]), append(owner, i)
			}
			done[i] = alts != nil
		}
		if len(values) > 0 {
			rows, err := r.ResolveIdentifiers(ctx, types, systems, values, 2)
			if err != nil {
				return nil, err
			}
			for k, matches := range rows {
				f := &out[owner[k]]
				for _, m := range matches {
					if len(f.matches) < 2 && !containsResource(f.matches, m) {
						f.matches = append(f.matches, m)
					}
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

// guardLeavesAsIs reports whether guard lets the criteria of typ be
// searched as they are: it neither refuses them nor adds parameters that
// confine them (as it does for a caller that only patient/ scopes allow).
// Only then may the criteria be resolved by identifier look-up, which
// knows nothing of the guard.
func guardLeavesAsIs(ctx context.Context, guard CriteriaGuard, typ, criteria string) bool {
	params, err := url.ParseQuery(criteria)
	if err != nil {
		return false
	}
	n := len(params)
	return guard(ctx, typ, params) == nil && len(params) == n && len(params["identifier"]) == 1
}

// identifierAlternatives returns the alternatives of criteria of typ that
// are one value of typ's identifier token parameter ("identifier=s|v" or
// "identifier=s|v,t|w"), each a system ("" for "|v") and a value; nil for
// any other criteria, and for a value without a system or code, which
// the search answers in other ways.
func (s *Service) identifierAlternatives(typ, criteria string) [][2]string {
	if !s.cfg.Validator.IsResourceType(typ) {
		return nil
	}
	if p := s.cfg.Registry.Lookup(typ, "identifier"); p == nil || p.Type != search.TypeToken {
		return nil
	}
	params, err := url.ParseQuery(criteria)
	if err != nil || len(params) != 1 || len(params["identifier"]) != 1 {
		return nil
	}
	var out [][2]string
	for _, alt := range splitOr(params["identifier"][0]) {
		parts := splitEscaped(alt, '|')
		if len(parts) != 2 || parts[1] == "" {
			return nil
		}
		out = append(out, [2]string{unescape(parts[0]), unescape(parts[1])})
	}
	return out
}

func containsResource(rs []*store.Resource, r *store.Resource) bool {
	for _, x := range rs {
		if x.Type == r.Type && x.ID == r.ID {
			return true
		}
	}
	return false
}
