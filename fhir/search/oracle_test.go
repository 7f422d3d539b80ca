package search

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

// The oracle test compares what the compiled expressions select with what
// an independent FHIRPath engine (github.com/gofhir/fhirpath) selects for
// the same expression, on a sample of the Synthea corpus: for every
// indexed parameter of each sampled resource's type, the same items (the
// same JSON objects, the same primitive values) in any order. For a
// composite it compares the base expression and each component
// expression, as "(base).select(component)".

// oracleSamplePerBundle is how many resources of each type are taken from
// each corpus Bundle, evenly spread.
const oracleSamplePerBundle = 1

// oracleKnownDifferences lists parameters where the engines are expected
// to differ, with the reason. Each entry is "URL": reason.
var oracleKnownDifferences = map[string]string{}

// typeResolver lets the oracle's resolve() see the type of a reference the
// way resolveStep tells it: a stand-in {"resourceType": T}.
type typeResolver struct{ m *model }

func (r typeResolver) Resolve(_ context.Context, ref string) ([]byte, error) {
	var t string
	switch {
	case strings.Contains(ref, "?"):
		t, _, _ = strings.Cut(ref, "?")
	case strings.Contains(ref, "://"):
		if i := strings.Index(ref, "/_history/"); i > 0 {
			ref = ref[:i]
		}
		segs := strings.Split(ref, "/")
		t = segs[len(segs)-2]
	default:
		t, _, _ = strings.Cut(ref, "/")
	}
	if r.m.resource(t) == nil {
		return nil, errors.New("not resolvable")
	}
	return []byte(`{"resourceType":"` + t + `"}`), nil
}

type oracle struct {
	res   typeResolver
	exprs map[string]*fhirpath.Expression
}

func (o *oracle) eval(tb testing.TB, expr string, data []byte) types.Collection {
	tb.Helper()
	e, ok := o.exprs[expr]
	if !ok {
		var err error
		e, err = fhirpath.Compile(expr)
		require.NoError(tb, err, expr)
		o.exprs[expr] = e
	}
	ctx := eval.NewContext(data)
	ctx.SetResolver(o.res)
	out, err := e.EvaluateWithContext(ctx)
	require.NoError(tb, err, expr)
	return out
}

// sameItem reports whether a node and an oracle value are the same item.
func sameItem(n node, v types.Value) bool {
	switch x := v.(type) {
	case *types.ObjectValue:
		parsed, err := fhir.ParseJSON(x.Data())
		return err == nil && valuesEqual(n.v, parsed)
	case types.Boolean:
		b, ok := n.v.(bool)
		return ok && b == x.Bool()
	case types.Integer, types.Decimal:
		f, ok := number(n.v)
		g, err := strconv.ParseFloat(v.String(), 64)
		return ok && err == nil && f == g
	case types.Date, types.DateTime:
		s, ok := n.v.(string)
		if !ok {
			return false
		}
		if s == v.String() {
			return true
		}
		lo1, hi1, err1 := ParseDate(s)
		lo2, hi2, err2 := ParseDate(v.String())
		return err1 == nil && err2 == nil && lo1.Equal(lo2) && hi1.Equal(hi2)
	default:
		switch nv := n.v.(type) {
		case string:
			return nv == v.String()
		case bool:
			return strconv.FormatBool(nv) == v.String()
		default:
			f, ok := number(n.v)
			g, err := strconv.ParseFloat(v.String(), 64)
			return ok && err == nil && f == g
		}
	}
}

// sameSelection compares the two results as multisets; it returns a
// description of the difference, or "".
func sameSelection(mine []node, theirs types.Collection) string {
	if len(mine) != len(theirs) {
		return fmt.Sprintf("%d items, oracle %d: %s vs %s", len(mine), len(theirs), render(mine), theirs)
	}
	used := make([]bool, len(mine))
next:
	for _, v := range theirs {
		for i, n := range mine {
			if !used[i] && sameItem(n, v) {
				used[i] = true
				continue next
			}
		}
		return fmt.Sprintf("oracle item %s not selected: %s", v, render(mine))
	}
	return ""
}

func render(s []node) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(fhir.MarshalJSON(n.v))
	}
	b.WriteByte(']')
	return b.String()
}

// oracleStats collects the comparisons per parameter URL.
type oracleStats struct {
	o           *oracle
	evaluations int
	nonEmpty    int
	compared    map[string]int
	mismatched  map[string]int
	examples    map[string]string
}

func newOracleStats(m *model) *oracleStats {
	return &oracleStats{
		o:          &oracle{res: typeResolver{m}, exprs: map[string]*fhirpath.Expression{}},
		compared:   map[string]int{},
		mismatched: map[string]int{},
		examples:   map[string]string{},
	}
}

// compare checks every indexed parameter of obj's type against the oracle.
// obj's references must already point at "Type/id".
func (st *oracleStats) compare(tb testing.TB, snap *snapshot, obj fhir.Object) {
	tb.Helper()
	rt := fhir.ResourceType(obj)
	ti := snap.types[rt]
	require.NotNil(tb, ti, rt)
	data := fhir.MarshalJSON(obj)
	c := newCtx(snap.m, node{obj, ti.t})
	defer c.release()
	check := func(bp *boundParam, expr string, mine []node) {
		theirs := st.o.eval(tb, expr, data)
		st.evaluations++
		if len(theirs) > 0 {
			st.nonEmpty++
		}
		st.compared[bp.p.URL]++
		if d := sameSelection(mine, theirs); d != "" {
			st.mismatched[bp.p.URL]++
			if _, ok := st.examples[bp.p.URL]; !ok {
				st.examples[bp.p.URL] = fmt.Sprintf("%s %s/%s: %s: %s", bp.p.Code, rt, fhir.ResourceID(obj), expr, d)
			}
		}
	}
	for _, bp := range ti.bound {
		mine := bp.fn(c, c.root, nil)
		check(bp, bp.p.Expression, mine)
		for k, comp := range bp.comps {
			var parts []node
			for _, e := range mine {
				parts = comp.fn(c, []node{e}, parts)
			}
			check(bp, "("+bp.p.Expression+").select("+bp.p.Components[k].Expression+")", parts)
		}
	}
}

// report fails tb for every parameter that differs and is not a known
// difference, and for every known difference that did not show.
func (st *oracleStats) report(tb testing.TB) {
	tb.Helper()
	urls := make([]string, 0, len(st.compared))
	for u := range st.compared {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		n := st.mismatched[u]
		if n == 0 {
			continue
		}
		if reason, ok := oracleKnownDifferences[u]; ok {
			tb.Logf("known difference %s (%d of %d): %s; e.g. %s", u, n, st.compared[u], reason, st.examples[u])
			continue
		}
		tb.Errorf("%s: %d of %d differ; e.g. %s", u, n, st.compared[u], st.examples[u])
	}
	for u := range oracleKnownDifferences {
		if st.compared[u] > 0 && st.mismatched[u] == 0 {
			tb.Errorf("%s is listed as a known difference but agrees on all %d comparisons", u, st.compared[u])
		}
	}
}

// TestOracleDetectsDifferences makes sure the comparison can fail.
func TestOracleDetectsDifferences(t *testing.T) {
	snap := Default().snap.Load()
	st := newOracleStats(snap.m)
	patient := MustParse(t, testPatient)
	data := fhir.MarshalJSON(patient)
	mine, err := compileExpr(snap.m, "Patient.name.given", snap.m.resource("Patient"))
	require.NoError(t, err)
	c := newCtx(snap.m, node{patient, snap.m.resource("Patient")})
	defer c.release()
	got := mine.fn(c, c.root, nil)
	require.Equal(t, "", sameSelection(got, st.o.eval(t, "Patient.name.given", data)))
	require.NotEqual(t, "", sameSelection(got, st.o.eval(t, "Patient.name.family", data)))
	require.NotEqual(t, "", sameSelection(got, st.o.eval(t, "Patient.name.given.first() | Patient.gender", data)))
	require.NotEqual(t, "", sameSelection(got[:1], st.o.eval(t, "Patient.name.given", data)))
}
