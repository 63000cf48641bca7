//! The outbox under kill -9: the real binary, killed without warning at
//! the two points that matter, and started again on the same database.
//! A provider that answers 500 and then 201 is `texts.rs`'s first test
//! (one text arrives, however many tries).

use super::helpers::sms::{self, Mode, SmsProvider};
use super::helpers::{AroundDb, Chat, ServerProcess, book_in_chat, database_url, outbox_settled};
use super::outbound::ARRIVES;

/// Text messages on, through `provider`, with a lease short enough to
/// wait out in a test.
fn texting_through(provider: &SmsProvider) -> Vec<(&'static str, String)> {
    vec![
        ("FRONTDESK_SMS_API_URL", provider.url()),
        ("FRONTDESK_SMS_ACCOUNT_SID", sms::SID.into()),
        ("FRONTDESK_SMS_AUTH_TOKEN", sms::TOKEN.into()),
        ("FRONTDESK_SMS_FROM", sms::FROM.into()),
        ("FRONTDESK_OUTBOX_LEASE_SECS", "5".into()),
        ("FRONTDESK_OUTBOX_RETRY_SECS", "1".into()),
    ]
}

fn start(dir: &std::path::Path, env: &[(&'static str, String)]) -> ServerProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ServerProcess::start(dir, &env)
}

/// A server texting through a provider in `mode`, with a sick visit just
/// booked by text in its chat: the chat has shown the confirmation, so the
/// booking and its message are committed.
struct Booked {
    provider: SmsProvider,
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
    server: ServerProcess,
}

async fn booked_with_provider(mode: Mode) -> Booked {
    let provider = SmsProvider::start().await;
    provider.set_mode(mode);
    let dir = tempfile::tempdir().unwrap();
    let env = texting_through(&provider);
    let server = start(dir.path(), &env);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    chat.start().await;
    let booked = book_in_chat(&mut chat, "555-010-1234").await;
    let text = booked["text"].as_str().unwrap();
    assert!(text.contains("confirmation code is"), "{booked}");
    Booked {
        provider,
        dir,
        env,
        server,
    }
}

impl Booked {
    /// Kills the server with SIGKILL, lets the provider take messages,
    /// and starts the server again on the same database.
    fn kill_and_restart(&mut self) {
        self.server.kill_hard();
        self.provider.set_mode(Mode::Take);
        self.server = start(self.dir.path(), &self.env);
    }
}

#[tokio::test]
async fn a_message_committed_but_not_yet_sent_when_the_server_dies_is_sent_once_after() {
    // The provider takes nothing yet: whatever the sender tries before the
    // kill waits unanswered and is never sent.
    let mut b = booked_with_provider(Mode::NotYet).await;
    b.kill_and_restart();
    let texts = b.provider.wait_for(1, ARRIVES * 2).await;
    assert_eq!(texts[0]["To"], "+15550101234");
    assert!(texts[0]["Body"].contains("Confirmation code"), "{texts:?}");
    assert_eq!(outbox_settled(&database_url(b.dir.path())).await, (1, 0));
    assert_eq!(b.provider.taken().len(), 1, "sent exactly once");
}

#[tokio::test]
async fn a_message_sent_but_not_marked_when_the_server_dies_is_sent_again_after_the_lease() {
    // The provider takes the text and holds its answer: the sender cannot
    // mark it sent before it dies.
    let mut b = booked_with_provider(Mode::TakeThenHold).await;
    let first = b.provider.wait_for(1, ARRIVES).await;
    b.kill_and_restart();
    // At least once: the claim's lease runs out and the new process sends
    // it again. This is the duplicate window docs/operations.md describes.
    let texts = b.provider.wait_for(2, ARRIVES * 2).await;
    assert_eq!(texts[1]["Body"], first[0]["Body"], "the same message");
    let url = database_url(b.dir.path());
    assert_eq!(outbox_settled(&url).await, (1, 0));
    assert_eq!(
        b.provider.taken().len(),
        2,
        "once before the kill, once after"
    );
    let db = AroundDb::open(&url).await;
    assert_eq!(
        db.number("SELECT attempts FROM outbox").await,
        2,
        "claimed by each process in turn"
    );
}
