package mappings_test

import (
	"fmt"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
)

// ExampleMap maps an outpatient registration: the Patient is ensured by
// its MRN and merged from PID, the Encounter written whole by its visit
// number, the clinic Location ensured, and the Provenance, whose id
// derives from the message identity, names the message.
func ExampleMap() {
	m, err := hl7v2.Parse([]byte("MSH|^~\\&|OPD|CLINIC-7|FHIRHUB|FHIRHUB|20250501074500+0200||ADT^A04^ADT_A01|OPD-311|P|2.5.1\r" +
		"PID|1||CHC-55120^^^CLINIC-7^MR||Mthembu^Sibusiso||2001|M\r" +
		"PV1|1|O|OPD-2^^^CLINIC-7||||||||||||||||OPD-V-88210|||||||||||||||||||||||||20250501074000+0200\r"))
	if err != nil {
		panic(err)
	}
	bundle, err := mappings.Map(m, mappings.Options{MessageRef: "hl7v2-message/311"})
	if err != nil {
		panic(err)
	}
	for _, e := range bundle["entry"].([]any) {
		req := e.(fhir.Object)["request"].(fhir.Object)
		if crit, ok := req["ifNoneExist"]; ok {
			fmt.Println(req["method"], req["url"], "if none exists:", crit)
			continue
		}
		fmt.Println(req["method"], req["url"])
	}
	// Output:
	// POST Patient if none exists: identifier=urn:fhirhub:hl7v2:id:CLINIC-7|CHC-55120
	// PATCH Patient?identifier=urn:fhirhub:hl7v2:id:CLINIC-7|CHC-55120
	// POST Organization if none exists: identifier=urn:fhirhub:hl7v2:facility|CLINIC-7
	// POST Location if none exists: identifier=urn:fhirhub:hl7v2:location|CLINIC-7\|OPD-2
	// PUT Encounter?identifier=urn:fhirhub:hl7v2:id:CLINIC-7|OPD-V-88210
	// PUT Provenance/13d18b47-2820-57ff-af93-b2445081fcb4
}
