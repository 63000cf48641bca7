//! The agent console, the insights page and the editors' workspace are
//! native ES modules: every module they import is served as JavaScript
//! from the binary, and nothing but those modules is served under
//! `/console/js/`.

use std::collections::{BTreeSet, VecDeque};

use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::helpers::spawn_app;

/// The module specifiers of a module's static imports (`import … from
/// './x.js';`, `} from './x.js';` closing a multi-line list, and `import
/// './x.js';`). The console writes no other kind (no dynamic imports).
fn imports(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("import ") || line.starts_with("} from "))
        .filter_map(|line| {
            let rest = line
                .rsplit_once(" from ")
                .map_or(line.strip_prefix("import ").unwrap_or(line), |(_, spec)| {
                    spec
                });
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let spec = rest[1..].split(quote).next()?;
            Some(spec.to_owned())
        })
        .collect()
}

#[test]
fn the_import_scanner_reads_every_form_the_console_uses() {
    let source = "/* import './not-code.js' */\n\
                  import { a, b } from './dom.js';\n\
                  import {\n  c,\n} from \"./state.js\";\n\
                  import './js/main.js';\n\
                  const from = 'x'; // from './no.js'\n";
    assert_eq!(imports(source), ["./dom.js", "./state.js", "./js/main.js"]);
}

#[tokio::test]
async fn every_module_the_console_imports_is_served_as_javascript() {
    let app = spawn_app().await;
    for (page, entry) in [
        ("/console", "/console/console.js"),
        ("/console/insights", "/console/insights.js"),
        ("/console/knowledge", "/console/knowledge.js"),
    ] {
        let html = reqwest::get(app.url(page))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let tag = format!(r#"<script type="module" src="{entry}"></script>"#);
        assert!(
            html.contains(&tag),
            "{page} loads {entry} as a module: {html}"
        );
    }

    // Follow the imports from every entry point, as a browser does.
    let mut queue: VecDeque<Url> = [
        "/console/console.js",
        "/console/insights.js",
        "/console/knowledge.js",
    ]
    .into_iter()
    .map(|path| Url::parse(&app.url(path)).unwrap())
    .collect();
    let mut seen = BTreeSet::new();
    let mut modules = BTreeSet::new();
    while let Some(url) = queue.pop_front() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let response = reqwest::get(url.clone()).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let headers = response.headers();
        assert_eq!(
            headers["content-type"], "text/javascript; charset=utf-8",
            "{url}"
        );
        assert_eq!(headers["cache-control"], "no-cache", "{url}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        if let Some(name) = url.path().strip_prefix("/console/js/") {
            modules.insert(name.to_owned());
        }
        let source = response.text().await.unwrap();
        for spec in imports(&source) {
            assert!(
                spec.starts_with("./") || spec.starts_with("../"),
                "{url} imports {spec}: only relative imports of this server's modules"
            );
            queue.push_back(url.join(&spec).unwrap());
        }
    }
    assert!(modules.contains("main.js") && modules.contains("dom.js"));
    // Each embedded module is imported by something (none is left over).
    let embedded: BTreeSet<String> = frontdesk::http::pages::CONSOLE_MODULES
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(modules, embedded);
}

#[tokio::test]
async fn unknown_or_traversal_like_module_names_are_not_found() {
    let app = spawn_app().await;
    for path in [
        "/console/js/nope.js",
        "/console/js/MAIN.JS",
        "/console/js/main",
        "/console/js/..%2Fconsole.js",
        "/console/js/..%2F..%2FCargo.toml",
        "/console/js/%2E%2E%2Fx",
        "/console/js/..%5Cx",
        "/console/js/main.js%00",
        "/console/js/",
        "/console/js/main.js/",
    ] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = reqwest::get(app.url("/console/js/nope.js")).await.unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found", "{body}");

    // A client that does not normalise the path (reqwest would) sends the
    // dots as they are.
    for path in ["/console/js/../x", "/console/js/../../Cargo.toml"] {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            app.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 404"),
            "{path}: {}",
            response.lines().next().unwrap_or_default()
        );
    }
}

/// The sanitiser's rule lists (`const KEEP = …;` and the others, each to
/// its closing `;`) as a script serves them.
fn sanitizer_rules(source: &str) -> Vec<String> {
    let mut rules = Vec::new();
    let mut open: Option<String> = None;
    for line in source.lines().map(str::trim) {
        let starts = ["KEEP", "HEAD", "SKIP", "BLOCK", "SCHEMES"]
            .iter()
            .any(|name| line.starts_with(&format!("const {name} = ")));
        if starts {
            open = Some(String::new());
        }
        if let Some(rule) = open.as_mut() {
            rule.push_str(line);
            if line.ends_with(';') {
                rules.push(open.take().unwrap());
            }
        }
    }
    rules
}

#[tokio::test]
async fn the_workspace_preview_keeps_exactly_what_the_widget_keeps() {
    // The widget is one file clinics pin by hash, so the workspace's
    // preview repeats its sanitiser's rules; they must not drift apart.
    let app = spawn_app().await;
    let widget = reqwest::get(app.url("/widget.js")).await.unwrap();
    let widget = widget.text().await.unwrap();
    let preview = reqwest::get(app.url("/console/js/kb-preview.js"))
        .await
        .unwrap();
    let preview = preview.text().await.unwrap();
    let rules = sanitizer_rules(&widget);
    assert_eq!(rules.len(), 5, "{rules:#?}");
    assert_eq!(sanitizer_rules(&preview), rules);
}
