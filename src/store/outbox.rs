//! The outbox and the opt-outs as staff see them: the messages that stayed
//! failed, putting one back in line, and which of many patients' contacts
//! opted out (one query for a whole list, not one per row). The sender's
//! own calls (`outbox_due`, `outbox_claim`, …) are beside the others in
//! `mod.rs`; each backend's SQL is in its `outbox.rs`.

use std::collections::HashSet;

use super::{OutboxEntry, OutboxStatus, Store, StoreError, StoreResult};
use crate::patient::Channel;

/// An outbox row for staff: id, kind, channel, recipient, language,
/// status, attempts, last error, created at (Unix seconds), and the code of
/// its appointment.
pub(super) type EntryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    i64,
    Option<String>,
);

/// The entry; a row whose words no longer read is an error naming it.
pub(super) fn entry(r: EntryRow) -> StoreResult<OutboxEntry> {
    let (id, kind, channel, recipient, lang, status, attempts, last_error, created_at, code) = r;
    let status = OutboxStatus::parse(&status).ok_or_else(|| {
        StoreError::Other(anyhow::anyhow!("outbox row {id} has an unreadable status"))
    })?;
    // Its message read as the sender reads it, by the same checks.
    let message = super::outbound_records::outbound((
        id, kind, channel, recipient, lang, attempts, 0, None, None, None, None, None,
    ))?;
    Ok(OutboxEntry {
        id,
        kind: message.kind,
        channel: message.channel,
        recipient: message.recipient,
        lang: message.lang,
        status,
        attempts,
        last_error,
        created_at,
        appointment_code: code,
    })
}

impl Store {
    /// Messages that stayed failed, newest first: at most `limit`, with ids
    /// below `before` when given (the next page).
    pub async fn outbox_failed(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let before = before.unwrap_or(i64::MAX);
        let rows = dispatch!(self, s => s.outbox_failed(before, limit).await)?;
        rows.into_iter().map(entry).collect()
    }

    /// One message in the outbox, whatever its status.
    pub async fn outbox_entry(&self, id: i64) -> StoreResult<Option<OutboxEntry>> {
        let row = dispatch!(self, s => s.outbox_entry(id).await)?;
        row.map(entry).transpose()
    }

    /// Puts a failed message back in line, due at `now` with its tries
    /// counted from zero: only if it is failed still (a conditional update,
    /// so of two supervisors pressing Retry one wins); `false` otherwise.
    pub async fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        dispatch!(self, s => s.outbox_retry(id, now).await)
    }

    /// For each `(channel, address as given)`, whether it opted out of that
    /// channel (a phone call never has), in one look-up for the whole list.
    pub async fn opted_out_of(&self, contacts: &[(Channel, &str)]) -> StoreResult<Vec<bool>> {
        let keys: Vec<Option<(Channel, String)>> = contacts
            .iter()
            .map(|(channel, address)| Some((*channel, channel.opt_out_key(address)?)))
            .collect();
        let mut addresses: Vec<String> = keys.iter().flatten().map(|(_, a)| a.clone()).collect();
        addresses.sort();
        addresses.dedup();
        if addresses.is_empty() {
            return Ok(vec![false; contacts.len()]);
        }
        let found = dispatch!(self, s => s.opted_out_among(&addresses).await)?;
        let found: HashSet<(Channel, String)> = found
            .into_iter()
            .filter_map(|(channel, address)| Some((Channel::parse(&channel).ok()?, address)))
            .collect();
        Ok(keys
            .into_iter()
            .map(|key| key.is_some_and(|k| found.contains(&k)))
            .collect())
    }
}
