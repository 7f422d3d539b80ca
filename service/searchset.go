package service

import (
	"net/url"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// CursorParam is the search parameter carrying the paging cursor in next
// and previous links.
const CursorParam = "_cursor"

// SearchBundle builds the searchset Bundle of a search result: matches
// (search.mode match) then included resources (include), links self, next
// and previous, total, and an OperationOutcome entry with the warnings.
// _summary and _elements in params shape each resource.
func (s *Service) SearchBundle(typ string, q *store.SearchQuery, params url.Values, res *store.SearchResult, warnings []fhir.Issue) fhir.Object {
	shape := s.Shape(params)
	entries := make([]any, 0, len(res.Matches)+len(res.Included)+1)
	if !shape.CountOnly {
		for _, r := range res.Matches {
			entries = append(entries, s.searchEntry(r, "match", shape))
		}
		for _, r := range res.Included {
			entries = append(entries, s.searchEntry(r, "include", shape))
		}
	}
	issues := append([]fhir.Issue(nil), warnings...)
	for _, w := range res.Warnings {
		issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueInformational, Diagnostics: w})
	}
	if len(issues) > 0 {
		entries = append(entries, fhir.Object{
			"resource": OutcomeOf(issues...),
			"search":   fhir.Object{"mode": "outcome"},
		})
	}
	b := fhir.Object{
		"resourceType": "Bundle",
		"id":           NewUUID(),
		"meta":         fhir.Object{"lastUpdated": fhir.FormatInstant(time.Now())},
		"type":         "searchset",
	}
	if res.Total >= 0 {
		b["total"] = res.Total
	}
	links := []any{s.link("self", typ, params, "")}
	if res.Next != "" {
		links = append(links, s.link("next", typ, params, res.Next))
	}
	if res.Prev != "" {
		links = append(links, s.link("previous", typ, params, res.Prev))
	}
	b["link"] = links
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return b
}

func (s *Service) link(rel, typ string, params url.Values, cursor string) fhir.Object {
	p := url.Values{}
	for k, v := range params {
		if k != CursorParam {
			p[k] = v
		}
	}
	if cursor != "" {
		p.Set(CursorParam, cursor)
	} else if c := params.Get(CursorParam); c != "" && rel == "self" {
		p.Set(CursorParam, c)
	}
	u := s.cfg.BaseURL
	if typ != "" {
		u += "/" + typ
	}
	if enc := p.Encode(); enc != "" {
		u += "?" + enc
	}
	return fhir.Object{"relation": rel, "url": u}
}

func (s *Service) searchEntry(r *store.Resource, mode string, shape Shape) fhir.Object {
	e := fhir.Object{"fullUrl": s.cfg.BaseURL + "/" + r.Reference(), "search": fhir.Object{"mode": mode}}
	if obj, err := fhir.ParseObject(r.Content); err == nil {
		e["resource"] = shape.Apply(obj)
	}
	return e
}

// HistoryBundle builds the history Bundle of a page: each version with
// its request (method, url) and response (status, etag, lastModified).
func (s *Service) HistoryBundle(page *store.HistoryPage, params url.Values, path string) fhir.Object {
	entries := make([]any, 0, len(page.Versions))
	for _, r := range page.Versions {
		e := fhir.Object{"fullUrl": s.cfg.BaseURL + "/" + r.Reference()}
		method, status, reqURL := r.Method, "200 OK", r.Type+"/"+r.ID
		switch r.Method {
		case "POST":
			status, reqURL = "201 Created", r.Type
		case "DELETE":
			status = "204 No Content"
		case "PATCH":
			method = "PATCH"
		}
		if r.Version == 1 && r.Method == "PUT" {
			status = "201 Created"
		}
		e["request"] = fhir.Object{"method": method, "url": reqURL}
		e["response"] = fhir.Object{
			"status":       status,
			"etag":         r.ETag(),
			"lastModified": fhir.FormatInstant(r.LastUpdated),
		}
		if len(r.Content) > 0 {
			if obj, err := fhir.ParseObject(r.Content); err == nil {
				e["resource"] = obj
			}
		}
		entries = append(entries, e)
	}
	b := fhir.Object{
		"resourceType": "Bundle",
		"id":           NewUUID(),
		"meta":         fhir.Object{"lastUpdated": fhir.FormatInstant(time.Now())},
		"type":         "history",
	}
	if page.Total >= 0 {
		b["total"] = page.Total
	}
	self := s.cfg.BaseURL + "/" + strings.TrimPrefix(path, "/")
	links := []any{fhir.Object{"relation": "self", "url": withQuery(self, params, "")}}
	if page.Next != "" {
		links = append(links, fhir.Object{"relation": "next", "url": withQuery(self, params, page.Next)})
	}
	b["link"] = links
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return b
}

func withQuery(u string, params url.Values, cursor string) string {
	p := url.Values{}
	for k, v := range params {
		if k != CursorParam {
			p[k] = v
		}
	}
	if cursor != "" {
		p.Set(CursorParam, cursor)
	}
	if enc := p.Encode(); enc != "" {
		return u + "?" + enc
	}
	return u
}

// Shape is how _summary and _elements reduce a returned resource.
type Shape struct {
	CountOnly bool
	Summary   string   // "", "true", "text", "data", "false"
	Elements  []string // top-level element names
	summary   Summarizer
}

// Summarizer knows the summary elements of each type (isSummary in the
// R4 definitions); *validate.Validator implements it.
type Summarizer interface {
	IsSummary(typeName, name string) bool
}

// Shape reads _summary and _elements from params.
func (s *Service) Shape(params url.Values) Shape {
	sh := NewShape(params)
	sh.summary, _ = s.cfg.Validator.(Summarizer)
	return sh
}

// NewShape reads _summary and _elements from params; _summary=true needs
// Service.Shape, which knows the summary elements.
func NewShape(params url.Values) Shape {
	sh := Shape{Summary: params.Get("_summary")}
	if sh.Summary == "count" {
		sh.CountOnly = true
		sh.Summary = ""
	}
	for _, v := range params["_elements"] {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				if _, rest, ok := strings.Cut(e, "."); ok { // "Patient.name" form
					e = rest
				}
				sh.Elements = append(sh.Elements, e)
			}
		}
	}
	return sh
}

// Apply returns obj reduced per the shape; mandatory elements (resourceType,
// id, meta) are always kept, and a reduced resource is tagged SUBSETTED
// (search.html#summary).
func (sh Shape) Apply(obj fhir.Object) fhir.Object {
	switch {
	case len(sh.Elements) > 0:
		out := fhir.Object{}
		for _, k := range []string{"resourceType", "id", "meta"} {
			if v, ok := obj[k]; ok {
				out[k] = v
			}
		}
		for _, e := range sh.Elements {
			if v, ok := obj[e]; ok {
				out[e] = v
			}
			if v, ok := obj["_"+e]; ok {
				out["_"+e] = v
			}
		}
		return subsetted(out)
	case sh.Summary == "data":
		out := fhir.Object{}
		for k, v := range obj {
			if k != "text" {
				out[k] = v
			}
		}
		return subsetted(out)
	case sh.Summary == "text":
		out := fhir.Object{}
		for _, k := range []string{"resourceType", "id", "meta", "text"} {
			if v, ok := obj[k]; ok {
				out[k] = v
			}
		}
		return subsetted(out)
	case sh.Summary == "true" && sh.summary != nil:
		out := fhir.Object{}
		typ := fhir.ResourceType(obj)
		for k, v := range obj {
			name := strings.TrimPrefix(k, "_")
			if k == "resourceType" || sh.summary.IsSummary(typ, name) {
				out[k] = v
			}
		}
		return subsetted(out)
	}
	return obj
}

func subsetted(obj fhir.Object) fhir.Object {
	meta, _ := obj["meta"].(map[string]any)
	m := fhir.Object{}
	for k, v := range meta {
		m[k] = v
	}
	tags, _ := m["tag"].([]any)
	m["tag"] = append(append([]any(nil), tags...), fhir.Object{
		"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"})
	obj["meta"] = m
	return obj
}
