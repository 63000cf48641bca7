//! Compliance: the audit log's API for admins (`api`), its key (`key`), and
//! retention (the daily purge of old transcripts and appointment details).

pub use api::{ComplianceState, routes};

pub mod api;
pub mod key;

use std::time::Duration;

use crate::store::{Purged, Writer};

/// Purges what is older than `days` through the writer.
pub async fn purge(writer: &Writer, days: u32, dry_run: bool) -> anyhow::Result<Purged> {
    let cutoff = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .map_err(|e| anyhow::anyhow!("bad retention period: {e}"))?;
    Ok(writer.purge(cutoff, dry_run).await?)
}

/// Runs the purge once a day until shutdown (and once shortly after start).
pub async fn daily_purge(
    writer: Writer,
    days: u32,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    if days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        tokio::select! {
            _ = tick.tick() => match purge(&writer, days, false).await {
                Ok(p) => tracing::info!(conversations = p.conversations, appointments = p.appointments, contacts = p.contacts, "retention purge ran"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "retention purge failed"),
            },
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => return,
        }
    }
}
