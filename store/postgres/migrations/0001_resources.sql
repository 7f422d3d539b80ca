-- Resources, their history and the search index tables.
--
-- resource holds the current version of every resource (rid is the
-- store's own key, used by the index tables and as the stable search
-- order); resource_history holds every version including the current one.
-- Index rows are per value type and shared by all resource types; "param"
-- and the h_* columns are 64-bit hashes of (resource type, parameter code
-- [, system, value]) computed by the application, so a search parameter
-- added later needs no schema change.

CREATE TABLE resource (
    rid          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type         text        NOT NULL,
    id           text        NOT NULL,
    version      bigint      NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted      boolean     NOT NULL DEFAULT false,
    content      text        NOT NULL,
    UNIQUE (type, id)
);
CREATE INDEX resource_type_rid ON resource (type, rid) WHERE NOT deleted;
CREATE INDEX resource_type_updated ON resource (type, last_updated) WHERE NOT deleted;

CREATE TABLE resource_history (
    rid          bigint      NOT NULL,
    version      bigint      NOT NULL,
    type         text        NOT NULL,
    id           text        NOT NULL,
    last_updated timestamptz NOT NULL,
    method       text        NOT NULL,
    deleted      boolean     NOT NULL DEFAULT false,
    content      text,
    PRIMARY KEY (rid, version)
);
CREATE INDEX resource_history_updated ON resource_history (last_updated, rid, version);
CREATE INDEX resource_history_type_updated ON resource_history (type, last_updated, rid, version);

CREATE TABLE idx_string (
    rid   bigint NOT NULL,
    param bigint NOT NULL,
    norm  text   NOT NULL,
    exact text   NOT NULL
);
CREATE INDEX idx_string_value ON idx_string (param, norm text_pattern_ops, rid);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_token (
    rid        bigint NOT NULL,
    param      bigint NOT NULL,
    h_code     bigint NOT NULL,
    h_sys_code bigint NOT NULL,
    h_sys      bigint NOT NULL,
    system     text   NOT NULL,
    code       text   NOT NULL,
    display    text   NOT NULL
);
CREATE INDEX idx_token_code ON idx_token (h_code, rid);
CREATE INDEX idx_token_sys_code ON idx_token (h_sys_code, rid);
CREATE INDEX idx_token_sys ON idx_token (h_sys, rid);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_date (
    rid   bigint      NOT NULL,
    param bigint      NOT NULL,
    lo    timestamptz NOT NULL,
    hi    timestamptz NOT NULL
);
CREATE INDEX idx_date_lo ON idx_date (param, lo, hi);
CREATE INDEX idx_date_hi ON idx_date (param, hi);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_number (
    rid   bigint           NOT NULL,
    param bigint           NOT NULL,
    value double precision NOT NULL,
    lo    double precision NOT NULL,
    hi    double precision NOT NULL
);
CREATE INDEX idx_number_lo ON idx_number (param, lo, hi);
CREATE INDEX idx_number_rid ON idx_number (rid);

CREATE TABLE idx_quantity (
    rid        bigint           NOT NULL,
    param      bigint           NOT NULL,
    h_code     bigint           NOT NULL,
    h_sys_code bigint           NOT NULL,
    value      double precision NOT NULL,
    lo         double precision NOT NULL,
    hi         double precision NOT NULL
);
CREATE INDEX idx_quantity_param ON idx_quantity (param, lo, hi);
CREATE INDEX idx_quantity_code ON idx_quantity (h_code, lo, hi);
CREATE INDEX idx_quantity_sys_code ON idx_quantity (h_sys_code, lo, hi);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_reference (
    rid         bigint NOT NULL,
    param       bigint NOT NULL,
    target_type text   NOT NULL,
    target_id   text   NOT NULL,
    url         text   NOT NULL
);
CREATE INDEX idx_reference_target ON idx_reference (param, target_type, target_id, rid);
CREATE INDEX idx_reference_url ON idx_reference (param, url, rid) WHERE url <> '';
CREATE INDEX idx_reference_rid ON idx_reference (rid, param);

CREATE TABLE idx_uri (
    rid   bigint NOT NULL,
    param bigint NOT NULL,
    value text   NOT NULL
);
CREATE INDEX idx_uri_value ON idx_uri (param, value text_pattern_ops, rid);
CREATE INDEX idx_uri_rid ON idx_uri (rid);

-- One row per composite value: h_first is the hash of the first
-- component's (type, param, system, code); the second component is kept as a
-- token hash or a range, whichever its type needs.
CREATE TABLE idx_composite (
    rid      bigint           NOT NULL,
    param    bigint           NOT NULL,
    h_first  bigint           NOT NULL,
    h_second bigint           NOT NULL DEFAULT 0,
    lo       double precision,
    hi       double precision,
    t_lo     timestamptz,
    t_hi     timestamptz
);
CREATE INDEX idx_composite_first ON idx_composite (h_first, h_second, rid);
CREATE INDEX idx_composite_rid ON idx_composite (rid);
