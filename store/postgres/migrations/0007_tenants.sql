-- Tenants and facilities (store.Scope). Every resource belongs to a
-- tenant ('' is the default tenant of a single-organisation deployment)
-- and may be tagged with one of its facilities (meta.tag of
-- store.FacilitySystem, copied here; '' for resources shared by the
-- tenant's facilities). Ids are unique per tenant, so one tenant's ids
-- reveal nothing about another's.
--
-- The index tables need no column: their param and h_* hashes hash the
-- tenant together with the resource type (hashType in hash.go), so a
-- search's index conditions select the caller's tenant's rows only.
-- The default tenant's hashes are those written before this migration.
ALTER TABLE resource ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE resource ADD COLUMN facility text NOT NULL DEFAULT '';
ALTER TABLE resource_history ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE resource_history ADD COLUMN facility text NOT NULL DEFAULT '';

CREATE UNIQUE INDEX resource_tenant_type_id ON resource (tenant, type, id);
ALTER TABLE resource DROP CONSTRAINT resource_type_id_key;

DROP INDEX resource_type_rid;
CREATE INDEX resource_type_rid ON resource (tenant, type, rid) WHERE NOT deleted;
DROP INDEX resource_type_updated;
CREATE INDEX resource_type_updated ON resource (tenant, type, last_updated) WHERE NOT deleted;

DROP INDEX resource_history_updated;
CREATE INDEX resource_history_updated ON resource_history (tenant, last_updated, rid, version);
DROP INDEX resource_history_type_updated;
CREATE INDEX resource_history_type_updated ON resource_history (tenant, type, last_updated, rid, version);
