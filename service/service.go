// Package service implements the FHIR R4 interactions (http.html) over a
// store.Store, independent of HTTP: validation of every write, versioning
// rules, conditional create/update/delete/patch, JSON Patch, history,
// search, and batch/transaction Bundles. fhir/rest serves it over HTTP;
// pipelines call it in-process.
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// Validator checks a resource against the FHIR R4 definitions.
// *validate.Validator implements it.
type Validator interface {
	// Resource returns nil or a *fhir.Error listing every problem.
	Resource(obj fhir.Object) error
	// IsResourceType reports whether name is an R4 resource type.
	IsResourceType(name string) bool
	// ResourceTypes lists the resource types, sorted.
	ResourceTypes() []string
}

// Config configures a Service.
type Config struct {
	Store     store.Store
	Validator Validator
	Registry  *search.Registry
	// BaseURL is the server's FHIR base ("http://localhost:8080/fhir"):
	// absolute references starting with it are local.
	BaseURL string
	Logger  *slog.Logger
	// NewID returns ids for created resources (nil: random UUIDs).
	NewID func() string
	// MaxBundleEntries bounds batch and transaction size (0: 10,000).
	MaxBundleEntries int
}

// Service is the FHIR interactions over a store.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service; it checks that cfg is complete.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Validator == nil || cfg.Registry == nil {
		return nil, errors.New("service: config needs Store, Validator and Registry")
	}
	if cfg.NewID == nil {
		cfg.NewID = NewUUID
	}
	if cfg.MaxBundleEntries <= 0 {
		cfg.MaxBundleEntries = 10000
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log}, nil
}

// Registry returns the search-parameter registry.
func (s *Service) Registry() *search.Registry { return s.cfg.Registry }

// Validator returns the validator.
func (s *Service) Validator() Validator { return s.cfg.Validator }

// NewUUID returns a random (version 4) UUID string.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ErrPreconditionFailed marks errors that FHIR answers with 412: If-Match
// on another version, or conditional criteria matching several resources.
var ErrPreconditionFailed = errors.New("service: precondition failed")

// Result is the outcome of a write or read interaction.
type Result struct {
	// Resource is the version read or written (for a delete: the deletion
	// version; nil when a conditional delete matched nothing).
	Resource *store.Resource
	// Status is the HTTP status the FHIR specification gives the
	// interaction's outcome (201 created, 200 updated or found, 204 ...).
	Status int
}

// Status returns the HTTP status for err, following FHIR R4 http.html:
// 400 invalid input, 404 unknown, 405, 409 version conflict, 410 deleted,
// 412 preconditions, 422 business rules, 500 for anything unexpected.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, store.ErrDeleted):
		return http.StatusGone
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrVersionConflict):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	switch fhir.ErrorCode(err) {
	case fhir.IssueInvalid, fhir.IssueStructure, fhir.IssueRequired, fhir.IssueValue,
		fhir.IssueInvariant, fhir.IssueCodeInvalid, fhir.IssueTooLong:
		return http.StatusBadRequest
	case fhir.IssueNotFound:
		return http.StatusNotFound
	case fhir.IssueDeleted:
		return http.StatusGone
	case fhir.IssueNotSupported:
		return http.StatusBadRequest
	case fhir.IssueConflict, fhir.IssueDuplicate:
		return http.StatusConflict
	case fhir.IssueMultipleMatches:
		return http.StatusPreconditionFailed
	case fhir.IssueBusinessRule, fhir.IssueProcessing:
		return http.StatusUnprocessableEntity
	case fhir.IssueSecurity, fhir.IssueLogin:
		return http.StatusUnauthorized
	case fhir.IssueForbidden:
		return http.StatusForbidden
	case fhir.IssueTooCostly:
		return http.StatusBadRequest
	case fhir.IssueThrottled:
		return http.StatusTooManyRequests
	case fhir.IssueTimeout:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// CriteriaLocks returns the names of the locks a conditional interaction
// with criteria q takes before it may create, sorted: criteria of one
// parameter with alternatives (FHIR OR, "identifier=a,b", as HL7 v2
// patients with several identifiers are matched) take one lock per
// alternative, so that criteria that can match the same resource
// ("identifier=a,b" and "identifier=b,c") share a lock; other criteria
// take one lock, their canonical form.
func CriteriaLocks(typ string, q url.Values) []string {
	if len(q) == 1 {
		for k, vs := range q {
			if len(vs) == 1 {
				if alts := splitOr(vs[0]); len(alts) > 1 {
					out := make([]string, len(alts))
					for i, a := range alts {
						out[i] = CanonicalCriteria(typ, url.Values{k: {a}})
					}
					sort.Strings(out)
					return slices.Compact(out)
				}
			}
		}
	}
	return []string{CanonicalCriteria(typ, q)}
}

// splitOr splits a search parameter value at its unescaped commas
// (search.html#escaping: "\," is a comma inside a value).
func splitOr(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case ',':
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// CanonicalCriteria returns the search criteria of a conditional
// interaction in a canonical form (parameters and values sorted).
func CanonicalCriteria(typ string, q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(typ)
	b.WriteByte('?')
	for i, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for j, v := range vs {
			if i > 0 || j > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}
