package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the order messages ORM^O01 (HL7 v2.5.1 chapter 4) and
// OMI^O23 (imaging order, chapter 4.4), following the v2-to-FHIR IG's
// message maps ORM_O01 and OMI_O23.

// MapOrder maps an ORM^O01 or OMI^O23. It ensures the Patient and the
// Encounter as MapORU does and, for each order with an OBR, writes the
// ServiceRequest: in full (conditional update) for a new or changed order
// (ORC-1 NW, XO ...), and as a status change of the existing one for an
// order control that only changes the status (CA, DC, HD, RL, SC ...):
// CA and DC revoke, HD holds, SC takes ORC-5. An imaging order (OMI, or
// OBR-24 an imaging section, or a Study Instance UID in IPC-3 or the IHE
// ZDS-1) gets its accession number (IPC-1, else OBR-18) as an identifier,
// its modality (IPC-5) as orderDetail, and an ImagingStudy when the Study
// Instance UID is known; OBX of an order become Observations. Orders whose
// detail is not an OBR (pharmacy, diet) are not mapped; a message with
// none that is returns ErrUnsupported.
func MapOrder(m *hl7v2.Message, opt Options) (fhir.Object, error) {
	if m == nil {
		return nil, fieldError("MSH", nil, "no message")
	}
	t := m.Header().Type
	var om *hl7v2.OrderMessage
	switch {
	case t.Code == "ORM" && t.Trigger == "O01":
		om, _ = hl7v2.ParseORM(m)
	case t.Code == "OMI" && t.Trigger == "O23":
		om, _ = hl7v2.ParseOMI(m)
	default:
		return nil, unsupported(safeType(t))
	}
	b, err := newBuilder(m, opt)
	if err != nil {
		return nil, err
	}
	if om.Patient == nil {
		return nil, fieldError("PID", nil, "segment missing")
	}
	p, err := b.patient(om.Patient.PID, om.Patient.PD1, nil, patientEnsure, nil)
	if err != nil {
		return nil, err
	}
	visit, err := b.encounter(om.Patient.Visit, p, visitEvent{}, visitEnsure)
	if err != nil {
		return nil, err
	}
	mapped := 0
	for i := range om.Orders {
		o := &om.Orders[i]
		if !o.OBR().Exists() {
			continue
		}
		next := m.Len()
		if i+1 < len(om.Orders) {
			next = om.Orders[i+1].ORC.Index()
		}
		if err := b.mapOrder(o, t.Code == "OMI", p, visit, next); err != nil {
			return nil, err
		}
		mapped++
	}
	if mapped == 0 {
		return nil, unsupported(safeType(t) + " without OBR")
	}
	return b.bundle(t.Trigger), nil
}

// mapOrder maps one ORDER group; end is the index of the segment after
// the group, for finding its Z-segments.
func (b *builder) mapOrder(o *hl7v2.Order, omi bool, p *patientRef, visit *visitRef, end int) error {
	obr := o.OBR()
	zds := b.zdsStudyUID(o.ORC.Index(), end)
	oc := &orderContext{order: o, orc: o.ORC, obr: obr, patient: p, visit: visit}
	oc.imaging = omi || zds != "" || isImagingResult(o)
	oc.ids = readOrderIDs(o.ORC, obr, o.IPC, oc.imaging)
	oc.key = b.orderKey(oc)
	mode := srSnapshot
	if statusChangeControls[strings.ToUpper(strings.TrimSpace(o.ORC.Field(1).String()))] {
		mode = srStatus
	}
	sr, err := b.serviceRequest(oc, mode)
	if err != nil {
		return err
	}
	oc.sr = sr
	g := &obsGroup{key: oc.key, subject: p.reference(), basedOn: []any{sr}}
	if visit != nil {
		g.encounter = visit.ref
	}
	for _, ob := range o.Observations {
		if _, err := b.observation(ob.OBX, ob.NTE, g); err != nil {
			return err
		}
	}
	if !oc.imaging {
		return nil
	}
	uid := zds
	for _, s := range o.IPC {
		if u := strings.TrimSpace(hl7v2.ParseEI(s.Field(3)).EntityID); u != "" {
			uid = u
			break
		}
	}
	if uid == "" {
		return nil
	}
	status, _ := requestStatus(o.ORC, obr)
	if status == "revoked" || status == "entered-in-error" {
		b.imagingStudy(uid, oc, "cancelled", true)
	} else {
		b.imagingStudy(uid, oc, "registered", false)
	}
	return nil
}

// zdsStudyUID returns the Study Instance UID of the IHE ZDS segment
// (ZDS-1.1, a reference pointer) among the segments from index from to
// end, "" when there is none.
func (b *builder) zdsStudyUID(from, end int) string {
	if from < 0 {
		return ""
	}
	for i := from; i < end; i++ {
		s := b.msg.SegmentAt(i)
		if s.Name() == "ZDS" {
			return strings.TrimSpace(s.Field(1).Comp(1).String())
		}
	}
	return ""
}
