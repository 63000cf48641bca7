//! A real headless Chromium driven over WebDriver (chromedriver, one per
//! test, each with a fresh profile), and helpers to look into the widget's
//! shadow root.
//!
//! Without Chromium and chromedriver a test prints a "skipped" line and
//! passes; with `CI=true` a missing browser fails the test instead.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Serves `router` as a clinic's own site, on another localhost origin
/// than the Frontdesk server it embeds the widget from.
pub async fn clinic_site(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a port for the clinic's site");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// How long any single thing a patient waits for may take.
pub const UI_TIMEOUT: Duration = Duration::from_secs(15);

/// Evaluates to a launched [`Browser`], or returns from the test (which then
/// passes) when no browser is installed and `CI` is not `true`.
macro_rules! browser_or_skip {
    () => {
        match super::harness::Browser::launch().await {
            Some(browser) => browser,
            None => return,
        }
    };
}
pub(crate) use browser_or_skip;

/// JavaScript that binds `root` to the widget's shadow root (or null).
const ROOT: &str =
    "const root = (document.querySelector('frontdesk-widget') || {}).shadowRoot || null;";

struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `CHROMIUM` and `CHROMEDRIVER` override the search of `PATH`.
fn find_tools() -> Option<Tools> {
    let pick = |var: &str, names: &[&str]| match std::env::var_os(var) {
        Some(path) => Some(PathBuf::from(path)).filter(|p| is_executable(p)),
        None => on_path(names),
    };
    Some(Tools {
        chromium: pick(
            "CHROMIUM",
            &[
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ],
        )?,
        chromedriver: pick("CHROMEDRIVER", &["chromedriver"])?,
    })
}

/// A chromedriver child in its own process group, so that dropping it also
/// ends the Chromium processes it started, even when a test panics.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(tools: &Tools) -> Driver {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&tools.chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("chromedriver starts");
            let deadline = Instant::now() + UI_TIMEOUT;
            loop {
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    return Driver { child, port };
                }
                if child.try_wait().expect("try_wait").is_some() {
                    break; // lost the port to someone else: try another
                }
                assert!(
                    Instant::now() < deadline,
                    "chromedriver did not listen on port {port} in time"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("chromedriver exited five times on start");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `POST /session/{id}/<path>` with a JSON body: chromedriver's commands that
/// fantoccini does not wrap.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session is open");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// One headless Chromium with a fresh profile.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and Chromium, or reports why not (see the module
    /// doc): `None` means the test should return and pass.
    pub async fn launch() -> Option<Browser> {
        let Some(tools) = find_tools() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but Chromium and chromedriver were not found on PATH (or in \
                 $CHROMIUM / $CHROMEDRIVER): .ci/run installs them with \
                 `apt-get install chromium chromium-driver`"
            );
            // Straight to stderr, past the test harness's output capture.
            let _ = writeln!(
                std::io::stderr(),
                "{}: skipped: chromium/chromedriver not found (install Debian's chromium \
                 and chromium-driver to run the browser tests)",
                std::thread::current().name().unwrap_or("browser test")
            );
            return None;
        };
        let driver = Driver::start(&tools);
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,900".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": tools.chromium, "args": args}),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("chromedriver opens a Chromium session");
        Some(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// Opens the demo page of `addr` and waits for the widget to mount.
    pub async fn demo_page(&self, addr: SocketAddr) {
        self.page_with_widget(&format!("http://{addr}/")).await;
    }

    /// Opens a page that embeds the widget and waits for it to mount.
    pub async fn page_with_widget(&self, url: &str) {
        self.goto(url).await;
        self.wait_for(
            "root && root.querySelector('.launcher')",
            "the widget mounts",
        )
        .await;
    }

    /// Opens the console at `console_url` and signs in as `name` with the
    /// password `TestApp::staff` gives ("NAME-long-password"); waits until
    /// the console shows its queue. Before sign-in, the only console error
    /// allowed is the 401 of asking who is signed in.
    pub async fn sign_in(&self, console_url: &str, name: &str) {
        self.sign_in_until(
            console_url,
            name,
            "document.querySelector('[data-testid=queue-list]')",
            "the console after signing in",
        )
        .await;
    }

    /// Signs in as [`Browser::sign_in`] does, then waits for `ready` (an
    /// editor's console shows no queue).
    pub async fn sign_in_until(&self, console_url: &str, name: &str, ready: &str, what: &str) {
        self.goto(console_url).await;
        self.wait_for(
            "document.querySelector('[data-testid=login-name]')",
            "the sign-in form",
        )
        .await;
        let errors = self.console_errors().await;
        assert!(
            errors
                .iter()
                .all(|e| e.contains("/api/me") && e.contains("401")),
            "console errors on the sign-in page: {errors:?}"
        );
        let password = format!("{name}-long-password");
        for (id, text) in [("login-name", name), ("login-password", &password)] {
            self.by_testid(id).await.send_keys(text).await.unwrap();
        }
        self.by_testid("login-submit").await.click().await.unwrap();
        self.wait_for(ready, what).await;
    }

    /// Signs out of the console and waits until the server has ended the
    /// session (the sign-in form is back), so the next sign-in cannot race
    /// the logout.
    pub async fn sign_out(&self) {
        self.by_testid("sign-out").await.click().await.unwrap();
        self.wait_for(
            "document.querySelector('[data-testid=login-name]')",
            "the sign-in form after signing out",
        )
        .await;
    }

    /// The console element with this `data-testid`.
    pub async fn by_testid(&self, id: &str) -> fantoccini::elements::Element {
        self.client
            .find(fantoccini::Locator::Css(&format!("[data-testid='{id}']")))
            .await
            .unwrap_or_else(|e| panic!("no [data-testid={id}] on the page: {e}"))
    }

    /// Runs `body` as a function with `root` bound to the widget's shadow
    /// root; returns what it returns.
    pub async fn js(&self, body: &str) -> Value {
        self.client
            .execute(&format!("{ROOT}\n{body}"), vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    pub async fn js_with(&self, body: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(&format!("{ROOT}\n{body}"), args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Polls a JavaScript condition (with `root` bound) until it is truthy.
    /// On time-out the test fails, showing what the widget displayed.
    pub async fn wait_for(&self, condition: &str, what: &str) {
        let script =
            format!("{ROOT}\ntry {{ return !!({condition}); }} catch (e) {{ return false; }}");
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let value = self.client.execute(&script, vec![]).await;
            if value.as_ref().is_ok_and(|v| v == &Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} ({condition}): {value:?}\nthe widget shows:\n{}",
                    self.widget_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything the widget's panel shows, as text.
    pub async fn widget_text(&self) -> String {
        let text = self
            .client
            .execute(
                &format!(
                    "{ROOT}\nreturn root ? root.querySelector('.root').innerText : '(no widget)';"
                ),
                vec![],
            )
            .await;
        match text {
            Ok(Value::String(s)) => s,
            other => format!("{other:?}"),
        }
    }

    /// An element inside the widget's shadow root.
    pub async fn widget(&self, css: &str) -> Element {
        let host = self
            .client
            .find(Locator::Css("frontdesk-widget"))
            .await
            .expect("the widget's host element");
        host.shadow_root()
            .await
            .expect("an open shadow root")
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} in the widget: {e}"))
    }

    /// The visible button in the widget whose text is `label`.
    pub async fn widget_button(&self, label: &str) -> Element {
        let host = self
            .client
            .find(Locator::Css("frontdesk-widget"))
            .await
            .expect("the widget's host element");
        let buttons = host
            .shadow_root()
            .await
            .expect("an open shadow root")
            .find_all(Locator::Css("button"))
            .await
            .expect("buttons");
        for button in buttons {
            // WebDriver's element text is the rendered text: "" when hidden.
            if button.text().await.is_ok_and(|t| t.trim() == label) {
                return button;
            }
        }
        panic!(
            "no visible {label:?} button; the widget shows:\n{}",
            self.widget_text().await
        );
    }

    /// Clicks the launcher as a patient would and waits for the panel.
    pub async fn open_widget(&self) {
        self.widget(".launcher")
            .await
            .click()
            .await
            .expect("the launcher is clickable");
        self.wait_for(
            "!root.querySelector('.panel').hidden && root.activeElement === root.querySelector('textarea')",
            "the panel to open with focus in the composer",
        )
        .await;
    }

    /// Types into the composer and presses Enter.
    pub async fn send_message(&self, text: &str) {
        let input = self.widget("textarea").await;
        input.send_keys(text).await.expect("typing works");
        input
            .send_keys(&char::from(Key::Enter).to_string())
            .await
            .expect("Enter works");
    }

    /// Presses keys on whatever has focus (no element is clicked first).
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key presses");
    }

    /// The page's console and network messages at `SEVERE` level since the
    /// last call (chromedriver's browser log).
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(SessionPost {
                path: "se/log",
                body: json!({"type": "browser"}),
            })
            .await
            .expect("chromedriver returns the browser log");
        log.as_array()
            .expect("log entries")
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Lets every later page in this session ignore its Content Security
    /// Policy, as a host page without one would (Chrome DevTools command).
    pub async fn bypass_csp(&self) {
        self.client
            .issue_cmd(SessionPost {
                path: "goog/cdp/execute",
                body: json!({"cmd": "Page.setBypassCSP", "params": {"enabled": true}}),
            })
            .await
            .expect("chromedriver runs the DevTools command");
    }
}
