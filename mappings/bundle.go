package mappings

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file builds the transaction Bundle (FHIR R4 http.html#transaction)
// every mapping returns. Entries come in three kinds, decided by how the
// resource's content relates to the message (see the package comment):
//
//   - ensure: POST with ifNoneExist on the business key, creating the
//     resource from this message when none matches and changing nothing
//     when one does; optionally followed by a conditional PATCH (JSON
//     Patch in a Binary) that merges what the message says into the
//     resource, whether it was just created or already there;
//   - put: conditional PUT on the business key, the message being the
//     whole truth about the resource (a result, a visit snapshot);
//   - the Provenance, PUT by an id derived from the message identity.
//
// Entries are deduplicated by type and criteria, so a practitioner named
// twice is written once: a transaction must not write one resource twice.

type entryKind uint8

const (
	kindEnsure entryKind = iota
	kindPut
)

type entry struct {
	kind     entryKind
	typ      string
	criteria string
	fullURL  string
	resource fhir.Object
	patch    []any
}

// builder collects the entries of one message's Bundle.
type builder struct {
	opt    Options
	loc    *time.Location
	msg    *hl7v2.Message
	hdr    *hl7v2.Header
	source string // meta.source
	ns     uuid   // name space of this message's fullUrls

	entries []*entry
	byKey   map[string]*entry
	byURL   map[string]*entry
	merges  []Merge // A40, for Merges
}

func newBuilder(m *hl7v2.Message, opt Options) (*builder, error) {
	h := m.Header()
	if h.ControlID == "" {
		return nil, fieldError("MSH-10", nil, "no message control id")
	}
	b := &builder{opt: opt, loc: opt.Location, msg: m, hdr: h, byKey: map[string]*entry{}, byURL: map[string]*entry{}}
	if b.loc == nil {
		b.loc = time.UTC
	}
	ident := "urn:fhirhub:hl7v2:message:" + queryEscape(h.SendingApplication.String()) + ":" +
		queryEscape(h.SendingFacility.String()) + ":" + queryEscape(h.ControlID)
	b.ns = uuidV5(nsURL, ident)
	b.source = opt.MessageRef
	if b.source == "" {
		b.source = ident
	}
	return b, nil
}

// key returns the deduplication key of an entry.
func key(typ, crit string) string { return typ + "?" + crit }

// stamp sets meta.source on res.
func (b *builder) stamp(res fhir.Object) {
	meta, _ := res["meta"].(fhir.Object)
	if meta == nil {
		meta = fhir.Object{}
		res["meta"] = meta
	}
	meta["source"] = b.source
}

// ensure adds a conditional create of res (typ, criteria crit) and returns
// its fullUrl, which other entries use to refer to it. A second ensure of
// the same key returns the first entry's fullUrl and drops res.
func (b *builder) ensure(typ, crit string, res fhir.Object) string {
	k := key(typ, crit)
	if e, ok := b.byKey[k]; ok {
		return e.fullURL
	}
	res["resourceType"] = typ
	b.stamp(res)
	e := &entry{kind: kindEnsure, typ: typ, criteria: crit, fullURL: b.fullURL(k), resource: res}
	b.entries = append(b.entries, e)
	b.byKey[k] = e
	b.byURL[e.fullURL] = e
	return e.fullURL
}

// put adds a conditional update of res and returns its fullUrl. An earlier
// ensure of the same key becomes this put (its patch is kept and applied
// after it); an earlier put of the same key wins.
func (b *builder) put(typ, crit string, res fhir.Object) string {
	k := key(typ, crit)
	res["resourceType"] = typ
	b.stamp(res)
	if e, ok := b.byKey[k]; ok {
		if e.kind == kindEnsure {
			e.kind, e.resource = kindPut, res
		}
		return e.fullURL
	}
	e := &entry{kind: kindPut, typ: typ, criteria: crit, fullURL: b.fullURL(k), resource: res}
	b.entries = append(b.entries, e)
	b.byKey[k] = e
	b.byURL[e.fullURL] = e
	return e.fullURL
}

// patch appends JSON Patch operations to the entry with fullUrl ref.
func (b *builder) patch(ref string, ops []any) {
	if len(ops) == 0 {
		return
	}
	e, ok := b.byURL[ref]
	if !ok {
		return
	}
	for _, op := range ops {
		if !slices.ContainsFunc(e.patch, func(have any) bool { return bytes.Equal(fhir.MarshalJSON(have), fhir.MarshalJSON(op)) }) {
			e.patch = append(e.patch, op)
		}
	}
}

// fullURL returns the bundle-local urn:uuid of the entry with key k.
func (b *builder) fullURL(k string) string { return "urn:uuid:" + uuidV5(b.ns, k).String() }

// bundle returns the transaction Bundle with the Provenance of the message.
func (b *builder) bundle(activity string) fhir.Object {
	prov := b.provenance(activity) // may add the sender's Organization
	out := make([]any, 0, len(b.entries)+4)
	for _, e := range b.entries {
		cleanAll(e.resource)
		e.patch = cleanPatch(e.patch)
		switch e.kind {
		case kindEnsure:
			out = append(out, fhir.Object{
				"fullUrl":  e.fullURL,
				"resource": e.resource,
				"request":  fhir.Object{"method": "POST", "url": e.typ, "ifNoneExist": e.criteria},
			})
		case kindPut:
			out = append(out, fhir.Object{
				"fullUrl":  e.fullURL,
				"resource": e.resource,
				"request":  fhir.Object{"method": "PUT", "url": e.typ + "?" + e.criteria},
			})
		}
		if len(e.patch) > 0 {
			out = append(out, fhir.Object{
				"resource": fhir.Object{
					"resourceType": "Binary",
					"contentType":  "application/json-patch+json",
					"data":         base64.StdEncoding.EncodeToString(fhir.MarshalJSON(e.patch)),
				},
				"request": fhir.Object{"method": "PATCH", "url": e.typ + "?" + e.criteria},
			})
		}
	}
	if prov != nil {
		cleanAll(prov)
		id := uuidV5(b.ns, "Provenance").String()
		prov["id"] = id
		out = append(out, fhir.Object{
			"fullUrl":  "urn:uuid:" + id,
			"resource": prov,
			"request":  fhir.Object{"method": "PUT", "url": "Provenance/" + id},
		})
	}
	return fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": out}
}

// loc returns the location of field n of seg for an error: "PID-3", or
// "OBX[4]-5" for the fourth OBX.
func loc(seg hl7v2.Segment, n int) string {
	name := seg.Name()
	if name == "" {
		name = "?"
	}
	if q := seg.Sequence(); q > 1 {
		name += "[" + strconv.Itoa(q) + "]"
	}
	return name + "-" + strconv.Itoa(n)
}
