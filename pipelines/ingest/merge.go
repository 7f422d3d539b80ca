package ingest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// This file completes an ADT^A40 (merge patient, HL7 v2.5.1 section
// 3.3.40) with what the pure mapping cannot do (mappings.Merges): it reads
// the store to
//
//   - re-point the merged Patient's compartment (FHIR R4
//     compartmentdefinition-patient) to the survivor: every resource of
//     RepointTypes whose `patient` search parameter names the merged
//     Patient, and every Coverage whose subscriber or policy holder it is,
//     is written again (PUT Type/id with If-Match on the version read)
//     with each reference to the merged Patient replaced by one to the
//     survivor and meta.source set to the A40;
//   - turn the logical Patient.link references (by identifier) into
//     literal ones (Patient/id, keeping the identifier): the Patients'
//     JSON Patches are applied here to the versions read and written as
//     PUTs with If-Match, because a patch body cannot hold a reference
//     the transaction would resolve, and the survivor may be created by
//     this very Bundle (then it is named by its entry's fullUrl).
//
// Everything goes into the message's own transaction Bundle, so the merge
// is atomic and each changed version writes its outbox row (change
// events for both Patients and every re-pointed resource). Replaying the
// A40 finds nothing left to re-point and writes the same Patients again,
// which the store turns into no new version. A version changed between
// the read and the commit fails the If-Match with a version conflict,
// which the pipeline retries (IsRetryable), reading again.

// RepointTypes are the resource types of the Patient compartment whose
// resources follow a merged Patient to the survivor: clinical, care and
// administrative records, each searched by its `patient` parameter.
// Provenance and AuditEvent, also in the compartment, are left alone: they
// record what happened to the merged Patient's record, and stay true.
var RepointTypes = []string{
	"Account", "AllergyIntolerance", "Appointment", "AppointmentResponse", "BodyStructure",
	"CarePlan", "CareTeam", "ChargeItem", "Claim", "ClaimResponse", "ClinicalImpression",
	"Communication", "CommunicationRequest", "Composition", "Condition", "Consent", "Coverage",
	"CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "DeviceRequest",
	"DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "Encounter",
	"EpisodeOfCare", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "ImagingStudy",
	"Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice", "List",
	"MeasureReport", "MedicationAdministration", "MedicationDispense", "MedicationRequest",
	"MedicationStatement", "NutritionOrder", "Observation", "Procedure", "QuestionnaireResponse",
	"RelatedPerson", "RiskAssessment", "ServiceRequest", "Specimen", "SupplyDelivery", "Task",
	"VisionPrescription",
}

// repointPage is the page size of the compartment searches.
const repointPage = 500

// Searcher searches the FHIR store (service.Service).
type Searcher interface {
	Search(ctx context.Context, typ string, params url.Values) (*store.SearchResult, *store.SearchQuery, []fhir.Issue, error)
}

// mergePatient is one Patient of an A40 as this Bundle and the store see
// it.
type mergePatient struct {
	criteria string          // "identifier=..." (no "Patient?")
	current  *store.Resource // nil: the Bundle creates it
	ensure   fhir.Object     // its POST entry (ifNoneExist = criteria)
	patch    fhir.Object     // its PATCH entry, if any
	ensureAt int             // the index of ensure in the Bundle
	patchAt  int             // the index of patch, -1 when none
	ids      []fhir.Object   // identifiers it is known by
}

// ref returns how entries of the Bundle refer to p: Patient/id when it
// exists, else the fullUrl of the entry creating it.
func (p *mergePatient) ref() string {
	if p.current != nil {
		return p.current.Reference()
	}
	s, _ := p.ensure["fullUrl"].(string)
	return s
}

// completeMerge adds the A40's store-dependent entries to bundle (see the
// comment above); it does nothing for other messages. It costs, per merge,
// two Patient searches and one compartment search per 500 resources
// (plus two for Coverage subscribers and policy holders), and one PUT
// entry per resource re-pointed; more than MaxRepoint resources is a
// permanent failure (fhir.IssueTooCostly).
func (p *Pipeline) completeMerge(ctx context.Context, parsed *hl7v2.Message, bundle fhir.Object, opt mappings.Options) error {
	if h := parsed.Header(); h.Type.Code != "ADT" || h.Type.Trigger != "A40" {
		return nil
	}
	merges, err := mappings.Merges(parsed, opt)
	if err != nil || len(merges) == 0 {
		return err
	}
	entries, _ := bundle["entry"].([]any)
	patients := map[string]*mergePatient{}
	get := func(criteria string) (*mergePatient, error) {
		crit := strings.TrimPrefix(criteria, "Patient?")
		if mp := patients[crit]; mp != nil {
			return mp, nil
		}
		mp := &mergePatient{criteria: crit, patchAt: -1}
		for i, raw := range entries {
			e, _ := raw.(fhir.Object)
			req, _ := e["request"].(fhir.Object)
			switch {
			case req["method"] == "POST" && req["url"] == "Patient" && req["ifNoneExist"] == crit:
				mp.ensure, mp.ensureAt = e, i
			case req["method"] == "PATCH" && req["url"] == "Patient?"+crit:
				mp.patch, mp.patchAt = e, i
			}
		}
		if mp.ensure == nil {
			return nil, fmt.Errorf("merge: no entry creates %s", criteria)
		}
		matches, err := p.match(ctx, "Patient", crit)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if len(matches) > 1 {
			return nil, &permanentError{err: fmt.Errorf("merge: %w", fhir.Errorf(fhir.IssueMultipleMatches, "the criteria of a merged patient select several Patients"))}
		}
		if len(matches) == 1 {
			mp.current = matches[0]
			if obj, err := fhir.ParseObject(mp.current.Content); err == nil {
				mp.ids = identifiers(obj)
			}
		}
		res, _ := mp.ensure["resource"].(fhir.Object)
		mp.ids = append(mp.ids, identifiers(res)...)
		patients[crit] = mp
		return mp, nil
	}
	type pair struct{ survivor, merged *mergePatient }
	var pairs []pair
	for _, m := range merges {
		s, err := get(m.Survivor)
		if err != nil {
			return err
		}
		mg, err := get(m.Merged)
		if err != nil {
			return err
		}
		pairs = append(pairs, pair{s, mg})
	}
	all := make([]*mergePatient, 0, len(patients))
	for _, mp := range patients {
		all = append(all, mp)
	}
	// Links: literal references in what creates and what updates each Patient.
	drop := map[int]bool{}
	for _, mp := range all {
		if res, _ := mp.ensure["resource"].(fhir.Object); res != nil {
			resolveLinks(res, all, nil)
		}
		if mp.patch == nil {
			continue
		}
		if mp.current == nil {
			// Created by the ensure, which holds the resolved links: the
			// patch's logical ones must not replace them.
			if err := dropPatchOps(mp.patch, "/link"); err != nil {
				return err
			}
			continue
		}
		put, err := patchedPut(mp, all)
		if err != nil {
			return err
		}
		// The PUT replaces the patch, and the ensure (a no-op on an
		// existing Patient) whose fullUrl it takes over: a transaction
		// must not write one resource twice.
		entries[mp.patchAt] = put
		drop[mp.ensureAt] = true
	}
	// Re-point each merged Patient's compartment.
	written := map[string]bool{}
	for _, mp := range all {
		if mp.current != nil {
			written[mp.current.Reference()] = true
		}
	}
	var added []any
	n := 0
	for _, pr := range pairs {
		if pr.merged.current == nil || (pr.survivor.current != nil && pr.survivor.current.ID == pr.merged.current.ID) {
			continue // unknown until now: nothing refers to it
		}
		from, to := pr.merged.current.Reference(), pr.survivor.ref()
		err := p.compartment(ctx, from, func(r *store.Resource) error {
			if written[r.Reference()] {
				return nil
			}
			written[r.Reference()] = true
			if n++; n > p.cfg.MaxRepoint {
				return &permanentError{err: fmt.Errorf("merge: %w", fhir.Errorf(fhir.IssueTooCostly,
					"the merged patient has more than %d resources to re-point (MaxRepoint)", p.cfg.MaxRepoint))}
			}
			obj, err := fhir.ParseObject(r.Content)
			if err != nil {
				return fmt.Errorf("merge: stored %s: %w", r.Reference(), err)
			}
			if !replaceReferences(obj, from, to) {
				return nil
			}
			stamp(obj, opt.MessageRef)
			added = append(added, fhir.Object{
				"resource": obj,
				"request":  fhir.Object{"method": "PUT", "url": r.Reference(), "ifMatch": r.ETag()},
			})
			return nil
		})
		if err != nil {
			return err
		}
	}
	out := make([]any, 0, len(entries)+len(added))
	for i, raw := range entries {
		if !drop[i] {
			out = append(out, raw)
		}
	}
	bundle["entry"] = append(out, added...)
	return nil
}

// match returns up to two current typ resources matching criteria.
func (p *Pipeline) match(ctx context.Context, typ, criteria string) ([]*store.Resource, error) {
	params, err := url.ParseQuery(criteria)
	if err != nil {
		return nil, &permanentError{err: fmt.Errorf("criteria %s: %w", typ, err)}
	}
	params.Set("_count", "2")
	params.Set("_total", "none")
	res, _, _, err := p.cfg.Service.Search(ctx, typ, params)
	if err != nil {
		return nil, err
	}
	return res.Matches, nil
}

// compartment calls fn with each current resource that refers to the
// Patient ref ("Patient/id") through the searches a merge re-points,
// paging through the results.
func (p *Pipeline) compartment(ctx context.Context, ref string, fn func(*store.Resource) error) error {
	searches := []url.Values{
		{"_type": {strings.Join(RepointTypes, ",")}, "patient": {ref}},
		{"_type": {"Coverage"}, "subscriber": {ref}},
		{"_type": {"Coverage"}, "policy-holder": {ref}},
	}
	for _, params := range searches {
		params.Set("_count", strconv.Itoa(repointPage))
		params.Set("_total", "none")
		for {
			res, _, _, err := p.cfg.Service.Search(ctx, "", params)
			if err != nil {
				return fmt.Errorf("merge: compartment: %w", err)
			}
			for _, r := range res.Matches {
				if err := fn(r); err != nil {
					return err
				}
			}
			if res.Next == "" || len(res.Matches) == 0 {
				break
			}
			params.Set(service.CursorParam, res.Next)
		}
	}
	return nil
}

// patchedPut returns the entry that writes mp's patch applied to its
// current version, links resolved, with If-Match on that version.
func patchedPut(mp *mergePatient, all []*mergePatient) (fhir.Object, error) {
	ops, err := patchOps(mp.patch)
	if err != nil {
		return nil, err
	}
	obj, err := fhir.ParseObject(mp.current.Content)
	if err != nil {
		return nil, fmt.Errorf("merge: stored %s: %w", mp.current.Reference(), err)
	}
	old, _ := obj["link"].([]any)
	patched, err := service.ApplyJSONPatch(obj, fhir.MarshalJSON(ops))
	if err != nil {
		return nil, &permanentError{err: fmt.Errorf("merge: patch %s: %w", mp.current.Reference(), err)}
	}
	res, _ := patched.(fhir.Object)
	resolveLinks(res, all, old)
	put := fhir.Object{
		"resource": res,
		"request":  fhir.Object{"method": "PUT", "url": mp.current.Reference(), "ifMatch": mp.current.ETag()},
	}
	if u, ok := mp.ensure["fullUrl"]; ok {
		put["fullUrl"] = u
	}
	return put, nil
}

// resolveLinks gives each Patient.link of res naming one of the merge's
// Patients by identifier a literal reference to it (Patient/id, or the
// fullUrl of the entry creating it), and keeps the links of old (the
// version replaced) to other Patients, so that an earlier merge's link is
// not lost.
func resolveLinks(res fhir.Object, all []*mergePatient, old []any) {
	links, _ := res["link"].([]any)
	for _, l := range links {
		link, _ := l.(fhir.Object)
		other, _ := link["other"].(fhir.Object)
		if other == nil {
			continue
		}
		if id, ok := other["identifier"].(fhir.Object); ok {
			for _, mp := range all {
				if hasIdentifier(mp.ids, id) {
					other["reference"] = mp.ref()
					break
				}
			}
		}
	}
	for _, l := range old {
		link, _ := l.(fhir.Object)
		other, _ := link["other"].(fhir.Object)
		if other == nil || slicesContainsOther(links, other) {
			continue
		}
		links = append(links, link)
	}
	if len(links) > 0 {
		res["link"] = links
	}
}

// slicesContainsOther reports whether links has one to the Patient other
// names (same reference or same identifier).
func slicesContainsOther(links []any, other fhir.Object) bool {
	ref, _ := other["reference"].(string)
	id, _ := other["identifier"].(fhir.Object)
	for _, l := range links {
		link, _ := l.(fhir.Object)
		o, _ := link["other"].(fhir.Object)
		if r, _ := o["reference"].(string); ref != "" && r == ref {
			return true
		}
		if oid, _ := o["identifier"].(fhir.Object); id != nil && oid != nil && sameIdentifier(oid, id) {
			return true
		}
	}
	return false
}

// identifiers returns the identifiers of a resource.
func identifiers(res fhir.Object) []fhir.Object {
	var out []fhir.Object
	list, _ := res["identifier"].([]any)
	for _, v := range list {
		if id, ok := v.(fhir.Object); ok {
			out = append(out, id)
		}
	}
	return out
}

func hasIdentifier(ids []fhir.Object, id fhir.Object) bool {
	for _, have := range ids {
		if sameIdentifier(have, id) {
			return true
		}
	}
	return false
}

func sameIdentifier(a, b fhir.Object) bool {
	av, _ := a["value"].(string)
	bv, _ := b["value"].(string)
	as, _ := a["system"].(string)
	bs, _ := b["system"].(string)
	return av != "" && av == bv && as == bs
}

// replaceReferences replaces in obj every reference to from (Patient/id,
// relative, absolute or versioned) by to; it reports whether it found one.
func replaceReferences(obj fhir.Object, from, to string) bool {
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case fhir.Object:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "reference" && refersTo(s, from) {
					x[k] = to
					found = true
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(obj)
	return found
}

// refersTo reports whether the reference s names from ("Patient/id").
func refersTo(s, from string) bool {
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	return s == from || strings.HasSuffix(s, "/"+from) && strings.Contains(s, "://")
}

// stamp sets meta.source on obj.
func stamp(obj fhir.Object, source string) {
	if source == "" {
		return
	}
	meta, _ := obj["meta"].(fhir.Object)
	if meta == nil {
		meta = fhir.Object{}
		obj["meta"] = meta
	}
	meta["source"] = source
}

// patchOps decodes the JSON Patch of a PATCH entry.
func patchOps(e fhir.Object) ([]any, error) {
	bin, _ := e["resource"].(fhir.Object)
	data, _ := bin["data"].(string)
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, &permanentError{err: fmt.Errorf("patch entry: %w", err)}
	}
	v, err := fhir.ParseJSON(raw)
	if err != nil {
		return nil, &permanentError{err: fmt.Errorf("patch entry: %w", err)}
	}
	ops, _ := v.([]any)
	return ops, nil
}

// setPatchOps replaces the JSON Patch of a PATCH entry.
func setPatchOps(e fhir.Object, ops []any) {
	bin, _ := e["resource"].(fhir.Object)
	bin["data"] = base64.StdEncoding.EncodeToString(fhir.MarshalJSON(ops))
}

// dropPatchOps removes the operations on path from a PATCH entry.
func dropPatchOps(e fhir.Object, path string) error {
	ops, err := patchOps(e)
	if err != nil {
		return err
	}
	kept := ops[:0]
	for _, o := range ops {
		if op, _ := o.(fhir.Object); op["path"] != path {
			kept = append(kept, o)
		}
	}
	setPatchOps(e, kept)
	return nil
}
