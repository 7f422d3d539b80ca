package validate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fhirhub/fhirhub/fhir"
)

// report records an issue at the current path.
func (w *walker) report(code fhir.IssueType, msg string) {
	if w.full() {
		return
	}
	w.issues = append(w.issues, fhir.Issue{
		Severity:    fhir.SeverityError,
		Code:        code,
		Diagnostics: msg,
		Expression:  []string{w.render("")},
	})
}

// reportAt records an issue at the element name below the current path.
func (w *walker) reportAt(name string, code fhir.IssueType, msg string) {
	if w.full() {
		return
	}
	w.issues = append(w.issues, fhir.Issue{
		Severity:    fhir.SeverityError,
		Code:        code,
		Diagnostics: msg,
		Expression:  []string{w.render(name)},
	})
}

// render returns the FHIRPath of the current path, with name appended when
// it is not empty.
func (w *walker) render(name string) string {
	var b strings.Builder
	b.WriteString(w.root)
	for _, s := range w.path {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	if name != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
	}
	return b.String()
}

// result returns nil or the *fhir.Error of the issues found, ordered by
// path, code and message so that the same resource always gives the same
// error, whatever the order of map iteration.
func (w *walker) result() error {
	if len(w.issues) == 0 {
		return nil
	}
	sort.Slice(w.issues, func(i, j int) bool {
		a, b := w.issues[i], w.issues[j]
		if a.Expression[0] != b.Expression[0] {
			return a.Expression[0] < b.Expression[0]
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Diagnostics < b.Diagnostics
	})
	first := w.issues[0]
	e := &fhir.Error{
		Code:       first.Code,
		Message:    first.Diagnostics,
		Expression: first.Expression,
	}
	if len(w.issues) > 1 {
		e.More = w.issues[1:]
	}
	return e
}

// quote returns a submitted value for a client-visible message, shortened.
// Messages may quote patient data: they go to the client, never to a log.
func quote(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}
