//! Notifications between the nodes that share one PostgreSQL database
//! (`LISTEN`/`NOTIFY` on one channel). The store carries their text and
//! says when some may have been missed; what they mean is the queue's
//! business (`queue::notice`).

use std::time::Duration;

use sqlx::PgPool;
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
    pool: PgPool,
    /// None after the connection failed, until a new one listens.
    listener: Option<PgListener>,
}

impl PostgresStore {
    /// Starts listening. Notices sent from now on are heard.
    pub async fn listen(&self) -> StoreResult<Notices> {
        let listener = listening(self.pool()).await?;
        Ok(Notices {
            pool: self.pool().clone(),
            listener: Some(listener),
        })
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

async fn listening(pool: &PgPool) -> StoreResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

impl Notices {
    /// The next notice; or, after the connection was lost, `Reconnected`
    /// once a new one is listening (tried every second until then).
    pub async fn next(&mut self) -> Heard {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listening(&self.pool).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        tracing::info!("listening to the other nodes again");
                        return Heard::Reconnected;
                    }
                    Err(_) => {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    return Heard::Notice(notification.payload().to_owned());
                }
                // Lost, and already reconnected and listening again.
                Ok(None) => return Heard::Reconnected,
                Err(e) => {
                    // The server may have said goodbye (a shutdown) rather
                    // than dropped the line, which sqlx's listener does not
                    // reconnect from: start over with a new one.
                    tracing::warn!(error = %e, "lost the notices from other nodes; reconnecting");
                    self.listener = None;
                }
            }
        }
    }
}
