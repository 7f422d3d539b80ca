package store

import "time"

// SearchQuery is a parsed FHIR search (R4 search.html), resolved against the
// search-parameter registry: what the store must select, in which order,
// and which page.
type SearchQuery struct {
	// Type is the resource type searched; "" for a search across all types.
	Type string
	// Types, for a search across types (Type ""), restricts it to these
	// resource types (_type); parameter clauses need it, because index
	// rows are keyed by resource type.
	Types []string
	// Where holds the clauses that must all hold (AND).
	Where []Clause
	// Sort keys, most significant first; empty means the store's stable
	// default order (resource creation order).
	Sort []SortKey
	// Count is the page size (0 means the store's default).
	Count int
	// CountOnly asks for Total only, without matches (_count=0,
	// _summary=count).
	CountOnly bool
	// Cursor is the opaque position of the page wanted, from a previous
	// SearchResult; "" is the first page.
	Cursor string
	// Total says whether and how to count all matches.
	Total TotalMode
	// Include and RevInclude name the references to follow from the page's
	// matches (_include, _revinclude); Iterate repeats over included ones.
	Include    []Include
	RevInclude []Include
	// MaxIncludes bounds the included resources returned with one page.
	MaxIncludes int
}

// TotalMode is _total.
type TotalMode string

// _total values.
const (
	TotalNone     TotalMode = "none"
	TotalEstimate TotalMode = "estimate"
	TotalAccurate TotalMode = "accurate"
)

// Clause is one search parameter with its values: a match of any value
// (OR) satisfies the clause.
type Clause struct {
	// Param is the search parameter code ("identifier", "birthdate") or one
	// of the resource-level names _id, _lastUpdated.
	Param string
	// Type is the parameter's type: string, token, date, number, quantity,
	// reference, uri, composite, special.
	Type string
	// Modifier is the modifier after ':' ("exact", "contains", "missing",
	// "not", "text", "of-type", "below", "above", "identifier", or a
	// resource type for reference parameters), or "".
	Modifier string
	// Chain, for a reference parameter, continues the search on the
	// referenced resources (subject:Patient.name=x).
	Chain *Chain
	// Has is a reverse chain (_has:Observation:subject:code=x); Param is
	// "_has" then.
	Has *Has
	// Targets, for a reference parameter, are the resource types it may
	// point at: a bare id matches a reference to any of them, and a chain
	// without TargetType continues on all of them.
	Targets []string
	// Values are alternatives (OR).
	Values []Value
	// Components, for composite parameters, name the component parameters
	// and types in order; each Value then has Parts.
	Components []Clause
}

// Chain is the continuation of a chained reference search.
type Chain struct {
	// TargetType is the type of the referenced resources; "" when the
	// chain continues on every type of the reference clause's Targets
	// (each of which defines the chained parameter).
	TargetType string
	Clause     Clause
}

// Has is a reverse chain: resources of Type whose reference parameter
// RefParam points at the searched resource and which satisfy Clause.
type Has struct {
	Type     string
	RefParam string
	Clause   Clause
}

// Value is one alternative of a clause, parsed according to the parameter
// type.
type Value struct {
	// Raw is the value as given, without its prefix (escapes resolved).
	Raw string
	// Prefix is eq, ne, gt, lt, ge, le, sa, eb or ap (date, number, quantity).
	Prefix string
	// Missing is the value of a :missing clause.
	Missing bool

	// token: System set when HasSystem ("system|code", "|code", "system|").
	System    string
	Code      string
	HasSystem bool

	// date: the range the value's precision covers.
	Lo, Hi time.Time

	// number and quantity: the value and its precision range.
	Number       float64
	NumLo, NumHi float64
	UnitSystem   string
	UnitCode     string
	HasUnit      bool

	// reference: Type/ID of a local reference (Type may be "" for a bare
	// id), or URL for an absolute or canonical one.
	RefType string
	RefID   string
	URL     string

	// Parts are a composite value's component values; for a token
	// :of-type value, the identifier type (System, Code) and the
	// identifier value (Code).
	Parts []Value
}

// SortKey is one _sort key.
type SortKey struct {
	Param      string // code, or _id, _lastUpdated
	Type       string
	Descending bool
}

// Include is one _include or _revinclude: SourceType:Param[:TargetType].
type Include struct {
	SourceType string
	Param      string // "*" for all reference parameters
	TargetType string
	Iterate    bool
}

// SearchResult is one page of matches and the resources they include.
type SearchResult struct {
	Matches  []*Resource
	Included []*Resource
	// Total is the number of matches (-1 when not counted); Estimated
	// tells whether it is an estimate.
	Total     int64
	Estimated bool
	// Next and Prev are cursors for the neighbouring pages ("" when none).
	Next string
	Prev string
	// Warnings are issues to report to the client (e.g. includes truncated).
	Warnings []string
}
