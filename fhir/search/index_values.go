package search

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// Conversion of selected elements to index values, by parameter type and
// FHIR datatype (R4 search.html, the "type" sections of each parameter
// type). Elements of a datatype a parameter type cannot use are skipped.

// sink appends the values of one parameter to a Values.
type sink struct {
	m     *model
	v     *Values
	param string
	expr  string // for errors
}

func (s *sink) add(typ Type, n node) error {
	switch typ {
	case TypeString:
		s.addString(n)
	case TypeToken:
		s.addToken(n)
	case TypeDate:
		return s.addDate(n)
	case TypeNumber:
		return s.addNumber(n)
	case TypeQuantity:
		return s.addQuantity(n)
	case TypeReference:
		s.addReference(n)
	case TypeURI:
		if str, ok := n.v.(string); ok && str != "" {
			s.v.URIs = append(s.v.URIs, URI{Param: s.param, Value: str})
		}
	}
	return nil
}

func (s *sink) fail(msg string, value any) error {
	return fhir.Errorf(fhir.IssueValue, "search parameter %s: %s %v", s.param, msg, value).At(s.expr)
}

func str(m map[string]any, key string) string {
	v, _ := m[key].(string)
	return v
}

// strs returns the string or strings of m[key].
func strs(m map[string]any, key string, f func(string)) {
	switch v := m[key].(type) {
	case string:
		f(v)
	case []any:
		for _, e := range v {
			if x, ok := e.(string); ok {
				f(x)
			}
		}
	}
}

// addString indexes string, markdown and the other string primitives,
// HumanName (family, given, prefix, suffix, text) and Address (line,
// city, district, state, postalCode, country, text).
func (s *sink) addString(n node) {
	add := func(v string) {
		if v != "" {
			s.v.Strings = append(s.v.Strings, String{Param: s.param, Value: v})
		}
	}
	switch v := n.v.(type) {
	case string:
		add(v)
	case map[string]any:
		switch n.t.name {
		case "HumanName":
			for _, k := range [...]string{"family", "given", "prefix", "suffix", "text"} {
				strs(v, k, add)
			}
		case "Address":
			for _, k := range [...]string{"line", "city", "district", "state", "postalCode", "country", "text"} {
				strs(v, k, add)
			}
		}
	}
}

// addToken indexes Coding, CodeableConcept (one token per coding with its
// display, and one with only Display = text when text is present),
// Identifier (one token per Identifier.type coding, for :of-type),
// ContactPoint (System = use), and code, string, uri, id, boolean and
// other primitives as a code without system.
func (s *sink) addToken(n node) {
	tok := func(t Token) {
		if t.System != "" || t.Code != "" || t.Display != "" {
			t.Param = s.param
			s.v.Tokens = append(s.v.Tokens, t)
		}
	}
	switch v := n.v.(type) {
	case string:
		tok(Token{Code: v})
	case bool:
		tok(Token{Code: strconv.FormatBool(v)})
	case json.Number:
		tok(Token{Code: string(v)})
	case map[string]any:
		switch n.t.name {
		case "Coding":
			tok(Token{System: str(v, "system"), Code: str(v, "code"), Display: str(v, "display")})
		case "CodeableConcept":
			codings, _ := v["coding"].([]any)
			for _, c := range codings {
				if cm, ok := c.(map[string]any); ok {
					tok(Token{System: str(cm, "system"), Code: str(cm, "code"), Display: str(cm, "display")})
				}
			}
			tok(Token{Display: str(v, "text")})
		case "Identifier":
			t := Token{System: str(v, "system"), Code: str(v, "value")}
			typ, _ := v["type"].(map[string]any)
			t.Display = str(typ, "text")
			codings, _ := typ["coding"].([]any)
			n := 0
			for _, c := range codings {
				if cm, ok := c.(map[string]any); ok {
					tt := t
					tt.OfTypeSystem, tt.OfTypeCode = str(cm, "system"), str(cm, "code")
					tok(tt)
					n++
				}
			}
			if n == 0 {
				tok(t)
			}
		case "ContactPoint":
			tok(Token{System: str(v, "use"), Code: str(v, "value")})
		}
	}
}

// addDate indexes date, dateTime and instant values, Period (open ends
// are MinTime and MaxTime) and Timing (each event, and repeat.boundsPeriod).
func (s *sink) addDate(n node) error {
	switch v := n.v.(type) {
	case string:
		if n.t.system != "Date" && n.t.system != "DateTime" && n.t.kind != kindAny {
			return nil // time, or a string element
		}
		lo, hi, ok := parseDate(v)
		if !ok {
			return s.fail("invalid date", strconv.Quote(v))
		}
		s.v.Dates = append(s.v.Dates, Date{Param: s.param, Lo: lo, Hi: hi})
	case map[string]any:
		switch n.t.name {
		case "Period":
			return s.addPeriod(v)
		case "Timing":
			var err error
			strs(v, "event", func(e string) {
				if lo, hi, ok := parseDate(e); ok {
					s.v.Dates = append(s.v.Dates, Date{Param: s.param, Lo: lo, Hi: hi})
				} else if err == nil {
					err = s.fail("invalid date", strconv.Quote(e))
				}
			})
			if err != nil {
				return err
			}
			if rep, ok := v["repeat"].(map[string]any); ok {
				if p, ok := rep["boundsPeriod"].(map[string]any); ok {
					return s.addPeriod(p)
				}
			}
		}
	}
	return nil
}

func (s *sink) addPeriod(p map[string]any) error {
	start, end := str(p, "start"), str(p, "end")
	if start == "" && end == "" {
		return nil
	}
	d := Date{Param: s.param, Lo: MinTime, Hi: MaxTime}
	if start != "" {
		lo, _, ok := parseDate(start)
		if !ok {
			return s.fail("invalid date", strconv.Quote(start))
		}
		d.Lo = lo
	}
	if end != "" {
		_, hi, ok := parseDate(end)
		if !ok {
			return s.fail("invalid date", strconv.Quote(end))
		}
		d.Hi = hi
	}
	s.v.Dates = append(s.v.Dates, d)
	return nil
}

// numberRange is NumberRange of a JSON number.
func numberRange(n json.Number) (v, lo, hi float64, ok bool) { return NumberRange(string(n)) }

// NumberRange returns the value of a decimal (JSON number syntax, or a
// search value) and the range its precision implies (R4
// search.html#number): "1.5" is [1.45, 1.55], "100" is [99.5, 100.5],
// "1.50e2" is [149.5, 150.5]. Index values and search values use it
// alike, so that they compare as the specification says.
func NumberRange(s string) (v, lo, hi float64, ok bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, 0, 0, false
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	decimals := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		decimals = len(frac)
	}
	if exp != "" {
		e, err := strconv.Atoi(exp)
		if err != nil {
			return 0, 0, 0, false
		}
		decimals -= e
	}
	half := 0.5 * math.Pow(10, float64(-decimals))
	return v, v - half, v + half, true
}

// addNumber indexes decimal and integer values.
func (s *sink) addNumber(n node) error {
	num, ok := n.v.(json.Number)
	if !ok {
		return nil
	}
	v, lo, hi, ok := numberRange(num)
	if !ok {
		return s.fail("invalid number", num)
	}
	s.v.Numbers = append(s.v.Numbers, Number{Param: s.param, Value: v, Lo: lo, Hi: hi})
	return nil
}

// Currency codes are quantities of this system (R4 search.html#quantity).
const currencySystem = "urn:iso:std:iso:4217"

// addQuantity indexes Quantity and its specialisations (Age, Count,
// Distance, Duration, SimpleQuantity), Money (currency as code in system
// urn:iso:std:iso:4217), Range (one value: the unit of low, or high, Value
// = low (or high), Lo = the low end of low or -Inf, Hi = the high end of
// high or +Inf) and plain numbers. A comparator opens the range on its
// side: "<5" is [-Inf, 5.5]. SampledData is not indexed.
func (s *sink) addQuantity(n node) error {
	switch v := n.v.(type) {
	case json.Number:
		val, lo, hi, ok := numberRange(v)
		if !ok {
			return s.fail("invalid number", v)
		}
		s.v.Quantities = append(s.v.Quantities, Quantity{Param: s.param, Value: val, Lo: lo, Hi: hi})
	case map[string]any:
		switch {
		case n.t.name == "Money":
			num, ok := v["value"].(json.Number)
			if !ok {
				return nil
			}
			val, lo, hi, ok := numberRange(num)
			if !ok {
				return s.fail("invalid number", num)
			}
			s.v.Quantities = append(s.v.Quantities, Quantity{Param: s.param, System: currencySystem, Code: str(v, "currency"), Value: val, Lo: lo, Hi: hi})
		case n.t.name == "Range":
			low, _ := v["low"].(map[string]any)
			high, _ := v["high"].(map[string]any)
			ql, okl, err := s.quantity(low)
			if err != nil {
				return err
			}
			qh, okh, err := s.quantity(high)
			if err != nil {
				return err
			}
			switch {
			case okl && okh:
				ql.Hi = qh.Hi
			case okh:
				ql = qh
				ql.Lo = math.Inf(-1)
			case okl:
				ql.Hi = math.Inf(1)
			default:
				return nil
			}
			s.v.Quantities = append(s.v.Quantities, ql)
		case n.t.name == "Quantity" || n.t.base != nil && n.t.base.name == "Quantity" || n.t.kind == kindAny:
			q, ok, err := s.quantity(v)
			if ok {
				s.v.Quantities = append(s.v.Quantities, q)
			}
			return err
		}
	}
	return nil
}

// quantity converts a Quantity object; ok is false without a value.
func (s *sink) quantity(m map[string]any) (q Quantity, ok bool, err error) {
	num, ok := m["value"].(json.Number)
	if !ok {
		return q, false, nil
	}
	v, lo, hi, ok := numberRange(num)
	if !ok {
		return q, false, s.fail("invalid number", num)
	}
	switch str(m, "comparator") {
	case "<", "<=":
		lo = math.Inf(-1)
	case ">", ">=":
		hi = math.Inf(1)
	}
	return Quantity{Param: s.param, System: str(m, "system"), Code: str(m, "code"), Unit: str(m, "unit"), Value: v, Lo: lo, Hi: hi}, true, nil
}

// addReference indexes Reference (see parseReference), canonical and uri
// values (URL, with a canonical's "|version" in Version) and resources
// (Bundle.entry[0].resource: Type and ID of the resource).
func (s *sink) addReference(n node) {
	switch v := n.v.(type) {
	case string:
		if v == "" {
			return
		}
		url, version := splitCanonical(v)
		s.v.References = append(s.v.References, Reference{Param: s.param, URL: url, Version: version})
	case map[string]any:
		if n.t.kind == kindResource {
			rt, id := str(v, "resourceType"), str(v, "id")
			if rt != "" && id != "" {
				s.v.References = append(s.v.References, Reference{Param: s.param, Type: rt, ID: id})
			}
			return
		}
		r, ok := parseReference(s.m, str(v, "reference"), str(v, "type"))
		if ok {
			r.Param = s.param
			s.v.References = append(s.v.References, r)
		}
	}
}
