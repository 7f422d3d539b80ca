package hl7v2

// This file holds the order and result structures: ORU^R01 (HL7 v2.5.1
// section 7.3.1), ORM^O01 (v2.5.1 section 4.4.1) and OMI^O23 (section
// 4.4.8).

// ORU is an unsolicited observation message, ORU^R01:
//
//	MSH [{SFT}] {PATIENT_RESULT: [PATIENT: PID [PD1] [{NTE}] [{NK1}]
//	  [VISIT: PV1 [PV2]]] {ORDER_OBSERVATION: [ORC] OBR [{NTE}]
//	  [{TIMING_QTY: TQ1 [{TQ2}]}] [CTD] [{OBSERVATION: OBX [{NTE}]}]
//	  [{FT1}] [{CTI}] [{SPECIMEN: SPM [{OBX}]}]}} [DSC]
type ORU struct {
	MSH     Segment
	SFT     []Segment
	Results []PatientResult
	DSC     Segment
	Extra   []Segment
}

// PatientResult is the PATIENT_RESULT group of an ORU^R01. Patient is nil
// when the results name no patient.
type PatientResult struct {
	Patient *Patient
	Orders  []Order
}

// OrderMessage is an order message: ORM^O01 or OMI^O23.
//
//	MSH [{SFT}] [{NTE}] [PATIENT: PID [PD1] [{NTE}] [{NK1}]
//	  [PATIENT_VISIT: PV1 [PV2]] [{INSURANCE: IN1 [IN2] [IN3]}] [GT1]
//	  [{AL1}]] {ORDER: ORC [{TIMING: TQ1 [{TQ2}]}] [OBR|RQD|RQ1|RXO|ODS|ODT]
//	  [{NTE}] [CTD] [{DG1}] [{OBSERVATION: OBX [{NTE}]}] [{FT1}] [{CTI}]
//	  [BLG] [{IPC}]}
type OrderMessage struct {
	MSH     Segment
	SFT     []Segment
	NTE     []Segment
	Patient *Patient
	Orders  []Order
	Extra   []Segment
}

// orderCursor tracks the open groups while orders are read.
type orderCursor struct {
	p       *structureParser
	patient *Patient
	orders  *[]Order
	ord     *Order
	obs     *Observation
	spec    *Specimen
	timing  *Timing
	ins     *Insurance
	nte     *[]Segment // where an NTE goes now
	extra   *[]Segment // where unknown segments go now
	inOrder bool       // an order has started for the current patient
}

// patientSegment places a segment of the PATIENT group; ok is false when
// name is not one.
func (c *orderCursor) patientSegment(s Segment) (ok bool) {
	pt := c.patient
	switch s.Name() {
	case "PD1":
		if pt.PD1.Exists() || c.inOrder || len(pt.Observations) > 0 {
			return false
		}
		pt.PD1 = s
	case "NK1":
		if c.inOrder {
			return false
		}
		pt.NK1 = append(pt.NK1, s)
	case "PV1":
		if pt.Visit.PV1.Exists() || c.inOrder {
			return false
		}
		pt.Visit.PV1 = s
	case "PV2":
		if pt.Visit.PV2.Exists() || c.inOrder {
			return false
		}
		pt.Visit.PV2 = s
	case "IN1":
		if c.inOrder {
			return false
		}
		pt.Insurance = append(pt.Insurance, Insurance{IN1: s})
		c.ins = &pt.Insurance[len(pt.Insurance)-1]
	case "IN2", "IN3":
		if c.ins == nil || c.inOrder {
			return false
		}
		if s.Name() == "IN2" {
			c.ins.IN2 = s
		} else {
			c.ins.IN3 = append(c.ins.IN3, s)
		}
	case "GT1":
		if pt.GT1.Exists() || c.inOrder {
			return false
		}
		pt.GT1 = s
	case "AL1":
		if c.inOrder {
			return false
		}
		pt.AL1 = append(pt.AL1, s)
	case "OBX":
		// PATIENT_OBSERVATION (v2.7+).
		if c.inOrder {
			return false
		}
		pt.Observations = append(pt.Observations, Observation{OBX: s})
		obs := &pt.Observations[len(pt.Observations)-1]
		c.nte, c.extra = &obs.NTE, &obs.Extra
	default:
		return false
	}
	if s.Name() != "OBX" {
		c.nte, c.extra = &pt.NTE, &pt.Extra
	}
	return true
}

// newOrder opens an order group.
func (c *orderCursor) newOrder() *Order {
	*c.orders = append(*c.orders, Order{})
	c.ord = &(*c.orders)[len(*c.orders)-1]
	c.obs, c.spec, c.timing, c.ins = nil, nil, nil, nil
	c.nte, c.extra = &c.ord.NTE, &c.ord.Extra
	c.inOrder = true
	return c.ord
}

// orderSegment places a segment of the ORDER group; ok is false when
// name is not one. details lists the segments that can be the order
// detail.
func (c *orderCursor) orderSegment(s Segment, details map[string]bool) (ok bool) {
	name := s.Name()
	switch {
	case name == "ORC":
		c.newOrder().ORC = s
	case name == "RQ1" && c.ord != nil && c.ord.Detail.Name() == "RQD":
		// Requisition detail-1 travels with its RQD.
		c.ord.Extra = append(c.ord.Extra, s)
	case details[name]:
		if c.ord == nil || c.ord.Detail.Exists() {
			c.newOrder()
		}
		c.ord.Detail = s
		c.nte, c.extra = &c.ord.NTE, &c.ord.Extra
		c.obs, c.spec = nil, nil
	case c.ord == nil:
		return false
	case name == "TQ1":
		c.ord.Timing = append(c.ord.Timing, Timing{TQ1: s})
		c.timing = &c.ord.Timing[len(c.ord.Timing)-1]
	case name == "TQ2":
		if c.timing == nil {
			return false
		}
		c.timing.TQ2 = append(c.timing.TQ2, s)
	case name == "CTD":
		if c.ord.CTD.Exists() {
			return false
		}
		c.ord.CTD = s
	case name == "DG1":
		c.ord.DG1 = append(c.ord.DG1, s)
	case name == "OBX":
		if c.spec != nil {
			c.spec.OBX = append(c.spec.OBX, s)
			return true
		}
		c.ord.Observations = append(c.ord.Observations, Observation{OBX: s})
		c.obs = &c.ord.Observations[len(c.ord.Observations)-1]
		c.nte, c.extra = &c.obs.NTE, &c.obs.Extra
	case name == "FT1":
		c.ord.FT1 = append(c.ord.FT1, s)
	case name == "CTI":
		c.ord.CTI = append(c.ord.CTI, s)
	case name == "BLG":
		if c.ord.BLG.Exists() {
			return false
		}
		c.ord.BLG = s
	case name == "IPC":
		c.ord.IPC = append(c.ord.IPC, s)
	case name == "SPM":
		c.ord.Specimens = append(c.ord.Specimens, Specimen{SPM: s})
		c.spec = &c.ord.Specimens[len(c.ord.Specimens)-1]
		c.obs, c.nte, c.extra = nil, nil, &c.spec.Extra
	default:
		return false
	}
	return true
}

// other places an NTE, a Z-segment or an unknown segment.
func (c *orderCursor) other(s Segment, top *[]Segment) {
	switch {
	case s.Name() == "NTE" && c.nte != nil:
		*c.nte = append(*c.nte, s)
	case s.Name() == "NTE":
		c.p.misplaced(s)
		*c.extraOr(top) = append(*c.extraOr(top), s)
	default:
		if !isZ(s.Name()) && knownSegments[s.Name()] != "" {
			c.p.misplaced(s)
		}
		*c.extraOr(top) = append(*c.extraOr(top), s)
	}
}

func (c *orderCursor) extraOr(top *[]Segment) *[]Segment {
	if c.extra != nil {
		return c.extra
	}
	return top
}

var oruDetails = map[string]bool{"OBR": true}

// ParseORU reads an ORU^R01 into its groups. The errors are sequence
// problems (see the file comment of structure.go); the ORU is usable
// whatever they are.
func ParseORU(m *Message) (*ORU, []*Error) {
	p := newStructureParser(m)
	o := &ORU{MSH: p.next(0)}
	var res *PatientResult
	c := &orderCursor{p: p}
	newResult := func() {
		o.Results = append(o.Results, PatientResult{})
		res = &o.Results[len(o.Results)-1]
		c.orders = &res.Orders
		c.ord, c.obs, c.spec, c.timing, c.ins = nil, nil, nil, nil, nil
		c.nte, c.extra, c.inOrder, c.patient = nil, nil, false, nil
	}
	for i := 1; i < m.Len(); i++ {
		s := p.next(i)
		switch name := s.Name(); {
		case name == "SFT" && res == nil:
			o.SFT = append(o.SFT, s)
		case name == "PID":
			newResult()
			res.Patient = &Patient{PID: s}
			c.patient = res.Patient
			c.nte, c.extra = &res.Patient.NTE, &res.Patient.Extra
		case c.patient != nil && !c.inOrder && c.patientSegment(s):
		case name == "ORC" || name == "OBR":
			if res == nil {
				newResult()
			}
			c.orderSegment(s, oruDetails)
		case name == "DSC":
			o.DSC = s
		case c.ord != nil && c.orderSegment(s, oruDetails):
		default:
			c.other(s, &o.Extra)
		}
	}
	for _, r := range o.Results {
		for k := range r.Orders {
			if !r.Orders[k].Detail.Exists() {
				p.missing("OBR")
				break
			}
		}
	}
	if len(o.Results) == 0 || len(o.Results[0].Orders) == 0 {
		p.missing("OBR")
	}
	return o, p.errs
}

var ormDetails = map[string]bool{"OBR": true, "RQD": true, "RQ1": true, "RXO": true, "ODS": true, "ODT": true}
var omiDetails = map[string]bool{"OBR": true}

// ParseORM reads an ORM^O01 into its groups (see ParseORU for the errors).
func ParseORM(m *Message) (*OrderMessage, []*Error) {
	return parseOrderMessage(m, ormDetails)
}

// ParseOMI reads an OMI^O23 into its groups (see ParseORU for the errors).
func ParseOMI(m *Message) (*OrderMessage, []*Error) {
	return parseOrderMessage(m, omiDetails)
}

func parseOrderMessage(m *Message, details map[string]bool) (*OrderMessage, []*Error) {
	p := newStructureParser(m)
	o := &OrderMessage{MSH: p.next(0)}
	c := &orderCursor{p: p, orders: &o.Orders, nte: &o.NTE}
	for i := 1; i < m.Len(); i++ {
		s := p.next(i)
		switch name := s.Name(); {
		case name == "SFT" && c.patient == nil && !c.inOrder:
			o.SFT = append(o.SFT, s)
		case name == "PID" && o.Patient == nil && !c.inOrder:
			o.Patient = &Patient{PID: s}
			c.patient = o.Patient
			c.nte, c.extra = &o.Patient.NTE, &o.Patient.Extra
		case c.patient != nil && !c.inOrder && c.patientSegment(s):
		case name == "ORC" || details[name]:
			c.orderSegment(s, details)
		case c.inOrder && c.orderSegment(s, details):
		default:
			c.other(s, &o.Extra)
		}
	}
	if len(o.Orders) == 0 {
		p.missing("ORC")
	}
	for k := range o.Orders {
		if !o.Orders[k].ORC.Exists() {
			p.missing("ORC")
			break
		}
	}
	return o, p.errs
}
