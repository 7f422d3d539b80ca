package postgres

import "hash/fnv"

// key returns the 64-bit FNV-1a hash of parts joined by NUL, as stored in
// the param and h_* columns of the index tables. A collision would make a
// search match a value it should not; at 64 bits the chance for even a
// billion distinct keys is about 3e-2 over the life of a store, and the
// text columns beside the hashes (system, code) are compared as well where
// exactness matters.
func key(parts ...string) int64 {
	h := fnv.New64a()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}

// paramKey is the key of search parameter code on resource type typ.
func paramKey(typ, code string) int64 { return key(typ, code) }

// hashType is the resource-type part of the index keys of a tenant's
// resources: the type itself for the default tenant "" (so that its keys
// are those written before tenants existed), else "tenant/Type". Every
// key hashes it first, so the keys of two tenants never coincide unless
// their hashes collide, and a search by keys alone stays in its tenant.
// A tenant id cannot contain "/" (it is a FHIR id), nor a type.
func hashType(tenant, typ string) string {
	if tenant == "" {
		return typ
	}
	return tenant + "/" + typ
}
