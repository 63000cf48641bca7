//! Starting real servers for tests (in-process on port 0, or the real binary
//! as a child process) and talking to them over real WebSockets.
//!
//! Shared by the `api` and `browser` test binaries (each includes it with
//! `#[path]`); each uses only part of it.
#![allow(dead_code)]

pub mod faults;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use frontdesk::config::Settings;
use frontdesk::startup::Application;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected event may take before a test fails.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A server running inside the test process.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// The first admin's password, generated because the database was empty.
    pub admin_password: String,
    /// The server's live knowledge base, to wait for reloads.
    pub knowledge: frontdesk::knowledge::Knowledge,
    /// How many safety examples serve, to wait for the model's.
    pub safety_examples: tokio::sync::watch::Receiver<usize>,
    /// The model's handle, to wait for it to load.
    pub embedder: frontdesk::semantic::Embedder,
    /// The settings it was started with (to start it again).
    settings: Settings,
    /// Holds the database until the test ends.
    _dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<ServerTask>,
}

/// Starts a server on port 0 with a fresh database; `tweak` adjusts settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::ephemeral(sqlite_url(dir.path()), knowledge_dir());
    tweak(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("server builds");
    let addr = app.local_addr();
    let knowledge = app.knowledge();
    let safety_examples = app.safety_examples();
    let embedder = app.embedder();
    let admin_password = app
        .initial_admin_password()
        .expect("a new database gets an admin")
        .to_owned();
    let (stop, task) = run(app);
    TestApp {
        addr,
        admin_password,
        knowledge,
        safety_examples,
        embedder,
        settings,
        _dir: dir,
        stop: Some(stop),
        task: Some(task),
    }
}

type ServerTask = tokio::task::JoinHandle<anyhow::Result<()>>;

/// Runs a built server on this runtime until the returned sender fires.
fn run(app: Application) -> (tokio::sync::oneshot::Sender<()>, ServerTask) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signs in; returns the `Cookie` header value for later requests.
    pub async fn login(&self, name: &str, password: &str) -> Result<String, reqwest::StatusCode> {
        let response = reqwest::Client::new()
            .post(self.url("/api/login"))
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

    pub async fn login_admin(&self) -> String {
        self.login("admin", &self.admin_password.clone())
            .await
            .expect("admin signs in")
    }

    /// GET with a session cookie.
    pub async fn get_as(&self, cookie: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request sent")
    }

    /// The app's database URL, for checks that go around the server.
    pub fn database_url(&self) -> String {
        sqlite_url(self._dir.path())
    }

    /// Runs `frontdesk ARGS` against this app's database, with `stdin`.
    /// Runs on a blocking thread: the server under test shares this runtime,
    /// and a writer transaction caught mid-batch while the runtime was
    /// blocked would hold SQLite's write lock against the command.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let dir = self._dir.path().to_owned();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stdin = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&dir, &args, &stdin)
        })
        .await
        .expect("the command runs")
    }

    /// Creates a staff account through the CLI and signs it in.
    pub async fn staff(&self, name: &str, role: &str) -> String {
        let password = format!("{name}-long-password");
        let out = self
            .cli(
                &["agent", "add", name, "--role", role],
                &format!("{password}\n"),
            )
            .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.login(name, &password)
            .await
            .expect("the new account signs in")
    }

    /// Opens an agent console socket with a session cookie.
    pub async fn console(&self, cookie: &str) -> Console {
        Ws::console(self.addr, cookie)
            .await
            .expect("console connects")
    }

    pub async fn chat(&self) -> Chat {
        Chat::connect(self.addr, None).await.expect("chat connects")
    }

    /// Waits (up to two minutes) until the model has loaded or failed to.
    pub async fn model_settled(&self) -> frontdesk::semantic::ModelStatus {
        let embedder = self.embedder.clone();
        tokio::task::spawn_blocking(move || embedder.wait_settled(Some(Duration::from_secs(120))))
            .await
            .expect("the wait finishes")
    }

    /// Asks the server to shut down and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(EVENT_TIMEOUT, task)
                .await
                .expect("server stops in time")
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Starts a stopped server again with the same settings, on the same
    /// address and database, as a restart after a deploy would.
    pub async fn start_again(&mut self) {
        assert!(self.task.is_none(), "stop() the server first");
        let mut settings = self.settings.clone();
        settings.bind = self.addr.to_string();
        let app = Application::build(settings)
            .await
            .expect("server builds again on the same port");
        assert_eq!(app.local_addr(), self.addr);
        self.knowledge = app.knowledge();
        self.safety_examples = app.safety_examples();
        let (stop, task) = run(app);
        self.stop = Some(stop);
        self.task = Some(task);
    }
}

/// Runs the real binary with the database in `dir`.
pub fn run_cli(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(args)
        .env("FRONTDESK_DATABASE_URL", sqlite_url(dir))
        .env("FRONTDESK_KNOWLEDGE", knowledge_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the frontdesk binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("the command finishes")
}

pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("frontdesk.db").display())
}

/// The small fixture knowledge base. It has no clinic.toml, so chat is
/// staffed around the clock and tests do not depend on the time of day.
pub fn knowledge_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge")
}

/// The model folder (`.ci/run` fetches the model into it), or `None` with
/// a `skipped:` line where it is missing outside CI.
pub fn model_dir_or_skip() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/models");
    if dir.join(frontdesk::semantic::fetch::FILE_NAME).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but the model is missing (`frontdesk model fetch`)"
    );
    eprintln!("skipped: no model in data/models (`frontdesk model fetch` gets it)");
    None
}

/// The knowledge base the product ships with.
pub fn bundled_knowledge() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket to the server: a patient's chat or an agent's console.
pub struct Ws {
    socket: Socket,
}

/// A patient's chat connection.
pub type Chat = Ws;
/// An agent's console connection.
pub type Console = Ws;

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
pub enum Closed {
    Code(u16),
    WithoutCode,
}

impl Ws {
    /// Opens a patient chat, optionally from a browser page's origin.
    pub async fn connect(
        addr: std::net::SocketAddr,
        origin: Option<&str>,
    ) -> Result<Chat, tungstenite::Error> {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        Self::connect_with(addr, &headers).await
    }

    /// Opens a patient chat with these request headers.
    pub async fn connect_with(
        addr: std::net::SocketAddr,
        headers: &[(&'static str, &str)],
    ) -> Result<Chat, tungstenite::Error> {
        let mut request = format!("ws://{addr}/chat").into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Ws { socket })
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("frame sent");
    }

    pub async fn send_raw(&mut self, message: Message) -> Result<(), tungstenite::Error> {
        self.socket.send(message).await
    }

    /// The next JSON frame from the server (pings are answered and skipped).
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("a frame arrives in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("server sends JSON");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Opens an agent console with a session cookie; waits for `hello`.
    pub async fn console(
        addr: std::net::SocketAddr,
        cookie: &str,
    ) -> Result<Ws, tungstenite::Error> {
        let mut request = format!("ws://{addr}/console/ws").into_client_request()?;
        request.headers_mut().insert(
            "cookie",
            HeaderValue::from_str(cookie).expect("cookie header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        let mut console = Ws { socket };
        console.expect("hello").await;
        Ok(console)
    }

    /// Skips frames until one of the given type arrives (an error frame
    /// on the way fails the test).
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
            assert_ne!(
                frame["type"], "error",
                "unexpected error while waiting for {kind}: {frame}"
            );
        }
    }

    /// Skips frames until an error frame arrives; returns it.
    pub async fn until_error(&mut self) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == "error" {
                return frame;
            }
        }
    }

    /// Waits for a queue snapshot with `n` items.
    pub async fn queue_of(&mut self, n: usize) -> Vec<Value> {
        loop {
            let frame = self.until("queue").await;
            let items = frame["items"].as_array().expect("items").clone();
            if items.len() == n {
                return items;
            }
        }
    }

    /// The next frame, which must have the given type.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.recv().await;
        assert_eq!(frame["type"], kind, "unexpected frame: {frame}");
        frame
    }

    /// Waits for the server to close the connection; returns the close code.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let next = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("the connection closes in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => return Closed::Code(frame.code.into()),
                Some(Ok(Message::Close(None))) | None => return Closed::WithoutCode,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return Closed::WithoutCode,
            }
        }
    }

    /// Opens a new conversation; returns the `started` frame.
    pub async fn start(&mut self) -> Value {
        self.send_json(json!({"type": "start"})).await;
        self.expect("started").await
    }

    pub async fn resume(&mut self, token: &str) -> Value {
        self.send_json(json!({"type": "start", "resume": token}))
            .await;
        self.expect("started").await
    }

    /// Sends a message and waits for its ack; returns the acked seq.
    pub async fn say(&mut self, id: &str, text: &str) -> i64 {
        self.send_json(json!({"type": "say", "id": id, "text": text}))
            .await;
        let ack = self.expect("ack").await;
        assert_eq!(ack["id"], id);
        ack["seq"].as_i64().expect("ack has a seq")
    }
}

/// `GET /metrics` with the scrape token.
pub async fn scrape_metrics(addr: std::net::SocketAddr, token: &str) -> String {
    reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

/// The texts of the patient's messages in a `started` history, in order.
pub fn patient_texts(started: &Value) -> Vec<String> {
    started["history"]
        .as_array()
        .expect("history is an array")
        .iter()
        .filter(|m| m["from"] == "patient")
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
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
            .env("FRONTDESK_DATABASE_URL", sqlite_url(dir))
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

impl Ws {
    /// The next message of any kind, pings included.
    pub async fn next_raw(&mut self) -> Message {
        tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
            .await
            .expect("a message arrives in time")
            .expect("the connection is open")
            .expect("the message is readable")
    }
}

/// Copies a directory tree (a knowledge base) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Sends a message (with an optional choice) and returns the first reply
/// after its ack.
pub async fn turn(chat: &mut Chat, id: &str, text: &str, choice: Option<&str>) -> Value {
    let mut frame = json!({"type": "say", "id": id, "text": text});
    if let Some(c) = choice {
        frame["choice"] = json!(c);
    }
    chat.send_json(frame).await;
    chat.expect("ack").await;
    chat.expect("reply").await
}

/// The values of a reply's choices.
pub fn choice_values(reply: &Value) -> Vec<String> {
    reply["choices"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Books the first open sick visit in a started chat, to `contact`; returns
/// the last reply (the confirmation, or the refusal).
pub async fn book_in_chat(chat: &mut Chat, contact: &str) -> Value {
    turn(chat, "x1", "I need an appointment", None).await;
    turn(chat, "x2", "Sick visit", Some("type:sick-visit")).await;
    let slots = turn(chat, "x3", "First available", Some("provider:any")).await;
    let pick = choice_values(&slots)[0].clone();
    turn(chat, "x4", "that one", Some(&pick)).await;
    turn(chat, "x5", "Ana Ruiz", None).await;
    turn(chat, "x6", "03/14/1985", None).await;
    turn(chat, "x7", contact, None).await;
    let last = turn(chat, "x8", "Text", Some("channel:text")).await;
    if !last["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Book it")
    {
        return last;
    }
    turn(chat, "x9", "Yes, book it", Some("confirm:yes")).await
}
