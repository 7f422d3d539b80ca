package hl7v2

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden .groups.txt files in testdata/")

// dumpGroups writes a structure as an indented tree of its groups and
// segments, each segment as NAME@position; empty groups are left out.
func dumpGroups(b *strings.Builder, name string, v reflect.Value, depth int) {
	indent := strings.Repeat("  ", depth)
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		dumpGroups(b, name, v.Elem(), depth)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			dumpGroups(b, name, v.Index(i), depth)
		}
	case reflect.Struct:
		if s, ok := v.Interface().(Segment); ok {
			if s.Exists() {
				fmt.Fprintf(b, "%s%s: %s@%d\n", indent, name, s.Name(), s.Index()+1)
			}
			return
		}
		var inner strings.Builder
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				dumpGroups(&inner, v.Type().Field(i).Name, v.Field(i), depth+1)
			}
		}
		if inner.Len() > 0 {
			fmt.Fprintf(b, "%s%s\n%s", indent, name, inner.String())
		}
	}
}

// parseStructure reads m with the structure parser of its type.
func parseStructure(m *Message) (any, []*Error) {
	switch m.Header().Type.Code {
	case "ADT":
		return ParseADT(m)
	case "ORU":
		return ParseORU(m)
	case "ORM":
		return ParseORM(m)
	case "OMI":
		return ParseOMI(m)
	}
	return nil, nil
}

// TestStructureGolden compares the groups of every testdata message with
// testdata/<name>.groups.txt (go test ./adapters/hl7v2 -update rewrites
// them).
func TestStructureGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "batch") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			m := MustReadTestdata(t, filepath.Base(f))
			s, errs := parseStructure(m)
			require.NotNil(t, s)
			var b strings.Builder
			dumpGroups(&b, reflect.TypeOf(s).Elem().Name(), reflect.ValueOf(s), 0)
			for _, e := range errs {
				fmt.Fprintf(&b, "error: %s\n", e.Error())
			}
			golden := strings.TrimSuffix(f, ".hl7") + ".groups.txt"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), b.String())
			n++
		})
	}
	assert.Equal(t, 8, n)
}

func TestORUNotesAttachToTheirParent(t *testing.T) {
	m := MustReadTestdata(t, "oru_r01_lab.hl7")
	oru, errs := ParseORU(m)
	assert.Empty(t, errs)
	require.Len(t, oru.Results, 1)
	r := oru.Results[0]
	require.NotNil(t, r.Patient)
	assert.Len(t, r.Patient.NTE, 1)
	assert.Equal(t, "Patient fasting since 22:00 & on anticoagulants", r.Patient.NTE[0].Field(3).String())
	assert.True(t, r.Patient.Visit.PV1.Exists())
	require.Len(t, r.Orders, 2)
	o := r.Orders[0]
	assert.Equal(t, "24323-8", o.OBR().Field(4).String())
	assert.Len(t, o.NTE, 2, "order notes")
	require.Len(t, o.Observations, 6)
	assert.Empty(t, o.Observations[0].NTE)
	assert.Len(t, o.Observations[1].NTE, 2, "notes of the potassium OBX")
	assert.Equal(t, "Called to ward 3 (Sr^Dube) at 15:40.", o.Observations[1].NTE[1].Field(3).String())
	require.Len(t, o.Timing, 1)
	require.Len(t, o.Specimens, 1)
	assert.Len(t, o.Specimens[0].OBX, 1, "the OBX after SPM belongs to the specimen")
	assert.Len(t, r.Orders[1].Observations, 1)
	assert.Len(t, r.Orders[1].Observations[0].NTE, 1)
	require.Len(t, r.Orders[1].Observations[0].Extra, 1, "the Z-segment after the last OBX")
	assert.Equal(t, "ZLB", r.Orders[1].Observations[0].Extra[0].Name())
}

func TestORMAndOMI(t *testing.T) {
	orm, errs := ParseORM(MustReadTestdata(t, "orm_o01_order.hl7"))
	assert.Empty(t, errs)
	assert.Len(t, orm.NTE, 1, "message note before PID")
	require.NotNil(t, orm.Patient)
	assert.Len(t, orm.Patient.NTE, 1)
	assert.Len(t, orm.Patient.Insurance, 1)
	assert.Len(t, orm.Patient.AL1, 1)
	require.Len(t, orm.Orders, 2)
	assert.Len(t, orm.Orders[0].NTE, 1)
	assert.Len(t, orm.Orders[0].DG1, 1)
	require.Len(t, orm.Orders[0].Observations, 1)
	assert.Len(t, orm.Orders[0].Observations[0].NTE, 1)
	assert.Equal(t, "ORC", orm.Orders[1].ORC.Name())
	assert.Equal(t, "ZOR", orm.Orders[1].Extra[0].Name())

	omi, errs := ParseOMI(MustReadTestdata(t, "omi_o23_imaging.hl7"))
	assert.Empty(t, errs)
	require.Len(t, omi.Orders, 1)
	assert.Len(t, omi.Orders[0].Timing, 1)
	assert.Len(t, omi.Orders[0].IPC, 2)
	assert.Len(t, omi.Orders[0].NTE, 1)
}

func TestADTMergeAndGroups(t *testing.T) {
	a40, errs := ParseADT(MustReadTestdata(t, "adt_a40_merge.hl7"))
	assert.Empty(t, errs)
	require.Len(t, a40.Patients, 2)
	require.Len(t, a40.Patients[0].Merges, 1)
	assert.Equal(t, "MRN-188002", a40.Patients[0].Merges[0].MRG.Field(1).String())
	assert.Equal(t, 2, a40.Patients[0].Merges[0].MRG.Field(1).NumReps())
	assert.True(t, a40.Patients[1].PD1.Exists())
	assert.True(t, a40.Patients[1].Merges[0].PV1.Exists(), "PV1 after MRG belongs to the merge")
	assert.False(t, a40.Patients[1].Visit.PV1.Exists())

	a01, errs := ParseADT(MustReadTestdata(t, "adt_a01_admit.hl7"))
	assert.Empty(t, errs)
	p := a01.Patient()
	require.NotNil(t, p)
	assert.Len(t, p.ROL, 1)
	assert.Len(t, p.Visit.ROL, 1)
	assert.Len(t, p.NK1, 2)
	assert.Len(t, p.Observations, 2)
	assert.Len(t, p.AL1, 2)
	require.Len(t, p.Procedures, 1)
	assert.Len(t, p.Procedures[0].ROL, 1)
	require.Len(t, p.Insurance, 1)
	assert.True(t, p.Insurance[0].IN2.Exists())
	assert.Equal(t, "ZPI", p.Extra[0].Name())
	assert.True(t, a01.EVN.Exists())

	_, errs = ParseADT(MustParse(t, "MSH|^~\\&|||||||ADT^A01|1|P|2.5\rEVN|A01\r"))
	require.Len(t, errs, 1)
	assert.Equal(t, CodeSegmentSequence, errs[0].Code)
	assert.Equal(t, SeverityError, errs[0].Severity)
	assert.Equal(t, "PID", errs[0].Loc.Segment)
}

func TestStructureSequenceProblems(t *testing.T) {
	oru, errs := ParseORU(MustParse(t, lines(`MSH|^~\&|||||||ORU^R01|1|P|2.5`, `NTE|1||orphan`, `PID|1`, `PD1|`, `PD1|`)))
	require.Len(t, errs, 3)
	assert.Equal(t, SeverityWarning, errs[0].Severity)
	assert.Equal(t, Location{Segment: "NTE", Sequence: 1, Position: 2}, errs[0].Loc)
	assert.Equal(t, Location{Segment: "PD1", Sequence: 2, Position: 5}, errs[1].Loc)
	assert.Equal(t, SeverityError, errs[2].Severity, "no OBR")
	assert.Len(t, oru.Extra, 1)

	_, errs = ParseORM(MustParse(t, lines(`MSH|^~\&|||||||ORM^O01|1|P|2.3`, `PID|1`, `OBR|1`)))
	require.Len(t, errs, 1)
	assert.Equal(t, "ORC", errs[0].Loc.Segment)
}

// TestStructureCorpus reads every ADT, ORU, ORM and OMI message of the
// corpora into groups: none is missing a required segment, and segments
// out of place are only warnings.
func TestStructureCorpus(t *testing.T) {
	msgs, _ := corpus(t)
	counts := map[string]int{}
	for _, c := range msgs {
		m, err := Parse(c.data)
		require.NoError(t, err, c.name)
		s, errs := parseStructure(m)
		if s == nil {
			continue
		}
		counts[m.Header().Type.Code]++
		for _, e := range errs {
			assert.Equal(t, SeverityWarning, e.Severity, "%s: %v", c.name, e)
		}
	}
	t.Logf("structures read: %v", counts)
	assert.Greater(t, counts["ADT"], 60)
	assert.Greater(t, counts["ORU"], 5)
	assert.Greater(t, counts["ORM"], 8)
	assert.Greater(t, counts["OMI"], 1)
}
