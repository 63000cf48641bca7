//! The `api` suite again, on PostgreSQL: the same test files, compiled a
//! second time into a binary whose name selects the backend
//! (`helpers::backend`). Each server gets a fresh database on the server
//! named by `FRONTDESK_TEST_POSTGRES_URL`; without it, this binary says
//! `skipped` (and fails under `CI=true`).

#[path = "../api/main.rs"]
mod suite;
