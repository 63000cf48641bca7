//! Databases for tests, so one test body runs on every backend: a fresh
//! SQLite file, or a fresh PostgreSQL database on the server named by
//! `FRONTDESK_TEST_POSTGRES_URL` (`.ci/postgres` starts one and sets it).
//! Without that variable the PostgreSQL half is skipped, with a line saying
//! so, except under `CI=true`, where it fails: CI must test both.

use sqlx::Connection;

/// The variable naming a PostgreSQL server the tests may create databases on.
pub const POSTGRES_ENV: &str = "FRONTDESK_TEST_POSTGRES_URL";

/// A new, empty database on the test server, by URL; `None` when there is
/// no server to use outside CI.
pub async fn postgres_database() -> Option<String> {
    let Some(admin) = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{POSTGRES_ENV} is not set under CI=true: the PostgreSQL half of the suite cannot run (.ci/run sources .ci/postgres to start a server)"
        );
        eprintln!(
            "skipped: PostgreSQL half ({POSTGRES_ENV} is not set; `source .ci/postgres` starts a server)"
        );
        return None;
    };
    let name = format!(
        "frontdesk_test_{}",
        crate::ids::hex(&crate::ids::random_bytes::<8>())
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    let _ = conn.close().await;
    let (base, _) = admin
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{POSTGRES_ENV} should end in /<database>: {admin}"));
    Some(format!("{base}/{name}"))
}

/// A fresh SQLite database in `dir`, by URL.
pub fn sqlite_database(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("frontdesk.db").display())
}
