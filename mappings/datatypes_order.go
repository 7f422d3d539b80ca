package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// This file reads the composite datatypes of orders that adapters/hl7v2
// has no parser for: EIP (entity identifier pair, SPM-2, ORC-8) and NDL
// (name with date and location, OBR-32 to OBR-35, whose first component is
// a CNN). They are small local helpers.

// parseEIP reads an EIP: the placer's and the filler's EI, each in the
// subcomponents of its component.
func parseEIP(v hl7v2.Value) (placer, filler hl7v2.EI) {
	return hl7v2.ParseEI(v.Comp(1)), hl7v2.ParseEI(v.Comp(2))
}

// parseNDL reads the person of an NDL (its CNN in component 1: id, family
// name, given name, second given name, suffix, prefix, degree, source
// table, assigning authority namespace, universal id, universal id type)
// as an XCN.
func parseNDL(v hl7v2.Value) hl7v2.XCN {
	c := v.Comp(1)
	s := func(i int) string { return strings.TrimSpace(c.Sub(i).String()) }
	return hl7v2.XCN{
		ID:                 s(1),
		Family:             hl7v2.FN{Surname: s(2)},
		Given:              s(3),
		Middle:             s(4),
		Suffix:             s(5),
		Prefix:             s(6),
		Degree:             s(7),
		SourceTable:        s(8),
		AssigningAuthority: hl7v2.HD{NamespaceID: s(9), UniversalID: s(10), UniversalIDType: s(11)},
	}
}
