//! The patient widget on a phone-sized screen and on a Spanish host page.

use std::net::SocketAddr;

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

use super::harness::browser_or_skip;
use super::helpers::spawn_app;
use super::rating::{end_chat, star};

/// `POST /session/{id}/goog/cdp/execute`: a Chrome DevTools command.
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session is open");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// Boxes of the widget's parts and whether anything scrolls sideways.
const PHONE_LAYOUT: &str = r#"
const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round); };
const reachable = (el) => {
  const r = el.getBoundingClientRect();
  const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return r.height >= 44 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight
    && !!hit && (hit === el || el.contains(hit));
};
const panel = root.querySelector('.panel');
const wide = [...root.querySelectorAll('.panel *')].filter(el => el.scrollWidth > el.clientWidth + 1
  && getComputedStyle(el).overflowX !== 'visible' && getComputedStyle(el).overflowX !== 'hidden');
return {
  viewport: [innerWidth, innerHeight],
  panel: box(panel),
  pageScrollsSideways: document.documentElement.scrollWidth > innerWidth,
  panelScrollsSideways: panel.scrollWidth > panel.clientWidth || wide.map(el => el.className),
  reachable: Object.fromEntries(Object.entries(SELECTORS).map(([k, sel]) => {
    const els = [...root.querySelectorAll(sel)];
    // true, or what is wrong: each box and what is on top at its centre
    return [k, (els.length > 0 && els.every(reachable)) || els.map(el => {
      const r = el.getBoundingClientRect();
      const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return [box(el), hit && hit.outerHTML.slice(0, 80)];
    })];
  })),
};"#;

#[tokio::test]
async fn on_a_320_px_phone_the_panel_fills_the_screen_and_controls_are_reachable() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser
        .client
        .issue_cmd(Cdp(json!({
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": 320, "height": 640, "deviceScaleFactor": 2, "mobile": true}
        })))
        .await
        .expect("chromedriver runs the DevTools command");
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("appointment").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot')].pop().querySelectorAll('button.choice:not(:disabled)').length >= 3",
            "an answer with choices",
        )
        .await;

    let layout = |selectors: Value| {
        let browser = &browser;
        async move {
            browser
                .js_with(
                    &format!("const SELECTORS = arguments[0];\n{PHONE_LAYOUT}"),
                    vec![selectors],
                )
                .await
        }
    };
    let chatting = layout(json!({
        "composer": "#fd-input",
        "send": ".send",
        "talk to a person": ".bar:not([hidden]) .tbtn:first-child",
        "end chat": ".bar:not([hidden]) .tbtn:last-child",
        "close": ".head .ibtn",
    }))
    .await;
    assert_eq!(chatting["viewport"], json!([320, 640]), "{chatting}");
    assert_eq!(
        chatting["panel"],
        json!([0, 0, 320, 640]),
        "the panel fills the screen: {chatting}"
    );
    assert_eq!(chatting["pageScrollsSideways"], json!(false), "{chatting}");
    assert_eq!(chatting["panelScrollsSideways"], json!([]), "{chatting}");
    assert!(
        chatting["reachable"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == true),
        "every control visible, on top and at least 44 px tall: {chatting}"
    );
    let handoff = browser
        .js("return root.querySelector('.bar .tbtn').textContent;")
        .await;
    assert_eq!(handoff, json!("Talk to a person"));

    // The rating fits too.
    end_chat(&browser, "End chat").await;
    let rating = layout(json!({"scores": ".star", "new chat": ".newbar > button"})).await;
    assert_eq!(rating["panelScrollsSideways"], json!([]), "{rating}");
    assert!(
        rating["reachable"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == true),
        "the score buttons and Start a new chat fit: {rating}"
    );
    star(&browser, "3 of 5, okay").await;
    let comment = layout(json!({"comment": "#fd-comment", "send and skip": ".row .tbtn"})).await;
    assert_eq!(comment["panelScrollsSideways"], json!([]), "{comment}");
    assert!(
        comment["reachable"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == true),
        "the comment box and its buttons fit: {comment}"
    );
}

/// Serves one HTML page at `/` from another localhost origin.
async fn host_page(html: String) -> SocketAddr {
    super::harness::clinic_site(axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    ))
    .await
}

#[tokio::test]
async fn on_a_spanish_page_the_widget_speaks_spanish() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    let page = host_page(format!(
        r#"<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Clínica</title></head>
<body><main><h1>Clínica del Valle</h1></main>
<script src="http://{}/widget.js" data-title="Clínica del Valle" async></script></body></html>"#,
        app.addr
    ))
    .await;
    browser.goto(&format!("http://{page}/")).await;
    browser
        .wait_for(
            "root && root.querySelector('.launcher')",
            "the widget mounts",
        )
        .await;
    assert_eq!(
        browser
            .js("return root.querySelector('.launcher').getAttribute('aria-label');")
            .await,
        json!("Abrir chat \u{2013} Clínica del Valle")
    );
    browser.open_widget().await;
    let strings = browser
        .js("return {
            lang: root.querySelector('.root').lang,
            notice: root.querySelector('.notice').textContent,
            placeholder: root.querySelector('textarea').placeholder,
            send: root.querySelector('.send').getAttribute('aria-label'),
            actions: [...root.querySelectorAll('.bar .tbtn')].map(b => b.textContent),
            close: root.querySelector('.head .ibtn').getAttribute('aria-label'),
        };")
        .await;
    assert_eq!(
        strings,
        json!({
            "lang": "es",
            "notice": "No es para emergencias: llame al 911.",
            "placeholder": "Escriba su mensaje\u{2026}",
            "send": "Enviar",
            "actions": ["Hablar con una persona", "Terminar chat", "Terminar chat", "Seguir conversando"],
            "close": "Cerrar chat",
        })
    );

    browser.send_message("¿Cuál es el horario?").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('De lunes a viernes de 8 a 18 h'))",
            "the Spanish hours article",
        )
        .await;
    browser
        .wait_for(
            "!root.querySelector('.msg.pending') && root.querySelector('.status').textContent === 'En línea'",
            "the question delivered, online",
        )
        .await;

    end_chat(&browser, "Terminar chat").await;
    assert_eq!(
        browser
            .js("return [root.querySelector('#fd-rq').textContent, ...[...root.querySelectorAll('.star')].map(b => b.getAttribute('aria-label'))];")
            .await,
        json!([
            "¿Qué le pareció este chat?",
            "1 de 5, muy malo",
            "2 de 5, malo",
            "3 de 5, regular",
            "4 de 5, bueno",
            "5 de 5, excelente"
        ])
    );
    star(&browser, "5 de 5, excelente").await;
    browser.widget_button("Omitir").await.click().await.unwrap();
    browser
        .wait_for(
            "root.querySelector('.thanks').textContent === '¡Gracias por su opinión!' \
             && root.querySelector('.newbar > button').textContent === 'Iniciar un chat nuevo'",
            "the Spanish thank-you",
        )
        .await;
}
