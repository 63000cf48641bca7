//! A PostgreSQL server of one test's own, to stop and start under a running
//! Frontdesk (the shared test server cannot be restarted under the other
//! tests). Made like `.ci/postgres` makes its server: Debian's binaries,
//! run as the unprivileged `frontdesk-pg` user, on a free local port.

use std::path::PathBuf;
use std::process::Command;

const USER: &str = "frontdesk-pg";

pub struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl OwnPostgres {
    /// Initialises and starts a cluster; `None` (after saying why) where
    /// that cannot be done: no PostgreSQL binaries, not root, or no
    /// `frontdesk-pg` user (`.ci/postgres` creates it). Under `CI=true`
    /// that is a failure.
    pub fn start() -> Option<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max();
        let user_exists = Command::new("id")
            .arg("-u")
            .arg(USER)
            .output()
            .is_ok_and(|o| o.status.success());
        let root = unsafe { libc::geteuid() } == 0;
        let (Some(bin), true, true) = (bin, user_exists, root) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "a PostgreSQL server of the test's own needs Debian's postgresql, root and the {USER} user (.ci/postgres)"
            );
            eprintln!(
                "skipped: no PostgreSQL server of the test's own (needs Debian's postgresql, root and the {USER} user; `source .ci/postgres`)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a temp dir");
        chown(dir.path());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = OwnPostgres { bin, dir, port };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-locale",
            ],
        );
        pg.start_again();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = Command::new("runuser")
            .args(["-u", USER, "--"])
            .arg(self.bin.join(program))
            .args(args)
            .current_dir("/")
            .output()
            .expect("runuser runs");
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server (again) on the same port and data.
    pub fn start_again(&self) {
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-w",
                "-l",
                &log,
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops it at once, as a crash or a failover would (connections cut).
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// A URL for `database` (created first when `create`).
    pub async fn database(&self, database: &str) -> String {
        use sqlx::Connection;
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connects");
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut conn)
            .await
            .expect("database created");
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", USER, "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .current_dir("/")
            .output();
    }
}

fn chown(path: &std::path::Path) {
    let ok = Command::new("chown")
        .arg(format!("{USER}:"))
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown {}", path.display());
}
