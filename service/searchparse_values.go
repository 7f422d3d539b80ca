package service

import (
	"regexp"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// values parses raw, the value of parameter name, into c's alternatives
// (search.html#combining: a comma separates alternatives). Empty
// alternatives are dropped; none left means the parameter is ignored.
func (p *parser) values(name string, c *store.Clause, raw string) ([]store.Value, error) {
	var out []store.Value
	for _, alt := range splitEscaped(raw, ',') {
		if alt == "" {
			continue
		}
		v, err := p.value(c, alt)
		if err != nil {
			if fe := fhir.AsError(err); fe != nil && len(fe.Expression) == 0 {
				fe.Expression = []string{name}
			}
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 && c.Modifier == "missing" {
		return nil, invalidParam(name, ":missing needs true or false")
	}
	return out, nil
}

// value parses one alternative (escapes still in place) of clause c.
func (p *parser) value(c *store.Clause, s string) (store.Value, error) {
	if c.Modifier == "missing" {
		switch s {
		case "true", "false":
			return store.Value{Raw: s, Missing: s == "true"}, nil
		}
		return store.Value{}, invalidParam("", ":missing needs true or false, not %q", unescape(s))
	}
	if c.Param == "_id" {
		return store.Value{Raw: unescape(s), Code: unescape(s)}, nil
	}
	switch search.Type(c.Type) {
	case search.TypeString, search.TypeURI:
		return store.Value{Raw: unescape(s)}, nil
	case search.TypeToken:
		return tokenValue(c.Modifier, s)
	case search.TypeDate:
		return dateValue(s)
	case search.TypeNumber:
		return numberValue(s)
	case search.TypeQuantity:
		return quantityValue(s)
	case search.TypeReference:
		return p.referenceValue(c, s)
	case search.TypeComposite:
		return compositeValue(c, s)
	}
	return store.Value{}, unsupportedParam(c.Param, "search parameter %s of type %s is not supported", c.Param, c.Type)
}

// tokenValue parses "code", "system|code", "|code" or "system|"
// (search.html#token); with :of-type "type-system|type-code|value", and
// with :text any text.
func tokenValue(mod, s string) (store.Value, error) {
	v := store.Value{Raw: unescape(s)}
	parts := splitEscaped(s, '|')
	switch mod {
	case "text":
		return v, nil
	case "of-type":
		if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return v, invalidParam("", ":of-type needs type-system|type-code|value, not %q", v.Raw)
		}
		v.Parts = []store.Value{
			{System: unescape(parts[0]), Code: unescape(parts[1]), HasSystem: true},
			{Code: unescape(parts[2])},
		}
		return v, nil
	}
	switch len(parts) {
	case 1:
		v.Code = unescape(parts[0])
	case 2:
		v.System, v.Code, v.HasSystem = unescape(parts[0]), unescape(parts[1]), true
		if v.System == "" && v.Code == "" {
			return v, invalidParam("", "token %q has neither system nor code", v.Raw)
		}
	default:
		return v, invalidParam("", "token %q has more than one unescaped |", v.Raw)
	}
	return v, nil
}

// prefixes are the comparison prefixes of search.html#prefix.
var prefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// cutPrefix splits a prefix off a date, number or quantity value: two
// letters from prefixes followed by a digit, a sign or a point.
func cutPrefix(s string) (prefix, rest string) {
	if len(s) > 2 {
		c := s[2]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' {
			for _, pr := range prefixes {
				if s[:2] == pr {
					return pr, s[2:]
				}
			}
		}
	}
	return "", s
}

// dateValue parses [prefix]date (search.html#date) into the range its
// precision covers.
func dateValue(s string) (store.Value, error) {
	prefix, rest := cutPrefix(s)
	rest = unescape(rest)
	v := store.Value{Raw: rest, Prefix: prefix}
	lo, hi, err := search.ParseDate(rest)
	if err != nil {
		return v, invalidParam("", "invalid date %q", rest)
	}
	v.Lo, v.Hi = lo, hi
	return v, nil
}

// decimalPattern is a FHIR decimal with an optional exponent.
var decimalPattern = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// numberRange returns a decimal's value and its precision range as the
// index computes it (search.NumberRange), refusing what is not a FHIR
// decimal.
func numberRange(s string) (v, lo, hi float64, ok bool) {
	if !decimalPattern.MatchString(s) {
		return 0, 0, 0, false
	}
	return search.NumberRange(s)
}

// numberValue parses [prefix]number.
func numberValue(s string) (store.Value, error) {
	prefix, rest := cutPrefix(s)
	rest = unescape(rest)
	v := store.Value{Raw: rest, Prefix: prefix}
	n, lo, hi, ok := numberRange(rest)
	if !ok {
		return v, invalidParam("", "invalid number %q", rest)
	}
	v.Number, v.NumLo, v.NumHi = n, lo, hi
	return v, nil
}

// quantityValue parses [prefix]number[|system|code] (search.html#quantity);
// "5.4||mg" has a unit code and no system.
func quantityValue(s string) (store.Value, error) {
	parts := splitEscaped(s, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return store.Value{Raw: unescape(s)}, invalidParam("", "quantity %q must be number or number|system|code", unescape(s))
	}
	v, err := numberValue(parts[0])
	if err != nil {
		return v, err
	}
	_, rest := cutPrefix(s)
	v.Raw = unescape(rest)
	if len(parts) == 3 {
		v.UnitSystem, v.UnitCode = unescape(parts[1]), unescape(parts[2])
		v.HasUnit = v.UnitSystem != "" || v.UnitCode != ""
		if v.UnitSystem != "" && v.UnitCode == "" {
			return v, invalidParam("", "quantity %q has a unit system without a code", v.Raw)
		}
	}
	return v, nil
}

// referenceValue parses a reference search value (search.html#reference):
// "Type/id", "id" (with a :Type modifier, or any of the targets), a URL
// on this server's base (a local Type/id), or another absolute URL or
// canonical (a version after '|' and a /_history/n suffix are dropped:
// every version matches).
func (p *parser) referenceValue(c *store.Clause, s string) (store.Value, error) {
	s = unescape(s)
	v := store.Value{Raw: s}
	modType := ""
	if c.Modifier != "" {
		modType = c.Modifier
	}
	if b := p.cfg.baseURL; b != "" && strings.HasPrefix(s, b+"/") {
		s = strings.TrimPrefix(s, b+"/")
	} else if strings.Contains(s, "://") || strings.HasPrefix(s, "urn:") {
		u, _, _ := strings.Cut(s, "|")
		v.URL = stripHistory(u)
		return v, nil
	}
	s = stripHistory(s)
	typ, id, hasType := strings.Cut(s, "/")
	if !hasType {
		typ, id = modType, s
	} else if p.reg.Params(typ) == nil {
		return v, invalidParam("", "reference %q: unknown resource type %q", s, typ)
	}
	if modType != "" && typ != modType {
		return v, invalidParam("", "reference %q is not a %s", s, modType)
	}
	if !fhir.ValidID(id) {
		return v, invalidParam("", "reference %q: invalid id", s)
	}
	v.RefType, v.RefID = typ, id
	return v, nil
}

// stripHistory removes a trailing "/_history/<version>".
func stripHistory(ref string) string {
	if i := strings.LastIndex(ref, "/_history/"); i > 0 && !strings.Contains(ref[i+len("/_history/"):], "/") {
		return ref[:i]
	}
	return ref
}

// compositeValue parses component values separated by '$'
// (search.html#composite); each is parsed as its component's type, the
// first without prefix.
func compositeValue(c *store.Clause, s string) (store.Value, error) {
	v := store.Value{Raw: unescape(s)}
	parts := splitEscaped(s, '$')
	if len(parts) != len(c.Components) {
		return v, invalidParam("", "composite %s needs %d values separated by $, got %q", c.Param, len(c.Components), v.Raw)
	}
	for i, part := range parts {
		comp := c.Components[i]
		var pv store.Value
		var err error
		switch search.Type(comp.Type) {
		case search.TypeToken:
			pv, err = tokenValue("", part)
		case search.TypeDate:
			pv, err = dateValue(part)
		case search.TypeNumber:
			pv, err = numberValue(part)
		case search.TypeQuantity:
			pv, err = quantityValue(part)
		case search.TypeString, search.TypeURI:
			pv = store.Value{Raw: unescape(part)}
		case search.TypeReference:
			pv, err = referenceParts(part)
		default:
			err = unsupportedParam(c.Param, "composite %s: a %s component is not supported", c.Param, comp.Type)
		}
		if err != nil {
			return v, err
		}
		v.Parts = append(v.Parts, pv)
	}
	return v, nil
}

// referenceParts parses a reference component of a composite: Type/id.
func referenceParts(s string) (store.Value, error) {
	s = unescape(s)
	typ, id, ok := strings.Cut(stripHistory(s), "/")
	if !ok || !fhir.ValidID(id) {
		return store.Value{Raw: s}, invalidParam("", "reference component %q needs Type/id", s)
	}
	return store.Value{Raw: s, RefType: typ, RefID: id}, nil
}

// splitEscaped splits s at each sep that is not escaped by a backslash,
// leaving escapes in the parts (search.html#escaping).
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // skip the escaped character
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape resolves the escapes \, \$ \| and \\; any other backslash is
// kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`,$|\`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
