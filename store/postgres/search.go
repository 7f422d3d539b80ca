package postgres

import (
	"context"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// Search implements store.Reader.
func (r reader) Search(ctx context.Context, q *store.SearchQuery) (*store.SearchResult, error) {
	return nil, fhir.Errorf(fhir.IssueNotSupported, "search is not available yet")
}
