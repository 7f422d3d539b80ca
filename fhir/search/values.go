package search

import "time"

// Values are the index entries extracted from one resource, grouped by the
// value type of their search parameter. Param is the parameter's code
// ("subject", "code", "birthdate"); together with the resource type it names
// the SearchParameter. The store writes each entry as one index row.
type Values struct {
	Strings    []String
	Tokens     []Token
	Dates      []Date
	Numbers    []Number
	Quantities []Quantity
	References []Reference
	URIs       []URI
	Composites []Composite
}

// String is a string-parameter value as found in the resource (not
// normalised; see Normalize for the form searches compare).
type String struct {
	Param string
	Value string
}

// Token is a coded value: Coding, CodeableConcept (one per coding, and one
// with only Display for CodeableConcept.text),
// Identifier (System = identifier.system, Code = identifier.value),
// ContactPoint (Code = value, System = the use), code, boolean ("true"),
// id. Display is the text a :text search matches (Coding.display,
// CodeableConcept.text, Identifier.type.text). OfTypeSystem/OfTypeCode are
// the Identifier.type coding, for :of-type.
type Token struct {
	Param        string
	System       string
	Code         string
	Display      string
	OfTypeSystem string
	OfTypeCode   string
}

// Date is a date, dateTime, instant, Period or Timing value as the closed
// range of instants [Lo, Hi] it covers, at microsecond resolution: the date
// "2024-03" is [2024-03-01T00:00:00, 2024-03-31T23:59:59.999999] in UTC
// (or the value's own offset). Open ends are MinTime and MaxTime.
type Date struct {
	Param string
	Lo    time.Time
	Hi    time.Time
}

// Number is a decimal or integer value with the range implied by its
// precision: 1.5 is [1.45, 1.55].
type Number struct {
	Param string
	Value float64
	Lo    float64
	Hi    float64
}

// Quantity is a Quantity (or Money, Duration, Age...) value. System/Code are
// the coded unit; Unit is the human unit text. Lo and Hi are the range the
// value's precision implies, opened to -Inf/+Inf by a comparator ("<5") or
// a missing end of a Range.
type Quantity struct {
	Param  string
	System string
	Code   string
	Unit   string
	Value  float64
	Lo     float64
	Hi     float64
}

// Reference is a reference value. For a reference to a resource on this
// server (relative "Patient/123", or absolute with our base) Type and ID are
// set; for any other absolute URL or canonical, URL is set (canonical
// "|version" suffix removed into Version).
//
// Extract sets Type and ID for relative references (a "/_history/n" suffix
// dropped), and URL for absolute URLs, urn:uuid:/urn:oid: references and
// unresolved conditional references ("Patient?identifier=..."); with URL,
// Type is also set when the reference names its type (".../Patient/123",
// "Patient?...", Reference.type). Mapping absolute URLs with this server's
// base to Type and ID is left to the caller, which knows the base.
type Reference struct {
	Param   string
	Type    string
	ID      string
	Version string
	URL     string
}

// URI is a uri, url or canonical value.
type URI struct {
	Param string
	Value string
}

// Composite is one combination of component values of a composite search
// parameter (R4 search.html#composite), extracted from the same element so
// that "code-value-quantity=loinc|1234$gt5" matches only when both parts
// belong together. Parts holds one value per component, in the order of the
// SearchParameter's components; each is a Token, Quantity, Date, String,
// Number, Reference or URI whose Param is the component's parameter code.
type Composite struct {
	Param string
	Parts []any
}

// MinTime and MaxTime stand for the open ends of a Date range.
var (
	MinTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)
