package rest

import (
	"net/http"
	"sort"

	"github.com/fhirhub/fhirhub/fhir"
)

// metadata: GET [base]/metadata, the CapabilityStatement generated (per
// request, as custom SearchParameters may have been added) from
// what this server implements: every resource type with its interactions,
// search parameters from the registry, result parameters and operations.
func (a *API) metadata(w http.ResponseWriter, r *http.Request) error {
	writeResource(w, r, http.StatusOK, a.capabilityStatement())
	return nil
}

func (a *API) capabilityStatement() fhir.Object {
	types := append([]string(nil), a.cfg.ResourceTypes...)
	sort.Strings(types)
	interactions := []any{}
	for _, code := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
		interactions = append(interactions, fhir.Object{"code": code})
	}
	resources := make([]any, 0, len(types))
	for _, t := range types {
		var params []any
		for _, p := range a.svc.Registry().Params(t) {
			sp := fhir.Object{"name": p.Code, "type": string(p.Type)}
			if p.URL != "" {
				sp["definition"] = p.URL
			}
			params = append(params, sp)
		}
		res := fhir.Object{
			"type":              t,
			"interaction":       interactions,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalCreate": true,
			"conditionalRead":   "full-support",
			"conditionalUpdate": true,
			"conditionalDelete": "single",
			"referencePolicy":   []any{"literal", "logical"},
			"searchInclude":     []any{"*"},
			"searchRevInclude":  []any{"*"},
			"operation": []any{fhir.Object{
				"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}},
		}
		if len(params) > 0 {
			res["searchParam"] = params
		}
		resources = append(resources, res)
	}
	version := a.cfg.Version
	if version == "" {
		version = "dev"
	}
	return fhir.Object{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         fhir.FormatInstant(a.start),
		"kind":         "instance",
		"software":     fhir.Object{"name": "fhirhub", "version": version},
		"implementation": fhir.Object{
			"description": "fhirhub FHIR R4 server",
			"url":         a.cfg.BaseURL,
		},
		"fhirVersion": "4.0.1",
		"format":      []any{"application/fhir+json", "json"},
		"patchFormat": []any{"application/json-patch+json"},
		"rest": []any{fhir.Object{
			"mode":     "server",
			"resource": resources,
			"interaction": []any{
				fhir.Object{"code": "transaction"},
				fhir.Object{"code": "batch"},
				fhir.Object{"code": "search-system"},
				fhir.Object{"code": "history-system"},
			},
			"searchParam": []any{
				fhir.Object{"name": "_id", "type": "token"},
				fhir.Object{"name": "_lastUpdated", "type": "date"},
				fhir.Object{"name": "_count", "type": "number"},
				fhir.Object{"name": "_sort", "type": "string"},
				fhir.Object{"name": "_include", "type": "special"},
				fhir.Object{"name": "_revinclude", "type": "special"},
				fhir.Object{"name": "_total", "type": "token"},
				fhir.Object{"name": "_summary", "type": "token"},
				fhir.Object{"name": "_elements", "type": "string"},
				fhir.Object{"name": "_has", "type": "special"},
			},
		}},
	}
}
