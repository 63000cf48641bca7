-- Patients who asked for no more messages on a channel: a number that
-- texted STOP, an address that followed the unsubscribe link. Kept until
-- they opt back in (START), so nothing is sent to them meanwhile.
CREATE TABLE opt_outs (
    channel    text NOT NULL CHECK (channel IN ('email', 'text')),
    address    text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (channel, address)
);
