//! What is read or set up once, before the server serves.

use std::sync::Arc;

use anyhow::Context;

use crate::accounts::Role;
use crate::clinic::Clinic;
use crate::queue::{Hub, Waiting};
use crate::safety::Rules;
use crate::staff::password;
use crate::store::AuditKey;
use crate::store::{Store, Writer};

/// Checks that `key` is the audit log's key, and anchors rows from before
/// the log was keyed under it (one keyed row after them covers them all).
/// A key that does not match stops the start: rows written under it could
/// never be verified together with the ones before.
pub(super) async fn key_the_audit_log(
    store: &Store,
    writer: &Writer,
    key: &AuditKey,
) -> anyhow::Result<()> {
    let newest = store.audit_head().await?;
    match crate::store::key_matches(newest.as_ref(), key) {
        Ok(true) => Ok(()),
        Ok(false) => {
            let entry = crate::store::AuditEntry {
                actor: "frontdesk".into(),
                role: "system".into(),
                action: "audit.keyed".into(),
                target: format!("entries up to {}", newest.map_or(0, |r| r.id)),
                allowed: true,
            };
            writer.audit(entry).await?;
            tracing::info!("the audit log's earlier entries are now anchored under its key");
            Ok(())
        }
        Err(_) => anyhow::bail!(
            "the audit log's newest entry does not verify under this audit key (key {}): either it is not the log's key, or the entry was changed. Set FRONTDESK_AUDIT_KEY or FRONTDESK_AUDIT_KEY_FILE to the log's key; `frontdesk audit verify` says more",
            key.fingerprint()
        ),
    }
}

/// Reads clinic.toml; a broken file is logged and the defaults serve.
pub(super) fn load_clinic(dir: &std::path::Path) -> Clinic {
    Clinic::load(dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "clinic.toml is invalid; using defaults until it is fixed");
        Clinic::default()
    })
}

/// Reads safety.toml; a broken file is logged and the built-in rules serve.
pub(super) fn load_safety(dir: &std::path::Path) -> Rules {
    Rules::load(dir).unwrap_or_else(|e| {
        tracing::error!(error = %e, "safety.toml is invalid; using the built-in rules until it is fixed");
        Rules::built_in()
    })
}

/// Rebuilds the queue and assignments from the store after a restart.
pub(super) async fn restore_queue(store: &Store) -> anyhow::Result<Arc<Hub>> {
    let hub = Hub::new();
    let open = store
        .open_handoffs()
        .await
        .context("cannot read the agent queue")?;
    let count = open.len();
    for h in open {
        match h.assigned {
            Some((agent, name)) => hub.restore_assignment(h.conversation, agent, name),
            None => {
                hub.enqueue(Waiting {
                    conversation: h.conversation,
                    reason: h.reason,
                    lang: h.lang,
                    waited: std::time::Duration::from_secs(h.waited_s),
                    preview: None,
                });
            }
        }
    }
    if count > 0 {
        tracing::info!(count, "restored queued and assigned chats");
    }
    Ok(hub)
}

/// Creates `admin` with a random password when there are no accounts at all.
pub(super) async fn ensure_an_admin(store: &Store) -> anyhow::Result<Option<String>> {
    if store.count_staff().await? > 0 {
        return Ok(None);
    }
    let secret = password::generate();
    let hash = password::hash(secret.clone()).await?;
    store.create_staff("admin", Role::Admin, &hash).await?;
    tracing::info!("created the first admin account");
    Ok(Some(secret))
}
