//! Which database this test binary runs on. The `api` and `browser`
//! binaries run on SQLite; `api_postgres` and `browser_postgres` compile
//! the very same test files and run them on PostgreSQL (a fresh database
//! per test directory, on the server `.ci/postgres` starts).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend of this test binary, from its name.
pub fn backend() -> Backend {
    if env!("CARGO_CRATE_NAME").ends_with("_postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// The database of the test whose files are in `dir`: the same one every
/// time for the same `dir`, so a server restarted on it finds its data.
pub fn database_url(dir: &Path) -> String {
    match backend() {
        Backend::Sqlite => sqlite_url(dir),
        Backend::Postgres => {
            let file = dir.join("postgres-url");
            if let Ok(url) = std::fs::read_to_string(&file) {
                return url;
            }
            // Its own thread and runtime: callers may be on a runtime
            // already, where blocking on another future is not allowed.
            let url = std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(frontdesk::store::testing::postgres_database())
            })
            .join()
            .expect("the database is created");
            let Some(url) = url else {
                // Outside CI with no server: the whole PostgreSQL half
                // is skipped, and says so once.
                eprintln!(
                    "skipped: the PostgreSQL half of this suite ({} is not set)",
                    frontdesk::store::testing::POSTGRES_ENV
                );
                std::process::exit(0);
            };
            std::fs::write(&file, &url).expect("the test directory is writable");
            url
        }
    }
}

/// Where the servers of the test in `dir` keep the audit key: SQLite's
/// default place beside the file (`None`), or a file in `dir`, which an
/// operator must name for PostgreSQL.
pub fn audit_key_file(dir: &Path) -> Option<std::path::PathBuf> {
    (backend() == Backend::Postgres).then(|| dir.join("audit.key"))
}

/// The environment a `frontdesk` process needs for the test's database.
pub fn database_env(dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = vec![("FRONTDESK_DATABASE_URL", database_url(dir))];
    if let Some(key) = audit_key_file(dir) {
        env.push(("FRONTDESK_AUDIT_KEY_FILE", key.display().to_string()));
    }
    env
}

pub fn sqlite_url(dir: &Path) -> String {
    frontdesk::store::testing::sqlite_database(dir)
}

/// For tests of something only SQLite has (its file, its lock, its
/// triggers' syntax): `true` on SQLite; on PostgreSQL prints why the test
/// does not apply and returns `false`.
pub fn only_on_sqlite(why: &str) -> bool {
    if backend() == Backend::Sqlite {
        return true;
    }
    eprintln!("not on PostgreSQL: {why}");
    false
}

/// Runs one statement on a test's database around the server (as someone
/// with database access could), in that backend's SQL, with text binds.
pub async fn execute_around(url: &str, sqlite: &str, postgres: &str, binds: &[&str]) -> u64 {
    use sqlx::Connection;
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            let mut query = sqlx::query(sqlite);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(&mut conn).await.unwrap().rows_affected()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let mut query = sqlx::query(postgres);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(&mut conn).await.unwrap().rows_affected()
        }
    }
}
