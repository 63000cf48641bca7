-- Front-desk staff who sign in to the console.
CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin', 'editor')),
    -- argon2id PHC string; never the password.
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
