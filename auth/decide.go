package auth

import (
	"github.com/fhirhub/fhirhub/fhir"
)

// Access is how an allowed interaction is confined.
type Access struct {
	// Patient is set when only patient/ scopes allow the interaction: it
	// must stay inside this Patient's compartment.
	Patient string
}

// AllTypes asks Allow about every resource type at once (system-level
// search and history).
const AllTypes = "*"

// AuditType is the resource type of the audit trail. Only the admin role
// may read, search or create AuditEvents, whatever its scopes say of
// other types, and no one may update or delete them: the trail is
// append-only.
const AuditType = "AuditEvent"

// Allow reports whether p may use perm on resource type typ (AllTypes: on
// every type): both its role and one of its scopes must allow it. When
// only patient/ scopes do, the Access names the patient to confine the
// interaction to. A refusal is a fhir.Error with code forbidden.
func (p *Principal) Allow(typ string, perm Perm) (Access, error) {
	role := RoleNamed(p.Role)
	if role == nil {
		return Access{}, fhir.Errorf(fhir.IssueForbidden, "the token's role %q is not one of fhirhub's roles", p.Role)
	}
	if typ == AuditType {
		if perm&(PermUpdate|PermDelete) != 0 {
			return Access{}, fhir.Errorf(fhir.IssueForbidden, "AuditEvents cannot be updated or deleted: the audit trail is append-only")
		}
		if p.Role != "admin" {
			return Access{}, fhir.Errorf(fhir.IssueForbidden, "AuditEvents are for the admin role only")
		}
	}
	if !role.Perm(typ).Has(perm) {
		return Access{}, fhir.Errorf(fhir.IssueForbidden, "role %s may not %s %s", role.Name, verb(perm), typeWord(typ))
	}
	var broad, confined bool
	for _, s := range p.Scopes {
		if !s.grants(typ, perm) {
			continue
		}
		if s.Context == ContextPatient {
			// A patient/ scope without a patient context grants nothing.
			confined = confined || p.Patient != ""
			continue
		}
		broad = true
	}
	switch {
	case broad:
		return Access{}, nil
	case confined:
		return Access{Patient: p.Patient}, nil
	}
	return Access{}, fhir.Errorf(fhir.IssueForbidden, "no scope of the token allows to %s %s", verb(perm), typeWord(typ))
}

// Operator reports whether p may use the operator API (/admin).
//
// The message store and its replay span every tenant (messages are
// stored before their sending facility is mapped to one), so the
// operator API is for the deployment's own operators: tokens of the
// default tenant.
func (p *Principal) Operator() error {
	if r := RoleNamed(p.Role); r == nil || !r.Operator {
		return fhir.Errorf(fhir.IssueForbidden, "the operator API needs the admin or integration role")
	}
	if p.Tenant != "" {
		return fhir.Errorf(fhir.IssueForbidden, "the operator API spans every tenant: it needs a token of the deployment (no tenant)")
	}
	return nil
}

// Admin reports whether p has the admin role (for $reindex and other
// server-wide operations).
func (p *Principal) Admin() error {
	if p.Role != "admin" {
		return fhir.Errorf(fhir.IssueForbidden, "this operation needs the admin role")
	}
	if p.Tenant != "" {
		return fhir.Errorf(fhir.IssueForbidden, "this operation spans every tenant: it needs a token of the deployment (no tenant)")
	}
	return nil
}

func verb(p Perm) string {
	switch p {
	case PermCreate:
		return "create"
	case PermRead:
		return "read"
	case PermUpdate:
		return "update"
	case PermDelete:
		return "delete"
	case PermSearch:
		return "search"
	}
	return "use (" + p.String() + ")"
}

func typeWord(typ string) string {
	if typ == AllTypes {
		return "every resource type"
	}
	return typ
}
