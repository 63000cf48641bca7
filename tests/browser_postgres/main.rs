//! The `browser` suite again, on PostgreSQL: the same test files, compiled
//! a second time into a binary whose name selects the backend
//! (`helpers::backend`). Without `FRONTDESK_TEST_POSTGRES_URL` this binary
//! says `skipped` (and fails under `CI=true`).

#[path = "../browser/main.rs"]
mod suite;
