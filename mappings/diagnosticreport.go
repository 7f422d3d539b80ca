package mappings

import (
	"encoding/base64"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the OBR of a result to DiagnosticReport, following the
// v2-to-FHIR IG's segment map OBR[DiagnosticReport]: identifiers (filler,
// placer, accession), status (OBR-25), category (LAB or RAD, and the
// diagnostic service section OBR-24), code (OBR-4), effective time (OBR-7,
// OBR-8), issued (OBR-22), results interpreter (OBR-32), specimens,
// results, and for imaging the conclusion, the report text and the
// ImagingStudy. Encapsulated documents (OBX of type ED, such as a PDF) and
// the text of an imaging report become presentedForm attachments. A
// corrected report (OBR-25 C) has the same key and updates the same
// DiagnosticReport as a new version.

// reportSystem is the Identifier.system of reports without order numbers.
const reportSystem = "urn:fhirhub:hl7v2:report"

// noteExtension carries OBR notes (NTE): R4 DiagnosticReport has no note
// element, R5 has; this is its cross-version extension.
const noteExtension = "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.note"

// reportParts is what the OBX of an order contribute to its report.
type reportParts struct {
	results    []any
	specimens  []any
	forms      []any
	text       []string
	conclusion []string
	study      fhir.Object
}

// diagnosticReport writes the report of oc.
func (b *builder) diagnosticReport(oc *orderContext, parts *reportParts) error {
	obr := oc.obr
	var ids []any
	if id := b.identifierFromEI(oc.ids.filler, "FILL", fillerSystem); id != nil {
		ids = append(ids, id)
	}
	if id := b.identifierFromEI(oc.ids.placer, "PLAC", placerSystem); id != nil {
		ids = append(ids, id)
	}
	if id := b.identifierFromEI(oc.ids.accession, "ACSN", accessionSystem); id != nil {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		ids = append(ids, fhir.Object{"system": reportSystem, "value": oc.key})
	}
	status := reportStatus[strings.ToUpper(strings.TrimSpace(obr.Field(25).String()))]
	if status == "" {
		status = "unknown"
	}
	cat := fhir.Object{"system": v2Table("0074"), "code": "LAB", "display": "Laboratory"}
	if oc.imaging {
		cat = fhir.Object{"system": v2Table("0074"), "code": "RAD", "display": "Radiology"}
	}
	categories := []any{fhir.Object{"coding": []any{cat}}}
	if sect := strings.ToUpper(strings.TrimSpace(obr.Field(24).String())); sect != "" && sect != cat["code"] {
		categories = append(categories, tableConcept(sect, "0074"))
	}
	dr := fhir.Object{
		"identifier": ids,
		"status":     status,
		"category":   categories,
		"code":       codeableConcept(hl7v2.ParseCWE(obr.Field(4)), ""),
		"subject":    oc.patient.reference(),
	}
	if oc.sr != nil {
		dr["basedOn"] = []any{oc.sr}
	}
	if oc.visit != nil {
		dr["encounter"] = oc.visit.ref
	}
	start, err := b.ts(obr.Field(7), loc(obr, 7))
	if err != nil {
		return err
	}
	end, err := b.ts(obr.Field(8), loc(obr, 8))
	if err != nil {
		return err
	}
	if !end.IsZero() && !start.IsZero() {
		dr["effectivePeriod"] = period(start, end)
	} else if s := dateTime(start); s != "" {
		dr["effectiveDateTime"] = s
	}
	issued, err := b.ts(obr.Field(22), loc(obr, 22))
	if err != nil {
		return err
	}
	if s := instant(issued); s != "" {
		dr["issued"] = s
	}
	if perf := b.organization(b.hdr.SendingFacility, ""); perf != nil {
		dr["performer"] = []any{perf}
	}
	var interpreters []any
	for r := range obr.Field(32).Reps() {
		if ref := b.practitioner(parseNDL(r)); ref != nil {
			interpreters = append(interpreters, ref)
		}
	}
	if len(interpreters) > 0 {
		dr["resultsInterpreter"] = interpreters
	}
	if len(parts.specimens) > 0 {
		dr["specimen"] = parts.specimens
	}
	if len(parts.results) > 0 {
		dr["result"] = parts.results
	}
	if parts.study != nil {
		dr["imagingStudy"] = []any{parts.study}
	}
	if len(parts.conclusion) > 0 {
		dr["conclusion"] = strings.Join(parts.conclusion, "\n")
	}
	forms := parts.forms
	if len(parts.text) > 0 {
		forms = append([]any{fhir.Object{
			"contentType": "text/plain",
			"data":        base64.StdEncoding.EncodeToString([]byte(strings.Join(parts.text, "\n"))),
			"title":       "Report text",
		}}, forms...)
	}
	if len(forms) > 0 {
		dr["presentedForm"] = forms
	}
	var ext []any
	for _, n := range notes(oc.order.NTE) {
		ext = append(ext, fhir.Object{"url": noteExtension, "valueAnnotation": n})
	}
	if len(ext) > 0 {
		dr["extension"] = ext
	}
	b.put("DiagnosticReport", criteria("identifier", tokenOf(ids[0].(fhir.Object))), dr)
	return nil
}

// attachment maps an OBX of type ED to an Attachment; nil for one without
// data.
func attachment(obx hl7v2.Segment) (fhir.Object, error) {
	ed := hl7v2.ParseED(obx.Field(5))
	data, err := ed.Bytes()
	if err != nil {
		return nil, fieldError(loc(obx, 5), err, "encapsulated data cannot be decoded")
	}
	if len(data) == 0 {
		return nil, nil
	}
	a := fhir.Object{
		"contentType": mimeType(ed),
		"data":        base64.StdEncoding.EncodeToString(data),
	}
	code := hl7v2.ParseCWE(obx.Field(3))
	if t := code.Text; t != "" {
		a["title"] = t
	}
	return a, nil
}

// mimeTypes maps ED.3 (table 0291, data subtype) to a MIME type.
var mimeTypes = map[string]string{
	"PDF": "application/pdf", "JPEG": "image/jpeg", "JPG": "image/jpeg", "PNG": "image/png",
	"GIF": "image/gif", "TIFF": "image/tiff", "TIF": "image/tiff", "RTF": "application/rtf",
	"HTML": "text/html", "XML": "application/xml", "DICOM": "application/dicom",
	"OCTET-STREAM": "application/octet-stream", "PLAIN": "text/plain", "TEXT": "text/plain",
}

// mimeType returns the MIME type of encapsulated data from its subtype
// (ED.3), a MIME type itself in some messages, else its type (ED.2).
func mimeType(ed hl7v2.ED) string {
	sub := strings.TrimSpace(ed.DataSubtype)
	if m, ok := mimeTypes[strings.ToUpper(sub)]; ok {
		return m
	}
	if strings.Count(sub, "/") == 1 && !strings.ContainsAny(sub, " ;") {
		return strings.ToLower(sub)
	}
	if strings.EqualFold(ed.TypeOfData, "TEXT") {
		return "text/plain"
	}
	return "application/octet-stream"
}

// isImpression reports whether a text OBX of an imaging report is its
// impression (the report's conclusion): LOINC 19005-8, an "IMP" sub-id (as
// DICOM SR to HL7 mappings write it) or a name that says so.
func isImpression(obx hl7v2.Segment, code hl7v2.CWE) bool {
	sub := strings.ToUpper(strings.TrimLeft(strings.TrimSpace(obx.Field(4).String()), "&"))
	return code.Identifier == "19005-8" || sub == "IMP" || strings.Contains(strings.ToLower(code.Text), "impression")
}
