-- Booked appointments: only what is needed to see the patient and reach
-- them (minimum necessary).
CREATE TABLE appointments (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    type_id          TEXT NOT NULL,
    provider_id      TEXT NOT NULL,
    location_id      TEXT NOT NULL,
    -- Unix seconds, UTC.
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL CHECK (ends_at > starts_at),
    patient_name     TEXT NOT NULL,
    patient_dob      TEXT NOT NULL,
    phone            TEXT,
    email            TEXT,
    contact          TEXT NOT NULL CHECK (contact IN ('phone', 'text', 'email')),
    status           TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
    source           TEXT NOT NULL CHECK (source IN ('chat', 'agent')),
    conversation_id  TEXT REFERENCES conversations(id),
    booked_by        INTEGER REFERENCES staff(id),
    -- Secret part of the patient's calendar (.ics) link.
    ics_token        TEXT NOT NULL,
    rescheduled_from INTEGER REFERENCES appointments(id),
    created_at       TEXT NOT NULL,
    cancelled_at     TEXT
);
CREATE INDEX appointments_by_time ON appointments (starts_at);

-- A provider's time, in 5-minute blocks, held by a booked appointment. The
-- primary key is what makes double booking impossible: two appointments that
-- overlap for one provider would need the same block, and the second insert
-- fails, whatever the application checked before.
CREATE TABLE provider_blocks (
    provider_id    TEXT NOT NULL,
    block          INTEGER NOT NULL,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    PRIMARY KEY (provider_id, block)
);
CREATE INDEX provider_blocks_by_appointment ON provider_blocks (appointment_id);
