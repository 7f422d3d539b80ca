package auth

import "strings"

// Perm is a set of SMART v2 permissions: create, read, update, delete,
// search (the letters of ".cruds").
type Perm uint8

// The permissions, in the order SMART writes them.
const (
	PermCreate Perm = 1 << iota
	PermRead
	PermUpdate
	PermDelete
	PermSearch

	PermAll Perm = PermCreate | PermRead | PermUpdate | PermDelete | PermSearch
)

const permLetters = "cruds"

// ParsePerm reads SMART v2 permission letters ("rs", "cruds"; in that
// order, each at most once) or the v1 forms read (rs), write (cud) and *.
func ParsePerm(s string) (Perm, bool) {
	switch s {
	case "read":
		return PermRead | PermSearch, true
	case "write":
		return PermCreate | PermUpdate | PermDelete, true
	case "*":
		return PermAll, true
	case "":
		return 0, false
	}
	var p Perm
	next := 0
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(permLetters[next:], s[i])
		if j < 0 {
			return 0, false
		}
		next += j + 1
		p |= 1 << (next - 1)
	}
	return p, true
}

// String returns p as SMART v2 letters, such as "rs".
func (p Perm) String() string {
	var b strings.Builder
	for i := 0; i < len(permLetters); i++ {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// Has reports whether p includes every permission of q.
func (p Perm) Has(q Perm) bool { return p&q == q }

// Scope contexts (SMART scopes-and-launch-context).
const (
	ContextPatient = "patient"
	ContextUser    = "user"
	ContextSystem  = "system"
)

// Scope is one SMART resource scope, such as patient/Observation.rs.
type Scope struct {
	Context string // patient, user or system
	Type    string // a resource type, or * for all
	Perm    Perm
}

// ParseScope reads a SMART resource scope (v2 "user/Observation.rs" or v1
// "user/Observation.read"). It returns false for other scopes (openid,
// launch, offline_access ...) and for v2 scopes with search parameters
// ("patient/Observation.rs?category=laboratory"): those restrictions are
// not enforced yet, so such a scope grants nothing rather than more than
// it says.
func ParseScope(s string) (Scope, bool) {
	ctx, rest, ok := strings.Cut(s, "/")
	if !ok || (ctx != ContextPatient && ctx != ContextUser && ctx != ContextSystem) {
		return Scope{}, false
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || typ == "" || strings.ContainsAny(perm, "?&=") {
		return Scope{}, false
	}
	if typ != "*" && !isTypeName(typ) {
		return Scope{}, false
	}
	p, ok := ParsePerm(perm)
	if !ok {
		return Scope{}, false
	}
	return Scope{Context: ctx, Type: typ, Perm: p}, true
}

// String returns the scope in SMART v2 form.
func (s Scope) String() string { return s.Context + "/" + s.Type + "." + s.Perm.String() }

// grants reports whether s allows perm on resource type typ.
func (s Scope) grants(typ string, perm Perm) bool {
	return (s.Type == "*" || s.Type == typ) && s.Perm.Has(perm)
}

func isTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
