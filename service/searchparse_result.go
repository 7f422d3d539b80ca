package service

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// parseCount reads _count (search.html#count): a page size; 0 asks for
// the total only. The store bounds large values.
func (p *parser) parseCount(raw string) error {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 0 {
		return invalidParam("_count", "_count must be a non-negative integer, not %q", raw)
	}
	p.q.Count = n
	if n == 0 {
		p.q.CountOnly = true
	}
	return nil
}

// parseTotal reads _total (search.html#total): none, estimate or accurate.
func (p *parser) parseTotal(raw string) error {
	switch t := store.TotalMode(raw); t {
	case store.TotalNone, store.TotalEstimate, store.TotalAccurate:
		p.q.Total = t
		return nil
	}
	return invalidParam("_total", "_total must be none, estimate or accurate, not %q", raw)
}

// sortTypes are the parameter types _sort accepts.
var sortTypes = []search.Type{
	search.TypeString, search.TypeToken, search.TypeDate, search.TypeNumber,
	search.TypeQuantity, search.TypeReference, search.TypeURI,
}

// parseSort reads _sort (search.html#sort): a comma-separated list of
// parameters, each descending when prefixed by '-'. _id and _lastUpdated
// sort on the resource itself. A key that is unknown or of a type that
// cannot be sorted on is left out with a warning.
func (p *parser) parseSort(raw string) error {
	for _, key := range strings.Split(raw, ",") {
		key = strings.TrimSpace(key)
		desc := strings.HasPrefix(key, "-")
		code := strings.TrimPrefix(key, "-")
		if code == "" {
			continue
		}
		if code == "_id" || code == "_lastUpdated" {
			typ := "token"
			if code == "_lastUpdated" {
				typ = "date"
			}
			p.q.Sort = append(p.q.Sort, store.SortKey{Param: code, Type: typ, Descending: desc})
			continue
		}
		sp := p.lookup(p.types, code)
		switch {
		case sp == nil:
			p.warn("_sort", "unknown _sort parameter "+strconv.Quote(code)+": ignored")
		case !slices.Contains(sortTypes, sp.Type) || sp.Expression == "":
			p.warn("_sort", "_sort by "+string(sp.Type)+" parameter "+strconv.Quote(code)+" is not supported: ignored")
		default:
			p.q.Sort = append(p.q.Sort, store.SortKey{Param: code, Type: string(sp.Type), Descending: desc})
		}
	}
	return nil
}

// parseInclude reads one _include or _revinclude value
// (search.html#include): "Type:param", "Type:param:TargetType",
// "Type:*" or, for _include, "*" (every reference of the matches).
// mod is "iterate" (or R3's "recurse") for :iterate. For _revinclude,
// "Type:*" becomes one include per reference parameter of Type. An
// unknown type or parameter is left out with a warning.
func (p *parser) parseInclude(rev bool, mod, raw string) error {
	name := "_include"
	if rev {
		name = "_revinclude"
	}
	if mod != "" && mod != "iterate" && mod != "recurse" {
		return invalidParam(name+":"+mod, "unknown modifier :%s on %s", mod, name)
	}
	iterate := mod != ""
	for _, v := range strings.Split(raw, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		incs, msg := p.include(rev, v, iterate)
		if msg != "" {
			p.warn(name, msg)
			continue
		}
		if rev {
			p.q.RevInclude = append(p.q.RevInclude, incs...)
		} else {
			p.q.Include = append(p.q.Include, incs...)
		}
	}
	return nil
}

// include resolves one include value, or returns why it is left out.
func (p *parser) include(rev bool, v string, iterate bool) ([]store.Include, string) {
	if v == "*" {
		if rev {
			return nil, "_revinclude=* is not supported: ignored"
		}
		return []store.Include{{SourceType: "*", Param: "*", Iterate: iterate}}, ""
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, "include " + strconv.Quote(v) + " must be Type:parameter[:TargetType]: ignored"
	}
	typ, code := parts[0], parts[1]
	if p.reg.Params(typ) == nil {
		return nil, "include " + strconv.Quote(v) + ": unknown resource type: ignored"
	}
	target := ""
	if len(parts) == 3 {
		target = parts[2]
		if p.reg.Params(target) == nil {
			return nil, "include " + strconv.Quote(v) + ": unknown target type: ignored"
		}
	}
	if code == "*" {
		if !rev {
			return []store.Include{{SourceType: typ, Param: "*", TargetType: target, Iterate: iterate}}, ""
		}
		var out []store.Include
		for _, sp := range p.reg.Params(typ) {
			if sp.Type == search.TypeReference && sp.Expression != "" && (target == "" || len(sp.Targets) == 0 || slices.Contains(sp.Targets, target)) {
				out = append(out, store.Include{SourceType: typ, Param: sp.Code, TargetType: target, Iterate: iterate})
			}
		}
		return out, ""
	}
	sp := p.reg.Lookup(typ, code)
	if sp == nil || sp.Type != search.TypeReference {
		return nil, "include " + strconv.Quote(v) + ": " + code + " is not a reference parameter of " + typ + ": ignored"
	}
	if target != "" && len(sp.Targets) > 0 && !slices.Contains(sp.Targets, target) {
		return nil, "include " + strconv.Quote(v) + ": " + typ + "." + code + " cannot refer to " + target + ": ignored"
	}
	return []store.Include{{SourceType: typ, Param: code, TargetType: target, Iterate: iterate}}, ""
}
