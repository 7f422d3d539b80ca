package validate_test

import (
	"fmt"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/validate"
)

func ExampleValidator_Resource() {
	v := validate.New()
	obj, err := fhir.ParseObject([]byte(`{
		"resourceType": "Observation",
		"status": "done",
		"code": {"text": "Blood pressure"},
		"subject": {"reference": "Medication/1"},
		"effectiveDateTime": "2021-02-30"
	}`))
	if err != nil {
		panic(err)
	}
	for _, is := range fhir.AsError(v.Resource(obj)).Issues() {
		fmt.Println(is.Code, is.Expression[0])
		fmt.Println("  ", is.Diagnostics)
	}
	// Output:
	// value Observation.effectiveDateTime
	//    invalid dateTime "2021-02-30": not a valid dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)
	// code-invalid Observation.status
	//    code "done" is not in the required value set http://hl7.org/fhir/ValueSet/observation-status
	// invalid Observation.subject.reference
	//    refers to a Medication; subject may refer to Patient, Group, Device or Location
}
