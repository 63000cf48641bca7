//! The remembered contacts in the store: read by conversation (the store
//! finds the visitor, and whether they are signed in), written through the
//! writer like every other change a chat makes. Failures are logged by
//! kind only, never with the number or address.

use super::{ContactBook, Down, Pending, Recalled};
use crate::ids::ConversationId;
use crate::patient::Preference;
use crate::store::{Store, StoreError, Writer};

/// [`ContactBook`] over the database.
pub struct StoredContacts {
    store: Store,
    writer: Writer,
}

impl StoredContacts {
    pub fn new(store: Store, writer: Writer) -> StoredContacts {
        StoredContacts { store, writer }
    }
}

/// Logs why the store did not answer: its fault's code, or that it failed.
fn down(what: &'static str, e: &StoreError) -> Down {
    match e {
        StoreError::Unavailable(fault) => tracing::debug!(fault = fault.code(), "{what}"),
        _ => tracing::warn!("{what}"),
    }
    Down
}

impl ContactBook for StoredContacts {
    fn recall<'a>(&'a self, conversation: &'a str) -> Pending<'a, Result<Option<Recalled>, Down>> {
        Box::pin(async move {
            let Ok(id) = conversation.parse::<ConversationId>() else {
                return Ok(None);
            };
            match self.store.remembered_contact(&id).await {
                Ok(found) => Ok(found.map(|r| Recalled {
                    preference: r.preference,
                    signed_in: r.identified,
                })),
                Err(e) => Err(down("a remembered contact could not be read", &e)),
            }
        })
    }

    fn remember<'a>(
        &'a self,
        conversation: &'a str,
        preference: &'a Preference,
    ) -> Pending<'a, Result<(), Down>> {
        Box::pin(async move {
            let id = conversation.parse::<ConversationId>().map_err(|_| Down)?;
            self.writer
                .remember_contact(id, preference.clone())
                .await
                .map_err(|e| down("a contact preference could not be saved", &e))
        })
    }
}
