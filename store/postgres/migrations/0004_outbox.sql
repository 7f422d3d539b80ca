-- The outbox of change events (design page, flow 5): one row per resource
-- version, written in the same statement as the version itself, so that
-- a change is published if and only if it was committed. The publisher
-- reads rows in seq order, puts them on fhir.changes and deletes them;
-- the event id (Type/id/_history/version) is stable, so a row published
-- twice after a crash can be told apart by consumers.
CREATE TABLE outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rid          bigint NOT NULL,
    type         text NOT NULL,
    id           text NOT NULL,
    version      bigint NOT NULL,
    operation    text NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    compartment  text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
