package validate

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
)

func TestExploreOurs(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	v := New()
	counts := map[string]int{}
	n, bad := 0, 0
	start := time.Now()
	var dur time.Duration
	idx := regexp.MustCompile(`\[\d+\]`)
	for _, f := range syntheaFiles(t) {
		rs, err := readEntries(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range rs {
			n++
			obj, err := fhir.ParseObject(raw)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			err = v.Resource(obj)
			dur += time.Since(t0)
			if err != nil {
				bad++
				fe := fhir.AsError(err)
				for _, is := range fe.Issues() {
					counts[string(is.Code)+" "+idx.ReplaceAllString(is.Expression[0], "[]")+" "+is.Diagnostics[:min(50, len(is.Diagnostics))]]++
				}
			}
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Println(counts[k], k)
	}
	fmt.Println("resources", n, "rejected", bad, "total", time.Since(start), "validate", dur)
}
