package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the person location datatype PL (HL7 v2.5.1 section
// 2.A.53) to a hierarchy of Locations, as the v2-to-FHIR IG's PL[Location]
// map does: the point of care (PL.1), the room (PL.2) part of it and the
// bed (PL.3) part of the room, each an instance Location managed by the
// facility (PL.4). Every level is keyed by an identifier that spells its
// path ("MAIN-HOSP|W3|312|B") under locationSystem, so that the same bed
// named by any message is the same resource.

// locationSystem is the Identifier.system of Locations made from PL.
const locationSystem = "urn:fhirhub:hl7v2:location"

// Bed status codes (HL7 table 0116), for the bed's operationalStatus.
const (
	bedOccupied   = "O"
	bedUnoccupied = "U"
)

var bedStatusDisplay = map[string]string{
	"C": "Closed", "H": "Housekeeping", "I": "Isolated", "K": "Contaminated",
	"O": "Occupied", "U": "Unoccupied",
}

// location ensures the Locations of pl and returns a Reference to the
// most specific one, nil for a PL without point of care, room or bed.
// bedStatus (table 0116, "" for none) is patched into the bed's
// operationalStatus; PL.5 (bed status), when sent, wins over it.
func (b *builder) location(pl hl7v2.PL, bedStatus string) fhir.Object {
	poc, room, bed := strings.TrimSpace(cleanText(pl.PointOfCare)), strings.TrimSpace(cleanText(pl.Room)), strings.TrimSpace(cleanText(pl.Bed))
	if poc == "" && room == "" && bed == "" {
		return nil
	}
	fac := pl.Facility
	if fac.IsZero() {
		fac = b.defaultAuthority()
	}
	facKey := fac.NamespaceID
	if facKey == "" {
		facKey = fac.UniversalID
	}
	org := b.organization(fac, "")
	path := []string{facKey}
	var parent fhir.Object
	var names []string
	levels := []struct {
		part, physical, display string
	}{
		{poc, pocPhysicalType(pl.PersonLocationType), "Ward"},
		{room, "ro", "Room"},
		{bed, "bd", "Bed"},
	}
	for i, lv := range levels {
		path = append(path, lv.part)
		if lv.part == "" {
			continue
		}
		names = append(names, lv.part)
		id := fhir.Object{"system": locationSystem, "value": strings.Join(path, "|")}
		l := fhir.Object{
			"identifier": []any{id},
			"status":     "active",
			"mode":       "instance",
			"name":       strings.Join(names, " "),
		}
		if lv.physical != "" {
			l["physicalType"] = fhir.Object{"coding": []any{fhir.Object{
				"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": lv.physical, "display": lv.display,
			}}}
		}
		if parent != nil {
			l["partOf"] = parent
		}
		if org != nil {
			l["managingOrganization"] = org
		}
		last := i == len(levels)-1 || (i == 1 && bed == "") || (i == 0 && room == "" && bed == "")
		if last && pl.LocationDescription != "" {
			l["description"] = pl.LocationDescription
		}
		ref := b.ensure("Location", criteria("identifier", tokenOf(id)), l)
		if i == 2 {
			st := strings.ToUpper(strings.TrimSpace(pl.LocationStatus))
			if _, ok := bedStatusDisplay[st]; !ok {
				st = bedStatus
			}
			if st != "" {
				os := fhir.Object{"system": v2Table("0116"), "code": st, "display": bedStatusDisplay[st]}
				l["operationalStatus"] = os
				b.patch(ref, []any{opAdd("/operationalStatus", os)})
			}
		}
		parent = reference(ref, strings.Join(names, " "))
	}
	return parent
}

// pocPhysicalType returns the location-physical-type of a point of care
// from PL.6 (table 0305): a nursing unit is a ward; others have none.
func pocPhysicalType(personLocationType string) string {
	if strings.EqualFold(personLocationType, "N") {
		return "wa"
	}
	return ""
}
