-- The HL7 v2 message store: every message received over MLLP or Kafka,
-- kept as received (raw bytes) with the MSH fields an operator searches by.
--
-- The first message with a (sending facility, control id) "claims" the key
-- (HL7 v2.5.1 section 2.10.1: MSH-10 is unique per sending system): it is
-- the one processed. A later one with the same key and the same body is a
-- duplicate, with another body a conflict; both are stored too, pointing
-- at the claimant, and are never processed. Rejected messages claim
-- nothing, so that a corrected resend is taken.
CREATE TABLE hl7_message (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at        timestamptz NOT NULL,
    raw                bytea NOT NULL,
    body_hash          bytea NOT NULL,
    channel            text NOT NULL DEFAULT '',
    peer               text NOT NULL DEFAULT '',
    sending_app        text NOT NULL DEFAULT '',
    sending_facility   text NOT NULL DEFAULT '',
    receiving_app      text NOT NULL DEFAULT '',
    receiving_facility text NOT NULL DEFAULT '',
    control_id         text NOT NULL DEFAULT '',
    message_type       text NOT NULL DEFAULT '',
    trigger_event      text NOT NULL DEFAULT '',
    structure          text NOT NULL DEFAULT '',
    version            text NOT NULL DEFAULT '',
    patient_id         text NOT NULL DEFAULT '',
    patient_id_system  text NOT NULL DEFAULT '',
    status             text NOT NULL CHECK (status IN ('received', 'processed', 'error', 'rejected', 'duplicate', 'conflict')),
    ack_code           text NOT NULL DEFAULT '',
    error              text NOT NULL DEFAULT '',
    attempts           integer NOT NULL DEFAULT 0,
    duplicate_of       bigint REFERENCES hl7_message (id),
    claims_key         boolean NOT NULL,
    processed_at       timestamptz,
    published_at       timestamptz,
    resources          text[] NOT NULL DEFAULT '{}'
);

CREATE UNIQUE INDEX hl7_message_key ON hl7_message (sending_facility, control_id) WHERE claims_key;
CREATE INDEX hl7_message_received ON hl7_message (received_at, id);
CREATE INDEX hl7_message_status ON hl7_message (status, received_at, id);
CREATE INDEX hl7_message_type ON hl7_message (message_type, trigger_event, received_at, id);
CREATE INDEX hl7_message_sender ON hl7_message (sending_facility, sending_app, received_at, id);
CREATE INDEX hl7_message_patient ON hl7_message (patient_id, received_at, id) WHERE patient_id <> '';
CREATE INDEX hl7_message_control ON hl7_message (control_id);
-- Accepted messages not yet on the hl7v2.inbound topic (crash repair).
CREATE INDEX hl7_message_unpublished ON hl7_message (id) WHERE claims_key AND published_at IS NULL;
