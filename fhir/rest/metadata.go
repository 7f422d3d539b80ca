package rest

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
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
	rest := fhir.Object{
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
	}
	if a.cfg.Auth != nil {
		rest["security"] = a.security()
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
		"rest":        []any{rest},
	}
}

// security is the CapabilityStatement's rest.security: SMART-on-FHIR,
// with the token endpoint in the oauth-uris extension (SMART App Launch
// conformance.html).
func (a *API) security() fhir.Object {
	description := "Every interaction but /metadata and /.well-known/smart-configuration needs a bearer token; " +
		"SMART v2 (and v1) scopes and the token's role together decide what it may do; patient/ scopes confine " +
		"reads, searches and writes to the token's patient's compartment. Every interaction stays in the " +
		"token's tenant (another tenant's resources are not found) and, with a facility claim, in that facility " +
		"and the tenant's untagged resources (meta.tag " + store.FacilitySystem + ")."
	if a.cfg.Audit != nil {
		description += " Every interaction, and each entry of a batch or transaction, is recorded as an AuditEvent " +
			"(readable with the admin role)."
	}
	sec := fhir.Object{
		"cors": a.cfg.CORS,
		"service": []any{fhir.Object{
			"coding": []any{fhir.Object{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}},
			"text":   "OAuth2 bearer tokens with SMART scopes (RS256/ES256 JWTs)",
		}},
		"description": description,
	}
	var uris []any
	if a.cfg.SMART.TokenEndpoint != "" {
		uris = append(uris, fhir.Object{"url": "token", "valueUri": a.cfg.SMART.TokenEndpoint})
	}
	if len(uris) > 0 {
		sec["extension"] = []any{fhir.Object{
			"url":       "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": uris,
		}}
	}
	return sec
}

// smartConfiguration: GET [base]/.well-known/smart-configuration, the
// SMART App Launch discovery document (public).
func (a *API) smartConfiguration(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Auth == nil {
		return fhir.Errorf(fhir.IssueNotFound, "this server runs without authorization")
	}
	s := a.cfg.SMART
	doc := map[string]any{
		"capabilities": []string{"permission-v1", "permission-v2", "permission-patient", "permission-user"},
		"scopes_supported": []string{"patient/*.rs", "patient/*.cruds", "user/*.rs", "user/*.cruds", "system/*.rs", "system/*.cruds",
			"patient/*.read", "patient/*.write", "user/*.read", "user/*.write", "system/*.read", "system/*.write"},
		"grant_types_supported": []string{},
	}
	if s.Issuer != "" {
		doc["issuer"] = s.Issuer
	}
	if s.JWKSURI != "" {
		doc["jwks_uri"] = s.JWKSURI
	}
	if s.TokenEndpoint != "" {
		doc["token_endpoint"] = s.TokenEndpoint
	}
	if s.ClientCredentials {
		doc["grant_types_supported"] = []string{"client_credentials"}
		doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic"}
		doc["capabilities"] = append(doc["capabilities"].([]string), "client-confidential-symmetric")
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}
