//! A server inside the test process, on port 0, with its own database.

use std::time::Duration;

use frontdesk::config::Settings;
use frontdesk::startup::Application;
use tempfile::TempDir;

#[allow(unused_imports)]
use super::*;

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
    let mut settings = Settings::ephemeral(database_url(dir.path()), knowledge_dir());
    settings.data.audit_key_file = audit_key_file(dir.path());
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
        super::login_at(self.addr, name, password).await
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
        self.settings.data.database_url.clone()
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

    /// `GET /api/appointments/{code}` as the staff member signed in with
    /// `cookie`: the appointment as JSON.
    pub async fn appointment(&self, cookie: &str, code: &str) -> serde_json::Value {
        self.get_as(cookie, &format!("/api/appointments/{code}"))
            .await
            .json()
            .await
            .expect("the appointment as JSON")
    }

    /// Books the `nth` open flu shot of the next two weeks for `patient`
    /// through the appointments API, as the staff member signed in with
    /// `cookie`; returns its confirmation code.
    pub async fn book_flu_shot(
        &self,
        cookie: &str,
        nth: usize,
        patient: serde_json::Value,
    ) -> String {
        let slots: Vec<serde_json::Value> =
            reqwest::get(self.url("/api/slots?type=flu-shot&days=14"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let booked: serde_json::Value = reqwest::Client::new()
            .post(self.url("/api/appointments"))
            .header("cookie", cookie)
            .json(&serde_json::json!({"slot": slots[nth]["id"], "patient": patient}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        booked["code"].as_str().expect("booked").to_owned()
    }

    /// `GET /api/callbacks` as the staff member signed in with `cookie`:
    /// the open callback requests, oldest first.
    pub async fn callbacks(&self, cookie: &str) -> Vec<serde_json::Value> {
        self.get_as(cookie, "/api/callbacks")
            .await
            .json()
            .await
            .expect("the callback requests as JSON")
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

    /// Another server on the same database, knowledge and audit key (a
    /// second node), on a port of its own. Run commands (`cli`, `staff`)
    /// through the first: they find the database by its directory.
    pub async fn second_node(&self) -> TestApp {
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".to_owned();
        let app = Application::build(settings.clone())
            .await
            .expect("a second server builds on the same database");
        let (addr, knowledge) = (app.local_addr(), app.knowledge());
        let (safety_examples, embedder) = (app.safety_examples(), app.embedder());
        let (stop, task) = run(app);
        TestApp {
            addr,
            admin_password: self.admin_password.clone(),
            knowledge,
            safety_examples,
            embedder,
            settings,
            _dir: tempfile::tempdir().expect("temp dir"),
            stop: Some(stop),
            task: Some(task),
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
