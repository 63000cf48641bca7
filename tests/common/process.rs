//! The real `frontdesk` binary: one command, or a server as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use serde_json::{Value, json};

#[allow(unused_imports)]
use super::*;

/// `frontdesk ARGS`, the real binary, with stdin, stdout and stderr piped.
pub fn frontdesk_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Feeds `stdin` to a started command and waits for its output. A command
/// that exits without reading (a usage error) closes its input first: that
/// broken pipe is its answer, not a failure of the test.
pub fn finish(mut child: Child, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "the command reads its input"
        );
    }
    child.wait_with_output().expect("the command finishes")
}

/// Runs the real binary with the database in `dir`.
pub fn run_cli(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let child = frontdesk_command(args)
        .envs(database_env(dir))
        .env("FRONTDESK_KNOWLEDGE", knowledge_dir())
        .spawn()
        .expect("the frontdesk binary starts");
    finish(child, stdin)
}

/// The real `frontdesk` binary, run as a child process.
pub struct ServerProcess {
    pub child: Child,
    pub addr: std::net::SocketAddr,
    pub stderr_path: PathBuf,
    stdout_lines: std_mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `frontdesk serve` on port 0 with the database in `dir`, and
    /// waits until it prints where it listens.
    pub fn start(dir: &Path, envs: &[(&str, &str)]) -> ServerProcess {
        Self::start_logging_to(dir, dir, envs)
    }

    /// As [`ServerProcess::start`], with the log in `log_dir` (a fault test
    /// fills the database's filesystem; the log must not share it).
    pub fn start_logging_to(dir: &Path, log_dir: &Path, envs: &[(&str, &str)]) -> ServerProcess {
        Self::spawn(dir, log_dir, envs, None)
    }

    /// As [`ServerProcess::start`], with soft and hard open-file limits of
    /// `files` (as a systemd unit's `LimitNOFILE` would set).
    pub fn start_with_file_limit(dir: &Path, envs: &[(&str, &str)], files: u64) -> ServerProcess {
        Self::spawn(dir, dir, envs, Some(files))
    }

    fn spawn(
        dir: &Path,
        log_dir: &Path,
        envs: &[(&str, &str)],
        files: Option<u64>,
    ) -> ServerProcess {
        let stderr_path = log_dir.join(format!(
            "stderr-{}-{}.log",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        command
            .arg("serve")
            .env("FRONTDESK_BIND", "127.0.0.1:0")
            .envs(database_env(dir))
            .env("FRONTDESK_KNOWLEDGE", knowledge_dir())
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(files) = files {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: files as libc::rlim_t,
                rlim_max: files as libc::rlim_t,
            };
            // SAFETY: setrlimit is async-signal-safe and touches only this
            // (forked, not yet exec'd) child.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command.spawn().expect("the frontdesk binary starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, stdout_lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let addr = loop {
            let line = stdout_lines
                .recv_timeout(EVENT_TIMEOUT)
                .expect("the server prints its address");
            if let Some(url) = line
                .split("http://")
                .nth(1)
                .filter(|_| line.contains("Demo"))
            {
                let hostport = url.trim_end_matches('/');
                break hostport.parse().expect("printed address parses");
            }
        };
        ServerProcess {
            child,
            addr,
            stderr_path,
            stdout_lines,
        }
    }

    /// Waits for a stdout line matching `pred` and returns it with the
    /// lines after it that have arrived.
    pub fn wait_for_line(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .stdout_lines
                .recv_timeout(left)
                .expect("the line is printed in time");
            if pred(&line) {
                let mut lines = vec![line];
                // The rest of the block follows at once.
                while let Ok(next) = self.stdout_lines.recv_timeout(Duration::from_millis(500)) {
                    lines.push(next);
                }
                return lines;
            }
        }
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        let mut out: String = self.stdout_lines.try_iter().collect::<Vec<_>>().join("\n");
        out.push('\n');
        out.push_str(&std::fs::read_to_string(&self.stderr_path).unwrap_or_default());
        out
    }

    /// `GET /health`: the status code and the JSON body.
    pub async fn health(&self) -> (u16, Value) {
        let response = reqwest::get(format!("http://{}/health", self.addr))
            .await
            .expect("health answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("health is JSON"))
    }

    /// Polls `/health` until `pred` holds for its status code and body.
    pub async fn health_until(&self, pred: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let (status, body) = self.health().await;
            if pred(status, &body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "health never matched; last {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().expect("child reaped");
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs in on the server at `addr`; returns the `Cookie` header value,
/// or the refusal's status.
pub async fn login_at(
    addr: std::net::SocketAddr,
    name: &str,
    password: &str,
) -> Result<String, reqwest::StatusCode> {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .expect("login request");
    if !response.status().is_success() {
        return Err(response.status());
    }
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    Ok(set_cookie.split(';').next().unwrap().to_owned())
}

/// Signs in on a server process; returns the cookie.
pub async fn sign_in(addr: std::net::SocketAddr, name: &str, password: &str) -> String {
    login_at(addr, name, password)
        .await
        .unwrap_or_else(|status| panic!("{name} signs in: {status}"))
}

/// Waits until the server at `addr` lists `agent` as online (or, with
/// `online` false, as not online), as a supervisor signed in with `cookie`
/// sees it; fails after `within`. With several nodes, an agent on another
/// node shows once that node has been heard of, and stops showing once it
/// says the agent left or falls silent.
pub async fn until_listed(
    addr: std::net::SocketAddr,
    cookie: &str,
    agent: &str,
    online: bool,
    within: Duration,
) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let agents: Vec<Value> = reqwest::Client::new()
            .get(format!("http://{addr}/api/agents"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("the agents list answers")
            .json()
            .await
            .expect("the agents list is JSON");
        if agents
            .iter()
            .any(|a| a["name"] == agent && a["online"] == online)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{agent} never showed as online={online}: {agents:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
