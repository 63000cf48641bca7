-- How a patient likes to be reached, asked once and offered again: one row
-- per visitor (a signed-in patient is one visitor on every device). It goes
-- with the visitor: retention deletes it with them, and the foreign key
-- deletes it with any visitor removed another way.
CREATE TABLE contact_preferences (
    visitor_id INTEGER PRIMARY KEY REFERENCES visitors(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('phone', 'text', 'email')),
    -- A phone number or e-mail address, already checked by its own rule.
    value      TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 254),
    updated_at TEXT NOT NULL
);
