-- Patients who asked for no more messages on a channel: a number that
-- texted STOP, an address that followed the unsubscribe link. Kept until
-- they opt back in (START), so nothing is sent to them meanwhile.
CREATE TABLE opt_outs (
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    address    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, address)
);
