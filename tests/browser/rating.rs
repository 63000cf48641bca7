//! The end of a chat: the satisfaction rating, its comment and thanks, a
//! rating given while reconnecting, and axe-core with the rating showing.

use serde_json::{Value, json};

use super::a11y::{axe_source, axe_violations};
use super::harness::{Browser, browser_or_skip};
use super::helpers::spawn_app;

/// Records the widget's WebSocket traffic in `window.__sent` and
/// `window.__got` (parsed frames). Run it before the widget connects: a
/// first-time visitor's widget connects when the panel first opens.
const SPY: &str = "window.__sent = []; window.__got = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (!this.__spied) {
    this.__spied = true;
    this.addEventListener('message', (e) => window.__got.push(JSON.parse(e.data)));
  }
  window.__sent.push(JSON.parse(data));
  return send.call(this, data);
};";

/// A condition: the rating's score buttons are showing, focus on its question.
const RATING_SHOWN: &str = "!root.querySelector('.newbar').hidden \
    && root.querySelectorAll('.star').length === 5 \
    && root.activeElement === root.querySelector('#fd-rq')";

/// Ends the chat through the End chat action and its confirmation.
pub(super) async fn end_chat(browser: &Browser, end: &str) {
    browser
        .widget_button(end)
        .await
        .click()
        .await
        .expect("the end button is clickable");
    // The confirmation's own button has the same label; the first is hidden now.
    browser
        .widget(".bar[role=group] .primary")
        .await
        .click()
        .await
        .expect("the confirmation is clickable");
    browser
        .wait_for(RATING_SHOWN, "the rating, with focus on its question")
        .await;
}

/// The score button with this accessible name.
pub(super) async fn star(browser: &Browser, label: &str) {
    browser
        .widget(&format!(".star[aria-label={}]", json!(label)))
        .await
        .click()
        .await
        .expect("the score button is clickable");
}

/// The rate frames the widget sent.
async fn rate_frames(browser: &Browser) -> Value {
    browser
        .js("return window.__sent.filter(f => f.type === 'rate');")
        .await
}

#[tokio::test]
async fn ending_the_chat_asks_for_a_rating_and_a_comment_and_thanks() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.js(SPY).await;
    browser.open_widget().await;
    browser.send_message("Where do I park?").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('Alder Street'))",
            "an answer",
        )
        .await;

    end_chat(&browser, "End chat").await;
    let labels = browser
        .js("return [...root.querySelectorAll('.star')].map(b => [b.textContent, b.getAttribute('aria-label'), b.getAttribute('aria-pressed')]);")
        .await;
    assert_eq!(
        labels,
        json!([
            ["1", "1 of 5, very poor", "false"],
            ["2", "2 of 5, poor", "false"],
            ["3", "3 of 5, okay", "false"],
            ["4", "4 of 5, good", "false"],
            ["5", "5 of 5, excellent", "false"]
        ])
    );
    assert_eq!(
        browser
            .js("return root.querySelector('.stars').getAttribute('aria-labelledby') === 'fd-rq' && root.querySelector('#fd-rq').textContent;")
            .await,
        json!("How was this chat?")
    );
    assert_eq!(
        browser
            .js("return !root.querySelector('.newbar button.primary:last-child').hidden && root.querySelector('.newbar > button').textContent;")
            .await,
        json!("Start a new chat"),
        "a new chat stays available"
    );

    // One tap sends the score, then the comment box takes focus.
    star(&browser, "5 of 5, excellent").await;
    browser
        .wait_for(
            "root.querySelector('.star:last-child').getAttribute('aria-pressed') === 'true' \
             && root.activeElement === root.querySelector('#fd-comment') \
             && window.__got.some(f => f.type === 'rated')",
            "the score pressed and stored, and focus in the comment box",
        )
        .await;
    assert_eq!(
        rate_frames(&browser).await,
        json!([{"type": "rate", "score": 5}])
    );

    browser
        .widget("#fd-comment")
        .await
        .send_keys("Quick and clear, thank you.")
        .await
        .expect("typing works");
    browser
        .widget_button("Send")
        .await
        .click()
        .await
        .expect("Send is clickable");
    browser
        .wait_for(
            "root.querySelector('.thanks').textContent === 'Thank you for your feedback!' \
             && root.querySelector('.thanks').getAttribute('aria-live') === 'polite' \
             && root.activeElement === root.querySelector('.newbar > button') \
             && window.__got.filter(f => f.type === 'rated').length === 2",
            "the thank-you, with focus on Start a new chat, and the comment stored",
        )
        .await;
    assert_eq!(
        rate_frames(&browser).await,
        json!([
            {"type": "rate", "score": 5},
            {"type": "rate", "score": 5, "comment": "Quick and clear, thank you."}
        ])
    );
    let errors = browser
        .js("return window.__got.filter(f => f.type === 'error');")
        .await;
    assert_eq!(errors, json!([]));

    // And a new chat can start right away.
    browser
        .widget_button("Start a new chat")
        .await
        .click()
        .await
        .expect("Start a new chat is clickable");
    browser
        .wait_for(
            "root.querySelector('.newbar').hidden && root.activeElement === root.querySelector('textarea') \
             && window.__got.filter(f => f.type === 'started').length === 2",
            "a new conversation with focus in the composer",
        )
        .await;
}

#[tokio::test]
async fn a_rating_given_while_reconnecting_is_sent_after_the_end() {
    let browser = browser_or_skip!();
    let mut app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.js(SPY).await;
    browser.open_widget().await;
    browser
        .wait_for(
            "root.querySelector('.status').textContent.includes('Online')",
            "the connection",
        )
        .await;

    app.stop().await;
    browser
        .wait_for(
            "root.querySelector('.status').textContent.includes('Reconnecting')",
            "the widget to notice the server is gone",
        )
        .await;
    end_chat(&browser, "End chat").await;
    star(&browser, "4 of 5, good").await;
    browser.widget_button("Skip").await.click().await.unwrap();
    browser
        .wait_for(
            "root.querySelector('.thanks').textContent === 'Thank you for your feedback!'",
            "the thank-you",
        )
        .await;

    app.start_again().await;
    // Come back now rather than after the backoff.
    browser
        .js("window.dispatchEvent(new Event('online'));")
        .await;
    browser
        .wait_for(
            "window.__got.some(f => f.type === 'ended') && window.__got.some(f => f.type === 'rated')",
            "the end and the rating delivered after reconnecting",
        )
        .await;
    let order = browser
        .js("return window.__sent.map(f => f.type).filter(t => t !== 'typing').slice(-3);")
        .await;
    assert_eq!(order, json!(["start", "end", "rate"]));
    assert_eq!(
        rate_frames(&browser).await,
        json!([{"type": "rate", "score": 4}])
    );
    assert_eq!(
        browser
            .js("return window.__got.filter(f => f.type === 'error');")
            .await,
        json!([])
    );
    // The thank-you is still there: the reconnect did not start a new chat.
    assert_eq!(
        browser
            .js("return root.querySelector('.thanks').textContent;")
            .await,
        json!("Thank you for your feedback!")
    );
}

#[tokio::test]
async fn axe_finds_no_violations_with_the_rating_showing() {
    let Some(axe) = axe_source() else { return };
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("Do you offer payment plans?").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('monthly payments'))",
            "an answer",
        )
        .await;
    end_chat(&browser, "End chat").await;

    let asking = axe_violations(&browser, &axe).await;
    assert_eq!(
        asking,
        json!([]),
        "axe-core violations with the score buttons showing:\n{}",
        serde_json::to_string_pretty(&asking).unwrap()
    );

    star(&browser, "2 of 5, poor").await;
    browser
        .wait_for(
            "root.activeElement === root.querySelector('#fd-comment')",
            "the comment box",
        )
        .await;
    let commenting = axe_violations(&browser, &axe).await;
    assert_eq!(
        commenting,
        json!([]),
        "axe-core violations with the comment box showing:\n{}",
        serde_json::to_string_pretty(&commenting).unwrap()
    );

    browser.widget_button("Skip").await.click().await.unwrap();
    browser
        .wait_for(
            "root.querySelector('.thanks').textContent !== ''",
            "the thank-you",
        )
        .await;
    let thanked = axe_violations(&browser, &axe).await;
    assert_eq!(
        thanked,
        json!([]),
        "axe-core violations with the thank-you showing:\n{}",
        serde_json::to_string_pretty(&thanked).unwrap()
    );
}
