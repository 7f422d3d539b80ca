package service

import (
	"context"
	"errors"
	"net/url"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// registerSearchParameter makes an active SearchParameter resource being
// written take effect in the registry: index values of resources written
// from now on include it; resources stored before need $reindex. A
// parameter that cannot be compiled is refused with 400, so that what is
// stored is always usable. (A write that fails after this point leaves the
// parameter registered until restart: it then only adds index rows.)
//
// The registry serves every tenant, so an active SearchParameter may be
// written only in the default tenant, by the deployment; a tenant's write
// is refused (forbidden) rather than changing the others' searches.
func (s *Service) registerSearchParameter(ctx context.Context, obj fhir.Object) error {
	if fhir.ResourceType(obj) != "SearchParameter" {
		return nil
	}
	if status, _ := obj["status"].(string); status != "active" {
		return nil
	}
	if store.ScopeFrom(ctx).Tenant != "" {
		return fhir.Errorf(fhir.IssueForbidden, "an active SearchParameter applies to every tenant: it needs a token of the deployment (no tenant)").At("SearchParameter.status")
	}
	return s.cfg.Registry.Add(obj)
}

// LoadSearchParameters registers every active SearchParameter resource in
// the store (custom parameters written earlier), so that a restarted
// server searches them. It returns how many it registered; parameters that
// no longer compile are skipped and reported in the error.
func (s *Service) LoadSearchParameters(ctx context.Context) (int, error) {
	params := url.Values{"status": {"active"}, "_count": {"200"}}
	n := 0
	var errs []error
	for {
		res, _, _, err := s.Search(ctx, "SearchParameter", params)
		if err != nil {
			return n, err
		}
		for _, r := range res.Matches {
			obj, err := fhir.ParseObject(r.Content)
			if err == nil {
				err = s.cfg.Registry.Add(obj)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
		if res.Next == "" {
			return n, errors.Join(errs...)
		}
		params.Set(CursorParam, res.Next)
	}
}

// Reindexer recomputes index rows; *postgres.Store implements it.
type Reindexer interface {
	Reindex(ctx context.Context, typ string) (int, error)
}

// Reindex recomputes the search index of every resource of typ ("" for
// all), so that search parameters registered since they were written
// apply to them. It runs synchronously and returns the count.
func (s *Service) Reindex(ctx context.Context, typ string) (int, error) {
	if typ != "" {
		if err := s.checkType(typ); err != nil {
			return 0, err
		}
	}
	ri, ok := s.cfg.Store.(Reindexer)
	if !ok {
		return 0, fhir.Errorf(fhir.IssueNotSupported, "this store cannot reindex")
	}
	return ri.Reindex(ctx, typ)
}
