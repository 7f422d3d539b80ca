package hl7v2

// This file holds the ADT structures of HL7 v2.5.1 chapter 3, read into
// one shape for every trigger event: ADT_A01 (A01 A04 A08 A13), ADT_A03,
// ADT_A05, ADT_A39 (A40 merge: one patient group per PID, each with its
// MRG) and the others.

// ADT is an admit-discharge-transfer message.
type ADT struct {
	MSH, EVN Segment
	SFT      []Segment
	// Patients holds one group per PID: one for most events, several for
	// merges (A39-A42, A43, A44) and A17 (swap patients).
	Patients []ADTPatient
	Extra    []Segment
}

// Patient returns the first patient group, or nil.
func (a *ADT) Patient() *ADTPatient {
	if len(a.Patients) == 0 {
		return nil
	}
	return &a.Patients[0]
}

// ADTPatient is the patient group of an ADT message: the PID and what
// follows it up to the next PID.
type ADTPatient struct {
	PID, PD1     Segment
	ROL, NK1     []Segment
	Visit        Visit
	DB1          []Segment
	Observations []Observation
	AL1, DG1     []Segment
	DRG          Segment
	Procedures   []Procedure
	GT1          []Segment
	Insurance    []Insurance
	ACC, UB1     Segment
	UB2, PDA     Segment
	// Merges holds the MRG segments (A34-A36, A39-A47 ...), each with the
	// PV1 that follows it.
	Merges []Merge
	Extra  []Segment
}

// Procedure is a PR1 with its roles.
type Procedure struct {
	PR1 Segment
	ROL []Segment
}

// Merge is an MRG with the visit that follows it.
type Merge struct {
	MRG, PV1 Segment
}

// ParseADT reads an ADT message into its groups (see the comment of
// structure.go for the errors).
func ParseADT(m *Message) (*ADT, []*Error) {
	p := newStructureParser(m)
	a := &ADT{MSH: p.next(0)}
	var pt *ADTPatient
	var rol, nte *[]Segment
	var ins *Insurance
	var merge *Merge
	extra := &a.Extra
	for i := 1; i < m.Len(); i++ {
		s := p.next(i)
		name := s.Name()
		if pt == nil {
			switch name {
			case "EVN":
				if !a.EVN.Exists() {
					a.EVN = s
					continue
				}
			case "SFT":
				a.SFT = append(a.SFT, s)
				continue
			}
		}
		if name == "PID" {
			a.Patients = append(a.Patients, ADTPatient{PID: s})
			pt = &a.Patients[len(a.Patients)-1]
			rol, nte, ins, merge, extra = &pt.ROL, nil, nil, nil, &pt.Extra
			continue
		}
		if pt == nil {
			if !isZ(name) && knownSegments[name] != "" && name != "MSA" && name != "UAC" && name != "ARV" {
				p.misplaced(s)
			}
			a.Extra = append(a.Extra, s)
			continue
		}
		ok := true
		switch name {
		case "PD1":
			ok = !pt.PD1.Exists()
			if ok {
				pt.PD1 = s
			}
		case "ROL":
			if rol == nil {
				ok = false
				break
			}
			*rol = append(*rol, s)
		case "NK1":
			pt.NK1 = append(pt.NK1, s)
		case "PV1":
			switch {
			case merge != nil && !merge.PV1.Exists():
				merge.PV1 = s
			case !pt.Visit.PV1.Exists():
				pt.Visit.PV1 = s
				rol = &pt.Visit.ROL
			default:
				ok = false
			}
		case "PV2":
			ok = !pt.Visit.PV2.Exists()
			if ok {
				pt.Visit.PV2 = s
			}
		case "DB1":
			pt.DB1 = append(pt.DB1, s)
		case "OBX":
			pt.Observations = append(pt.Observations, Observation{OBX: s})
			obs := &pt.Observations[len(pt.Observations)-1]
			nte, extra = &obs.NTE, &obs.Extra
			continue
		case "NTE":
			if nte == nil {
				ok = false
				break
			}
			*nte = append(*nte, s)
			continue
		case "AL1":
			pt.AL1 = append(pt.AL1, s)
		case "DG1":
			pt.DG1 = append(pt.DG1, s)
		case "DRG":
			ok = !pt.DRG.Exists()
			if ok {
				pt.DRG = s
			}
		case "PR1":
			pt.Procedures = append(pt.Procedures, Procedure{PR1: s})
			rol = &pt.Procedures[len(pt.Procedures)-1].ROL
		case "GT1":
			pt.GT1 = append(pt.GT1, s)
		case "IN1":
			pt.Insurance = append(pt.Insurance, Insurance{IN1: s})
			ins = &pt.Insurance[len(pt.Insurance)-1]
			rol = &ins.ROL
		case "IN2":
			ok = ins != nil && !ins.IN2.Exists()
			if ok {
				ins.IN2 = s
			}
		case "IN3":
			ok = ins != nil
			if ok {
				ins.IN3 = append(ins.IN3, s)
			}
		case "ACC", "UB1", "UB2", "PDA":
			dst := map[string]*Segment{"ACC": &pt.ACC, "UB1": &pt.UB1, "UB2": &pt.UB2, "PDA": &pt.PDA}[name]
			ok = !dst.Exists()
			if ok {
				*dst = s
			}
		case "MRG":
			pt.Merges = append(pt.Merges, Merge{MRG: s})
			merge = &pt.Merges[len(pt.Merges)-1]
		default:
			if !isZ(name) && knownSegments[name] != "" {
				p.misplaced(s)
			}
			*extra = append(*extra, s)
			continue
		}
		if !ok {
			p.misplaced(s)
			*extra = append(*extra, s)
			continue
		}
		// A segment other than OBX and NTE closes the observation.
		nte, extra = nil, &pt.Extra
	}
	if len(a.Patients) == 0 && a.MSH.Message().Header().Type.Trigger != "A20" {
		p.missing("PID")
	}
	return a, p.errs
}
