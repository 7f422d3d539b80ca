// Package search holds the R4 search parameters and turns resources into
// the index values that searches are answered from (FHIR R4 search.html;
// searchparameter.html for the SearchParameter resource; fhirpath.html for
// the expressions).
//
// A Registry knows every search parameter of every resource type: the
// 1,378 official R4 SearchParameters, generated from the R4 definitions
// into an embedded file (go generate; see internal/gen), and custom ones
// added with Registry.Add. Each parameter's FHIRPath expression is
// compiled once per resource type into Go closures, checked against the R4
// type model: element names are verified, choice elements (value[x]) and
// ofType()/as on them become lookups of the JSON keys (valueQuantity),
// and the datatype of every selected element is known, which decides how it
// is indexed. Registry.Extract runs the compiled expressions on a parsed
// resource and converts what they select into Values: strings, tokens,
// date ranges, numbers and quantities with the range their precision
// implies, references, URIs and composite combinations.
//
// The compiler covers the FHIRPath used by search expressions: paths,
// unions, where(), exists(), first(), indexers, ofType()/as/is,
// extension(url), boolean logic, equality and comparison, %resource, and a
// few string and collection functions. resolve() can only be type-tested,
// as in where(resolve() is Patient): it tells a reference's target type
// from the reference itself ("Patient/1", Reference.type) without reading
// the target, so references whose type cannot be told that way
// (urn:uuid:..., #contained) are not selected by such a filter. Primitive
// extensions (the "_birthDate" siblings) are not seen.
//
// ParseDate and Normalize give the forms that date and string searches
// compare. The package is pure: it does no I/O.
package search
