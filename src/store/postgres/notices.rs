//! Notifications between the nodes that share one PostgreSQL database
//! (`LISTEN`/`NOTIFY` on one channel). The store carries their text and
//! says when some may have been missed; what they mean is the queue's
//! business (`queue::notice`).

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::PostgresStore;
use crate::store::StoreResult;

/// The one channel every node listens on.
const CHANNEL: &str = "frontdesk_queue";
/// How often a lost connection is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// What the listening connection heard next.
#[derive(Debug)]
pub enum Heard {
    /// The text of one notification, from any node (this one included).
    Notice(String),
    /// The connection was lost and is back, listening again: whatever was
    /// sent meanwhile is gone, so the caller reloads its view from the
    /// database.
    Reconnected,
}

/// A connection that listens for the other nodes' notices.
pub struct Notices {
    listener: PgListener,
}

impl PostgresStore {
    /// Starts listening. Notices sent from now on are heard.
    pub async fn listen(&self) -> StoreResult<Notices> {
        let mut listener = PgListener::connect_with(self.pool()).await?;
        listener.listen(CHANNEL).await?;
        Ok(Notices { listener })
    }

    /// Sends `text` to every listening node, this one included. (A notice
    /// is delivered only once a transaction commits; this one is its own.)
    pub async fn notify(&self, text: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(text)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl Notices {
    /// The next notice; or, after the connection was lost, `Reconnected`
    /// once it is listening again (trying every second until then).
    pub async fn next(&mut self) -> Heard {
        match self.listener.try_recv().await {
            Ok(Some(notification)) => Heard::Notice(notification.payload().to_owned()),
            // Lost, and already reconnected and listening again.
            Ok(None) => Heard::Reconnected,
            Err(e) => {
                tracing::warn!(error = %e, "lost the notices from other nodes; reconnecting");
                // Any statement through the listener reconnects it and
                // listens again first.
                while sqlx::query("SELECT 1")
                    .execute(&mut self.listener)
                    .await
                    .is_err()
                {
                    tokio::time::sleep(RETRY).await;
                }
                tracing::info!("listening to other nodes again");
                Heard::Reconnected
            }
        }
    }
}
