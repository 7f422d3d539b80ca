package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the order of an ORC/OBR pair to ServiceRequest, following
// the v2-to-FHIR IG's segment maps ORC[ServiceRequest] and
// OBR[ServiceRequest]: placer, filler and accession numbers, placer group
// (requisition), status (ORC-1, ORC-5), priority, code (OBR-4), timing,
// requester (ORC-12, OBR-16), reason (OBR-31, DG1) and notes. The
// ServiceRequest is selected by any of its order numbers (a FHIR OR of
// identifiers), so that an order placed by one system and reported on by
// another, which may send only some of the numbers, is one resource.

// Fallback systems of order numbers sent without a namespace.
const (
	placerSystem    = "urn:fhirhub:hl7v2:placer"
	fillerSystem    = "urn:fhirhub:hl7v2:filler"
	accessionSystem = "urn:fhirhub:hl7v2:accession"
	// orderSystem keys orders sent without any number by their patient,
	// service and time.
	orderSystem = "urn:fhirhub:hl7v2:order"
)

// orderIDs are the numbers of one order.
type orderIDs struct {
	placer, filler, accession, group hl7v2.EI
}

// readOrderIDs reads an order's numbers: ORC-2/OBR-2 (placer), ORC-3/OBR-3
// (filler), ORC-4 (placer group) and, for imaging, the accession number
// (IPC-1, else OBR-18, where IHE radiology puts it).
func readOrderIDs(orc, obr hl7v2.Segment, ipc []hl7v2.Segment, imaging bool) orderIDs {
	var o orderIDs
	o.placer = orderEI(orc.Field(2))
	if o.placer.EntityID == "" {
		o.placer = orderEI(obr.Field(2))
	}
	o.filler = orderEI(orc.Field(3))
	if o.filler.EntityID == "" {
		o.filler = orderEI(obr.Field(3))
	}
	o.group = orderEI(orc.Field(4))
	if imaging {
		for _, s := range ipc {
			if e := orderEI(s.Field(1)); e.EntityID != "" {
				o.accession = e
				break
			}
		}
		if o.accession.EntityID == "" {
			o.accession = hl7v2.EI{EntityID: strings.TrimSpace(cleanText(obr.Field(18).String()))}
		}
		if o.accession.NamespaceID == "" && o.accession.UniversalID == "" && o.accession.EntityID == o.filler.EntityID {
			// The filler's number is the accession number (IHE radiology):
			// it has the filler's namespace.
			o.accession = o.filler
		}
	}
	return o
}

// orderEI reads an order number with its entity id cleaned as the
// identifier made of it will be (cleanText), so that a number made only of
// characters a FHIR string cannot hold counts as absent.
func orderEI(v hl7v2.Value) hl7v2.EI {
	e := hl7v2.ParseEI(v)
	e.EntityID = strings.TrimSpace(cleanText(e.EntityID))
	return e
}

// identifiers returns the order's identifiers: placer (PLAC), filler
// (FILL) and accession (ACSN) numbers.
func (b *builder) orderIdentifiers(o orderIDs) []any {
	var out []any
	if id := b.identifierFromEI(o.placer, "PLAC", placerSystem); id != nil {
		out = append(out, id)
	}
	if id := b.identifierFromEI(o.filler, "FILL", fillerSystem); id != nil {
		out = append(out, id)
	}
	if id := b.identifierFromEI(o.accession, "ACSN", accessionSystem); id != nil {
		out = append(out, id)
	}
	return out
}

// srMode says how a message changes the ServiceRequest.
type srMode uint8

const (
	srEnsure   srMode = iota // create when unknown; patch the status when ORC-5 says it (results)
	srStatus                 // create when unknown; patch the status (order status changes: CA, DC, HD, RL ...)
	srSnapshot               // write it whole (new and changed orders: NW, XO ...)
)

// statusChangeControls are the order controls (table 0119) that change an
// order's status without restating it.
var statusChangeControls = map[string]bool{
	"CA": true, "OC": true, "CR": true, "DC": true, "OD": true, "DR": true,
	"HD": true, "OH": true, "HR": true, "RL": true, "OE": true, "OR": true, "SC": true,
}

// orderContext is what the resources of one order share.
type orderContext struct {
	order   *hl7v2.Order
	orc     hl7v2.Segment
	obr     hl7v2.Segment
	ids     orderIDs
	imaging bool
	patient *patientRef
	visit   *visitRef
	key     string // order key for derived identifiers
	sr      fhir.Object
}

// requestStatus decides ServiceRequest.status: an order control that
// cancels, discontinues or holds decides it; else the order status
// (ORC-5); else the order control; else the result status (OBR-25) of a
// result; else active.
func requestStatus(orc, obr hl7v2.Segment) (status string, fromMessage bool) {
	ctl := strings.ToUpper(strings.TrimSpace(orc.Field(1).String()))
	if s, ok := orderControlStatus[ctl]; ok {
		return s, true
	}
	if s, ok := orderStatus[strings.ToUpper(strings.TrimSpace(orc.Field(5).String()))]; ok {
		return s, true
	}
	switch ctl {
	case "NW", "XO", "OK", "SN", "NA", "RL", "OR", "XR", "SC", "RO":
		return "active", true
	}
	switch strings.ToUpper(strings.TrimSpace(obr.Field(25).String())) {
	case "F", "C":
		return "completed", false
	case "X":
		return "revoked", false
	}
	return "active", false
}

// serviceRequest maps the order of oc and returns a Reference to it.
func (b *builder) serviceRequest(oc *orderContext, mode srMode) (fhir.Object, error) {
	ids := b.orderIdentifiers(oc.ids)
	if len(ids) == 0 {
		ids = append(ids, fhir.Object{"system": orderSystem, "value": oc.key})
	}
	var toks []token
	for _, id := range ids {
		toks = append(toks, tokenOf(id.(fhir.Object)))
	}
	status, fromMessage := requestStatus(oc.orc, oc.obr)
	sr := fhir.Object{
		"identifier": ids,
		"status":     status,
		"intent":     "order",
		"subject":    oc.patient.reference(),
	}
	if g := b.identifierFromEI(oc.ids.group, "PGN", placerSystem); g != nil {
		sr["requisition"] = g
	}
	if oc.imaging {
		sr["category"] = []any{snomed("363679005", "Imaging")}
	} else {
		sr["category"] = []any{snomed("108252007", "Laboratory procedure")}
	}
	if p := b.orderPriority(oc); p != "" {
		sr["priority"] = p
	}
	if c := codeableConcept(hl7v2.ParseCWE(oc.obr.Field(4)), ""); c != nil {
		sr["code"] = c
	}
	var details []any
	for _, s := range oc.order.IPC {
		if m := codeableConcept(hl7v2.ParseCWE(s.Field(5)), "http://dicom.nema.org/resources/ontology/DCM"); m != nil {
			details = append(details, m)
			break
		}
	}
	if len(details) > 0 {
		sr["orderDetail"] = details
	}
	if oc.visit != nil {
		sr["encounter"] = oc.visit.ref
	}
	when, err := b.orderTime(oc)
	if err != nil {
		return nil, err
	}
	if s := dateTime(when); s != "" {
		sr["occurrenceDateTime"] = s
	}
	authored, err := b.ts(oc.orc.Field(9), loc(oc.orc, 9))
	if err != nil {
		return nil, err
	}
	if s := dateTime(authored); s != "" {
		sr["authoredOn"] = s
	}
	req := b.practitioners(oc.orc.Field(12))
	if len(req) == 0 {
		req = b.practitioners(oc.obr.Field(16))
	}
	if len(req) > 0 {
		sr["requester"] = req[0]
	}
	var reasons []any
	for r := range oc.obr.Field(31).Reps() {
		if c := codeableConcept(hl7v2.ParseCWE(r), ""); c != nil {
			reasons = append(reasons, c)
		}
	}
	for _, dg1 := range oc.order.DG1 {
		if c := codeableConcept(hl7v2.ParseCWE(dg1.Field(3)), ""); c != nil {
			reasons = append(reasons, c)
		}
	}
	if len(reasons) > 0 {
		sr["reasonCode"] = reasons
	}
	n := notes(oc.order.NTE)
	if t := strings.TrimSpace(oc.obr.Field(13).Text()); t != "" {
		n = append([]any{fhir.Object{"text": t}}, n...)
	}
	if len(n) > 0 {
		sr["note"] = n
	}
	crit := criteria("identifier", toks...)
	var ref string
	switch {
	case mode == srSnapshot:
		ref = b.put("ServiceRequest", crit, sr)
	case mode == srStatus || fromMessage:
		ref = b.ensure("ServiceRequest", crit, sr)
		b.patch(ref, []any{opAdd("/status", status), opAdd("/meta/source", b.source)})
	default:
		ref = b.ensure("ServiceRequest", crit, sr)
	}
	return fhir.Object{"reference": ref}, nil
}

// orderPriority reads the priority from TQ1-9, else ORC-7.6, else OBR-27.6.
func (b *builder) orderPriority(oc *orderContext) string {
	var codes []string
	for _, t := range oc.order.Timing {
		codes = append(codes, hl7v2.ParseCWE(t.TQ1.Field(9)).Identifier)
	}
	codes = append(codes, oc.orc.Field(7).Comp(6).String(), oc.obr.Field(27).Comp(6).String())
	for _, c := range codes {
		if p, ok := orderPriority[strings.ToUpper(strings.TrimSpace(c))]; ok {
			return p
		}
	}
	return ""
}

// orderTime reads when the order is to be done: TQ1-7, else ORC-7.4, else
// OBR-27.4, else OBR-6.
func (b *builder) orderTime(oc *orderContext) (hl7v2.DTM, error) {
	for _, t := range oc.order.Timing {
		d, err := b.ts(t.TQ1.Field(7), loc(t.TQ1, 7))
		if err != nil || !d.IsZero() {
			return d, err
		}
	}
	for _, v := range []struct {
		seg hl7v2.Segment
		f   int
	}{{oc.orc, 7}, {oc.obr, 27}} {
		c := v.seg.Field(v.f).Comp(4)
		if c.IsEmpty() {
			continue
		}
		d, err := b.ts(c, loc(v.seg, v.f))
		if err != nil || !d.IsZero() {
			return d, err
		}
	}
	return b.ts(oc.obr.Field(6), loc(oc.obr, 6))
}

func snomed(code, display string) fhir.Object {
	return fhir.Object{"coding": []any{fhir.Object{"system": "http://snomed.info/sct", "code": code, "display": display}}}
}
