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

/// For tests of what only PostgreSQL has (several nodes on one database):
/// `true` on PostgreSQL; on SQLite prints why the test does not apply and
/// returns `false`.
pub fn only_on_postgres(why: &str) -> bool {
    if backend() == Backend::Postgres {
        return true;
    }
    eprintln!("not on SQLite: {why}");
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

/// The test's database opened around the server, as an admin with
/// database access could, in whichever backend it is.
pub enum AroundDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// An audit row as an editor of the database sees it: id, at (as hashed),
/// actor, role, action, target, outcome.
pub type AuditRowAround = (i64, String, String, String, String, String, String);

impl AroundDb {
    pub async fn open(url: &str) -> AroundDb {
        match backend() {
            Backend::Sqlite => AroundDb::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap()),
            Backend::Postgres => AroundDb::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
        }
    }

    /// Runs one statement written the same in both dialects.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        Ok(match self {
            AroundDb::Sqlite(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
            AroundDb::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        })
    }

    /// One number from a query written the same in both dialects.
    pub async fn number(&self, sql: &str) -> i64 {
        match self {
            AroundDb::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            AroundDb::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self {
            AroundDb::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
            AroundDb::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        }
    }

    /// Drops one of the audit log's append-only triggers.
    pub async fn drop_audit_trigger(&self, name: &str) {
        let sql = match self {
            AroundDb::Sqlite(_) => format!("DROP TRIGGER {name}"),
            AroundDb::Postgres(_) => format!("DROP TRIGGER {name} ON audit_log"),
        };
        self.execute(&sql).await.unwrap();
    }

    /// Makes every audit insert fail, as a broken disk would.
    pub async fn break_audit_inserts(&self) {
        match self {
            AroundDb::Sqlite(_) => {
                self.execute(
                    "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
                     BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
                )
                .await
                .unwrap();
            }
            AroundDb::Postgres(_) => {
                self.execute(
                    "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql
                     AS $$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$",
                )
                .await
                .unwrap();
                self.execute(
                    "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
                     FOR EACH ROW EXECUTE FUNCTION audit_broken()",
                )
                .await
                .unwrap();
            }
        }
    }

    pub async fn mend_audit_inserts(&self) {
        let sql = match self {
            AroundDb::Sqlite(_) => "DROP TRIGGER audit_broken",
            AroundDb::Postgres(_) => "DROP TRIGGER audit_broken ON audit_log",
        };
        self.execute(sql).await.unwrap();
    }

    pub async fn audit_rows(&self) -> Vec<AuditRowAround> {
        match self {
            AroundDb::Sqlite(p) => sqlx::query_as(
                "SELECT id, at, actor, role, action, target, outcome FROM audit_log ORDER BY id",
            )
            .fetch_all(p)
            .await
            .unwrap(),
            AroundDb::Postgres(p) => sqlx::query_as(
                "SELECT id, rfc3339(at), actor, role, action, target, outcome FROM audit_log ORDER BY id",
            )
            .fetch_all(p)
            .await
            .unwrap(),
        }
    }

    /// Rewrites one row's links.
    pub async fn set_links(&self, id: i64, prev: &str, hash: &str, keyed: bool) {
        match self {
            AroundDb::Sqlite(p) => {
                sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ?, keyed = ? WHERE id = ?")
                    .bind(prev)
                    .bind(hash)
                    .bind(keyed)
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
            }
            AroundDb::Postgres(p) => {
                sqlx::query(
                    "UPDATE audit_log SET prev_hash = $1, hash = $2, keyed = $3 WHERE id = $4",
                )
                .bind(prev)
                .bind(hash)
                .bind(keyed)
                .bind(id)
                .execute(p)
                .await
                .unwrap();
            }
        }
    }
}

/// Waits until the outbox holds no pending message (each one sent or
/// failed for good), then returns how many were sent and how many failed.
/// A message marked sent is never sent again, so counts taken after this
/// are final.
pub async fn outbox_settled(url: &str) -> (i64, i64) {
    let db = AroundDb::open(url).await;
    let count = |status: &'static str| {
        let db = &db;
        async move {
            let sql = "SELECT COUNT(*) FROM outbox WHERE status = ";
            match db {
                AroundDb::Sqlite(pool) => sqlx::query_scalar::<_, i64>(&format!("{sql}?"))
                    .bind(status)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
                AroundDb::Postgres(pool) => sqlx::query_scalar::<_, i64>(&format!("{sql}$1"))
                    .bind(status)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
            }
        }
    };
    let until = std::time::Instant::now() + super::EVENT_TIMEOUT * 3;
    while count("pending").await > 0 {
        assert!(
            std::time::Instant::now() < until,
            "the outbox still has pending messages"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (count("sent").await, count("failed").await)
}
