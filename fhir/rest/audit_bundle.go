package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
)

// The entries of a processed batch or transaction Bundle are audited one
// by one: who read, created, updated or deleted what, inside the Bundle.
// Their events carry the Bundle's request id, so they link to the
// Bundle's own event. A transaction that fails records only the Bundle's
// event (nothing of it took effect); a batch records every entry with its
// own outcome.

// noteBundleEntries prepares the AuditEvent of each entry of the
// processed Bundle req (kind batch or transaction) from the entry's
// request and its response in out; the request's AuditEvent is followed
// by them.
func noteBundleEntries(r *http.Request, kind string, req, out fhir.Object) {
	ex := exchangeOf(r.Context())
	if ex == nil {
		return
	}
	requests, _ := req["entry"].([]any)
	responses, _ := out["entry"].([]any)
	ex.entries = make([]audit.Event, 0, len(requests))
	for i, e := range requests {
		var resp fhir.Object
		if i < len(responses) {
			re, _ := responses[i].(fhir.Object)
			resp, _ = re["response"].(fhir.Object)
		}
		em, _ := e.(fhir.Object)
		ex.entries = append(ex.entries, entryEvent(kind, i, em, resp))
	}
}

// entryEvent returns the AuditEvent of Bundle entry i (request part of
// entry, response resp): its interaction, action, entity and outcome; the
// caller's part is filled in by record.
func entryEvent(kind string, i int, entry, resp fhir.Object) audit.Event {
	req, _ := entry["request"].(fhir.Object)
	method, _ := req["method"].(string)
	rawURL, _ := req["url"].(string)
	path, query, _ := strings.Cut(rawURL, "?")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	typ, id := parts[0], ""
	if strings.HasPrefix(typ, "_") || strings.HasPrefix(typ, "$") {
		typ = ""
	}
	if len(parts) >= 2 && !strings.HasPrefix(parts[1], "_") {
		id = parts[1]
	}
	ev := audit.Event{
		Interaction:  entryInteraction(method, parts, kind),
		ResourceType: typ,
		Entry:        "Bundle.entry[" + strconv.Itoa(i) + "]",
		Description:  "entry " + strconv.Itoa(i) + " of a " + kind + " Bundle",
	}
	status, _, _ := strings.Cut(stringOf(resp["status"]), " ")
	ev.Status, _ = strconv.Atoi(status)
	if ev.Status == 0 {
		ev.Status = http.StatusInternalServerError // no response: not processed
	}
	if ev.Status >= 400 {
		oo, _ := resp["outcome"].(fhir.Object)
		ev.IssueCode = stringOf(get1(oo, "issue", "code"))
	}
	switch {
	case method == http.MethodPost:
		ev.Query, _ = req["ifNoneExist"].(string)
	case query != "":
		// A search's parameters or a conditional write's criteria.
		ev.Query = query
	}
	if loc := stringOf(resp["location"]); loc != "" {
		ev.What = relativeReference(loc)
	} else if typ != "" && id != "" {
		ev.What = typ + "/" + id
		switch {
		case len(parts) == 4:
			ev.What += "/_history/" + parts[3]
		case len(parts) == 2 && ev.Status < 400:
			if v, err := service.ParseETag(stringOf(resp["etag"])); err == nil {
				ev.What += "/_history/" + strconv.FormatInt(v, 10)
			}
		}
	}
	return ev
}

// entryInteraction returns the restful-interaction code of a Bundle entry
// by its method and URL path parts; kind for an entry it cannot name.
func entryInteraction(method string, parts []string, kind string) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	case http.MethodGet, http.MethodHead:
	default:
		return kind
	}
	switch {
	case parts[0] == "" || parts[0] == "_search":
		return "search-system"
	case parts[0] == "_history":
		return "history-system"
	case len(parts) == 1 || parts[1] == "_search":
		return "search-type"
	case parts[1] == "_history":
		return "history-type"
	case len(parts) == 2:
		return "read"
	case len(parts) == 3:
		return "history-instance"
	}
	return "vread"
}

// relativeReference turns an absolute location ([base]/Type/id/...) into
// Type/id/....
func relativeReference(loc string) string {
	if !strings.Contains(loc, "://") {
		return loc
	}
	parts := strings.Split(loc, "/")
	for i := len(parts) - 1; i >= 1; i-- {
		if parts[i] == "_history" && i >= 2 {
			return strings.Join(parts[i-2:], "/")
		}
	}
	if len(parts) >= 2 {
		return strings.Join(parts[len(parts)-2:], "/")
	}
	return loc
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// get1 returns obj[list][0][key].
func get1(obj fhir.Object, list, key string) any {
	items, _ := obj[list].([]any)
	if len(items) == 0 {
		return nil
	}
	first, _ := items[0].(fhir.Object)
	return first[key]
}
