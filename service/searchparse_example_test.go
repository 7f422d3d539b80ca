package service_test

import (
	"fmt"
	"net/url"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/service"
)

func ExampleParseSearch() {
	params, _ := url.ParseQuery("code=http://loinc.org|8480-6&date=ge2024-01&subject:Patient.name=muller,smith&_sort=-date&_count=10&foo=bar")
	q, warnings, err := service.ParseSearch(search.Default(), "Observation", params)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range q.Where {
		if c.Chain != nil {
			fmt.Printf("%s -> %s.%s: %d values\n", c.Param, c.Chain.TargetType, c.Chain.Clause.Param, len(c.Chain.Clause.Values))
			continue
		}
		v := c.Values[0]
		fmt.Printf("%s (%s): prefix %q system %q code %q\n", c.Param, c.Type, v.Prefix, v.System, v.Code)
	}
	fmt.Println("sort:", q.Sort[0].Param, "descending:", q.Sort[0].Descending, "count:", q.Count)
	for _, w := range warnings {
		fmt.Println("warning:", w.Expression, w.Diagnostics)
	}
	// Output:
	// code (token): prefix "" system "http://loinc.org" code "8480-6"
	// date (date): prefix "ge" system "" code ""
	// subject -> Patient.name: 2 values
	// sort: date descending: true count: 10
	// warning: [foo] unknown search parameter "foo" for Observation: ignored
}
