//! Delivery across nodes: the queue, claims, messages, typing and presence
//! of one node shown on every other node that shares its PostgreSQL
//! database, through `LISTEN`/`NOTIFY`.
//!
//! A notice carries ids only ([`super::notice`]); the node that hears it
//! reads the rest from the database, where the change was committed before
//! the notice was sent. A node that lost its connection to the database
//! may have missed notices: once it is listening again it reloads the
//! queue from the database and cuts off the sockets of chats with an
//! agent (and of those agents), whose clients reconnect and load what they
//! missed, as after a restart (`Hub::resync`).
//!
//! Each node also says which of its agents have a console open, on every
//! change and every [`HEARTBEAT`]; a node not heard from for
//! [`super::PRESENCE_TTL`] no longer counts, so a node that dies takes its
//! agents' presence with it within seconds.
//!
//! SQLite has one node, and no relay.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::notice::{Envelope, NodeId, Notice};
use super::{Hub, PREVIEW_CHARS, Waiting};
use crate::ids::ConversationId;
use crate::store::{Heard, Notices, Store, StoreResult};
use crate::transcript::{Page, Sender};

/// Notices this node may have waiting to be sent before new ones are dropped.
const OUTGOING: usize = 4096;
/// How often a node says which agents it has, even when nothing changed.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Messages searched for the patient's latest words (a queue preview).
const PREVIEW_SEARCH: usize = 20;

/// Starts the relay when the database is shared (PostgreSQL): this node's
/// changes go out, the others' come in. Returns at once; the relay runs
/// until shutdown.
pub fn start(
    hub: Arc<Hub>,
    store: Store,
    shutdown: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if matches!(store, Store::Sqlite(_)) {
        return None;
    }
    let node = NodeId::generate();
    let (tx, rx) = mpsc::channel(OUTGOING);
    hub.relay_to(tx);
    let sending = tokio::spawn(send(node, hub.clone(), store.clone(), rx, shutdown.clone()));
    let listening = tokio::spawn(listen(node, hub, store, shutdown));
    Some(tokio::spawn(async move {
        let _ = listening.await;
        let _ = sending.await;
    }))
}

/// Sends this node's notices in the order they were made, and a presence
/// heartbeat; on shutdown, says it has no agents any more.
async fn send(
    node: NodeId,
    hub: Arc<Hub>,
    store: Store,
    mut outgoing: mpsc::Receiver<Notice>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let notice = tokio::select! {
            Some(notice) = outgoing.recv() => notice,
            _ = beat.tick() => {
                hub.expire_presence();
                Notice::Presence { agents: hub.local_presence() }
            }
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let text = Envelope { from: node, notice }.to_string();
        if let Err(e) = store.notify(&text).await {
            tracing::warn!(error = %e, "a notice to the other nodes was not sent");
        }
    }
    let gone = Envelope {
        from: node,
        notice: Notice::Presence { agents: Vec::new() },
    };
    let _ = store.notify(&gone.to_string()).await;
}

/// Hears the other nodes' notices and shows them here.
async fn listen(node: NodeId, hub: Arc<Hub>, store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut notices = tokio::select! {
        notices = listening(&store) => notices,
        _ = shutdown.wait_for(|s| *s) => return,
    };
    // Whatever changed between reading the queue at start and listening.
    let mut stale = true;
    loop {
        if stale {
            stale = tokio::select! {
                done = resync(&hub, &store) => done.is_err(),
                _ = shutdown.wait_for(|s| *s) => return,
            };
            if stale {
                // The database is not answering yet: try again shortly.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        }
        let heard = tokio::select! {
            heard = notices.next() => heard,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match heard {
            Heard::Reconnected => stale = true,
            Heard::Notice(text) => match text.parse::<Envelope>() {
                Ok(envelope) if envelope.from == node => {}
                Ok(envelope) => {
                    if let Err(e) = apply(&hub, &store, envelope).await {
                        // The database is failing: what was missed is
                        // reloaded once it answers.
                        tracing::warn!(error = %e, "a notice from another node could not be read");
                        stale = true;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "ignored a notice from another node"),
            },
        }
    }
}

/// Listens, trying every second until the database answers.
async fn listening(store: &Store) -> Notices {
    loop {
        match store.listen().await {
            Ok(Some(notices)) => return notices,
            Ok(None) => std::future::pending::<()>().await,
            Err(e) => tracing::warn!(error = %e, "cannot listen to the other nodes yet"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reloads the queue and assignments from the database.
async fn resync(hub: &Hub, store: &Store) -> StoreResult<()> {
    let mut waiting = Vec::new();
    let mut assigned = Vec::new();
    for h in store.open_handoffs().await? {
        match h.assigned {
            Some((agent, name)) => assigned.push((h.conversation, agent, name)),
            None => {
                let preview = preview(store, &h.conversation).await?;
                waiting.push(Waiting {
                    conversation: h.conversation,
                    reason: h.reason,
                    lang: h.lang,
                    waited: Duration::from_secs(h.waited_s),
                    preview,
                })
            }
        }
    }
    hub.resync(waiting, assigned);
    Ok(())
}

/// Reads what a notice points at and shows it here.
async fn apply(hub: &Hub, store: &Store, envelope: Envelope) -> StoreResult<()> {
    match envelope.notice {
        Notice::Queued { conversation } => {
            let open = store.open_handoffs().await?;
            // Not queued any more (claimed already): its next notice says so.
            let Some(h) = open
                .into_iter()
                .find(|h| h.conversation == conversation && h.assigned.is_none())
            else {
                return Ok(());
            };
            let preview = preview(store, &conversation).await?;
            hub.heard_queued(Waiting {
                conversation,
                reason: h.reason,
                lang: h.lang,
                waited: Duration::from_secs(h.waited_s),
                preview,
            });
        }
        Notice::Preview { conversation } => {
            if let Some(preview) = preview(store, &conversation).await? {
                hub.heard_preview(&conversation, preview);
            }
        }
        Notice::Claimed {
            conversation,
            agent,
        } => {
            let name = agent_name(store, agent).await?;
            hub.heard_claimed(&conversation, agent, name);
        }
        Notice::Transferred { conversation, to } => {
            let name = agent_name(store, to).await?;
            hub.heard_transferred(&conversation, to, name);
        }
        Notice::Released { conversation, why } => hub.heard_released(&conversation, why),
        Notice::Message {
            conversation,
            seq,
            to,
        } => {
            let page = Page {
                before: Some(seq + 1),
                limit: 1,
            };
            let found = store.history(&conversation, page).await?;
            if let Some(message) = found.messages.into_iter().find(|m| m.seq == seq) {
                hub.heard_message(&conversation, message, to);
            }
        }
        Notice::Typing { conversation, to } => hub.heard_typing(&conversation, to),
        Notice::Alert { conversation } => {
            if let Some((category, kind)) = store.latest_alert(&conversation).await? {
                let kind = crate::safety::Kind::parse(&kind).map_or("medical", |k| k.as_str());
                hub.heard_alert(&conversation, category, kind);
            }
        }
        Notice::Presence { agents } => hub.heard_presence(envelope.from, agents),
    }
    Ok(())
}

/// The patient's latest words, as the queue shows them.
async fn preview(store: &Store, conversation: &ConversationId) -> StoreResult<Option<String>> {
    let recent = store
        .history(conversation, Page::latest(PREVIEW_SEARCH))
        .await?;
    Ok(recent
        .messages
        .into_iter()
        .rev()
        .find(|m| m.sender == Sender::Patient)
        .map(|m| m.text.chars().take(PREVIEW_CHARS).collect()))
}

async fn agent_name(store: &Store, agent: crate::accounts::StaffId) -> StoreResult<String> {
    Ok(store
        .staff_by_id(agent)
        .await?
        .map_or_else(|| "An agent".to_owned(), |a| a.name))
}
