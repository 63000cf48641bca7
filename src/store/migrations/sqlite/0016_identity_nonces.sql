-- Nonces of signed-in patients' page signatures, kept until the signature
-- expires: each opens a conversation on one device only, whichever server
-- it reaches. Digests only (SHA-256 of the nonce; of the device's resume
-- token once it has one).
CREATE TABLE identity_nonces (
    nonce_hash  BLOB PRIMARY KEY,
    expires_at  INTEGER NOT NULL,
    device_hash BLOB
);
CREATE INDEX identity_nonces_by_expiry ON identity_nonces (expires_at);
