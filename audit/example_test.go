package audit_test

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
)

// ExampleEvent_Resource shows the AuditEvent of a refused search: the
// criteria go to entity.query, base64-encoded, and nowhere else.
func ExampleEvent_Resource() {
	ev := audit.Event{Interaction: "search-type", Status: 403, IssueCode: "forbidden", Subject: "app-7", Role: "clerk",
		Address: "10.0.0.7", ResourceType: "Observation", Query: "subject=Patient/p1", RequestID: "r-1"}
	obj := ev.Resource("ae-1", audit.Observer{URL: "https://hub.example/fhir"}, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))
	agent := obj["agent"].([]any)[0].(fhir.Object)
	entity := obj["entity"].([]any)[0].(fhir.Object)
	q, _ := base64.StdEncoding.DecodeString(entity["query"].(string))
	fmt.Println(obj["action"], obj["outcome"], obj["outcomeDesc"], obj["recorded"])
	fmt.Println(agent["who"].(fhir.Object)["reference"], agent["network"].(fhir.Object)["address"])
	fmt.Println(entity["what"].(fhir.Object)["type"], string(q))
	// Output:
	// E 4 403 forbidden 2026-11-02T08:00:00.000Z
	// urn:fhirhub:subject:app-7 10.0.0.7
	// Observation subject=Patient/p1
}
