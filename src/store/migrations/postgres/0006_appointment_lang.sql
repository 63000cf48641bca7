-- The language the patient booked in: later messages about the
-- appointment (moved, cancelled, a reminder) are written in it. At most one
-- reminder per appointment, whichever node queues it.
ALTER TABLE appointments ADD COLUMN lang text NOT NULL DEFAULT 'en';
CREATE UNIQUE INDEX outbox_one_reminder ON outbox (appointment_id, kind) WHERE kind = 'reminder';
