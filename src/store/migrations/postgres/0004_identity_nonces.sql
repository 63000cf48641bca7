-- Nonces of signed-in patients' page signatures, kept until the signature
-- expires: each opens a conversation on one device only, whichever node it
-- reaches. Digests only (SHA-256 of the nonce; of the device's resume
-- token once it has one). Expiry in Unix seconds, as signed.
CREATE TABLE identity_nonces (
    nonce_hash  bytea PRIMARY KEY,
    expires_at  bigint NOT NULL,
    device_hash bytea
);
CREATE INDEX identity_nonces_by_expiry ON identity_nonces (expires_at);
