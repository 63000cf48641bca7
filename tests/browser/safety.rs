//! Nothing a patient, an agent or a knowledge editor writes runs in the
//! patient's browser, and the host page's CSS cannot break the widget.

use serde_json::{Value, json};

use super::harness::browser_or_skip;
use super::helpers::spawn_app_with;

const PATIENT_PAYLOAD: &str = r#"<img src=x onerror="window.__pwned=1">"#;
const AGENT_PAYLOAD: &str = "<script>window.__pwned=1</script>";

const EVIL_ARTICLE: &str = r#"+++
id = "evil-html"
title = "What does the test article say?"
questions = ["show me the test article"]
+++
Plain words first. <script>window.__pwned=1</script>

<img src=x onerror="window.__pwned=1"> <b onmouseover="window.__pwned=1">bold words</b>

[a javascript link](javascript:window.__pwned=1) and <a href="javascript:window.__pwned=1">a raw one</a>.

<iframe src="javascript:window.__pwned=1"></iframe><svg onload="window.__pwned=1"></svg>
<object data="javascript:window.__pwned=1"></object><style>.root{display:none}</style>
"#;

#[tokio::test]
async fn script_in_patient_agent_and_article_text_stays_inert() {
    let browser = browser_or_skip!();
    let knowledge = tempfile::tempdir().unwrap();
    std::fs::write(knowledge.path().join("evil.md"), EVIL_ARTICLE).unwrap();
    std::fs::write(
        knowledge.path().join("parking.md"),
        "+++\ntitle = \"Where do I park?\"\n+++\nIn the garage on Alder Street.\n",
    )
    .unwrap();
    let dir = knowledge.path().to_owned();
    let app = spawn_app_with(move |s| s.data.knowledge = dir).await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;

    // The demo page's CSP would block inline handlers on its own; a host
    // page without one is the harder case, so turn it off.
    browser.bypass_csp().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;

    browser
        .send_message("What does the test article say?")
        .await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('Plain words first.') && b.textContent.includes('bold words'))",
            "the article's answer",
        )
        .await;
    browser.send_message(PATIENT_PAYLOAD).await;
    browser
        .wait_for(
            &format!(
                "[...root.querySelectorAll('.msg.patient:not(.pending) .bubble')].some(b => b.textContent === {})",
                json!(PATIENT_PAYLOAD)
            ),
            "the patient's message, shown as the text they typed",
        )
        .await;

    browser
        .widget_button("Talk to a person")
        .await
        .click()
        .await
        .unwrap();
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    agent
        .send_json(
            json!({"type": "say", "conversation": conversation, "id": "a1", "text": AGENT_PAYLOAD}),
        )
        .await;
    agent.until("ack").await;
    browser
        .wait_for(
            &format!(
                "[...root.querySelectorAll('.msg.agent .bubble')].some(b => b.textContent === {})",
                json!(AGENT_PAYLOAD)
            ),
            "the agent's message, shown as text",
        )
        .await;

    // Nothing executable made it into the widget.
    let found = browser
        .js(r#"
            const all = [...root.querySelectorAll('*')];
            return {
              executable: root.querySelectorAll('script, iframe, object, embed, img, style, link, form[action], base').length,
              handlers: all.filter(el => [...el.attributes].some(a => /^on/i.test(a.name))).map(el => el.outerHTML),
              js_links: all.filter(el => /^\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src') || '')).map(el => el.outerHTML),
              panel_shown: getComputedStyle(root.querySelector('.root')).display !== 'none',
            };"#)
        .await;
    assert_eq!(
        found,
        json!({"executable": 0, "handlers": [], "js_links": [], "panel_shown": true})
    );
    // The article's only links were unsafe: their words stay as plain
    // text, not as links (an emptied href must not point at this page).
    let links = browser
        .js("return [...root.querySelectorAll('.msg.bot a')].filter(a => a.closest('.msg').textContent.includes('javascript link')).map(a => a.protocol);")
        .await;
    assert_eq!(links, json!([]), "stripped links render as text");
    assert!(
        links
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p == "http:" || p == "https:"),
        "{links}"
    );

    // Prove this page would run an inline handler, then that none did.
    browser
        .js("const d = document.createElement('div'); d.innerHTML = '<img src=x onerror=\"window.__canary=1\">'; document.body.append(d);")
        .await;
    browser
        .wait_for("window.__canary === 1", "a control handler to run")
        .await;
    assert_eq!(
        browser.js("return typeof window.__pwned;").await,
        json!("undefined")
    );
}

/// Computed styles and boxes of the widget's main parts.
const MEASURE: &str = r#"
const PROPS = ['display', 'position', 'visibility', 'opacity', 'width', 'height', 'margin', 'padding',
  'border-top-width', 'box-sizing', 'font-family', 'font-size', 'font-style', 'font-weight', 'line-height',
  'color', 'background-color', 'text-transform', 'letter-spacing', 'text-align', 'z-index', 'cursor'];
const PARTS = {launcher: '.launcher', panel: '.panel', head: '.head', title: 'h2', notice: '.notice',
  log: '.log', intro: '.intro', handoff: '.bar .tbtn', input: 'textarea', send: '.send'};
const out = {};
for (const [name, sel] of Object.entries(PARTS)) {
  const el = root.querySelector(sel);
  if (!el) { out[name] = null; continue; }
  const cs = getComputedStyle(el), r = el.getBoundingClientRect();
  out[name] = Object.fromEntries(PROPS.map(p => [p, cs.getPropertyValue(p)]));
  out[name].box = [r.left, r.top, r.width, r.height].map(Math.round);
}
return out;"#;

/// Connected, greeted, and the opening animation over.
const GREETED: &str = "root.querySelector('.status').textContent.includes('Online') \
    && root.querySelector('.intro').hidden \
    && root.querySelector('.panel').getAnimations().length === 0";

const HOSTILE_CSS: &str = r#"
* { box-sizing: content-box !important; margin: 20px !important; padding: 20px !important;
    border: 6px dashed #f0f !important; font: italic 700 40px/4 "Comic Sans MS", cursive !important;
    color: #f00 !important; background: #ff0 !important; text-transform: uppercase !important;
    letter-spacing: 6px !important; text-align: right !important; cursor: crosshair !important;
    visibility: visible !important; }
div { display: inline !important; position: relative !important; width: 5px !important;
      height: 5px !important; overflow: hidden !important; z-index: 2147483647 !important; }
button { all: unset !important; position: absolute !important; left: -9999px !important;
         width: 1px !important; height: 1px !important; visibility: hidden !important; }
"#;

#[tokio::test]
async fn host_page_css_on_every_element_leaves_the_widget_alone() {
    let browser = browser_or_skip!();
    let app = spawn_app_with(|_| {}).await;

    browser.demo_page(app.addr).await;
    let closed = browser.js(MEASURE).await;
    browser.open_widget().await;
    browser.wait_for(GREETED, "the greeting").await;
    let open = browser.js(MEASURE).await;

    // The same first visit again, on a hostile page.
    browser
        .js("localStorage.clear(); sessionStorage.clear();")
        .await;
    browser.demo_page(app.addr).await;
    browser
        .js_with(
            "const s = document.createElement('style'); s.textContent = arguments[0]; document.head.append(s);",
            vec![json!(HOSTILE_CSS)],
        )
        .await;
    // The hostile rules did take hold of the page itself.
    assert_eq!(
        browser
            .js("return getComputedStyle(document.querySelector('a')).fontFamily;")
            .await,
        json!("\"Comic Sans MS\", cursive")
    );
    let hostile_closed = browser.js(MEASURE).await;
    let launcher = &hostile_closed["launcher"];
    assert_eq!(launcher["box"][2], json!(56), "{launcher}");
    assert_eq!(launcher["visibility"], "visible", "{launcher}");
    // A real click: WebDriver refuses when something covers the launcher.
    browser.open_widget().await;
    browser.wait_for(GREETED, "the greeting").await;
    let hostile_open = browser.js(MEASURE).await;

    assert_same(&closed, &hostile_closed, "closed");
    assert_same(&open, &hostile_open, "open");
}

fn assert_same(clean: &Value, hostile: &Value, state: &str) {
    let mut differences = Vec::new();
    for (part, props) in clean.as_object().unwrap() {
        for (prop, value) in props.as_object().unwrap_or(&Default::default()) {
            let other = &hostile[part][prop];
            if other != value {
                differences.push(format!("{part}.{prop}: {value} became {other}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "with the panel {state}, the host page's CSS changed the widget:\n{}",
        differences.join("\n")
    );
}
