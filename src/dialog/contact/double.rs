//! A contact book in memory for the engine's unit tests: one patient's
//! remembered contact, what was saved, and a switch to make it fail.

use std::sync::Mutex;

use super::{ContactBook, Down, Pending, Recalled};
use crate::patient::Preference;

#[derive(Default)]
pub(crate) struct FakeContacts {
    /// What is remembered (for any conversation).
    pub remembered: Mutex<Option<Recalled>>,
    /// Every preference saved, in order.
    pub saved: Mutex<Vec<Preference>>,
    /// Reads and writes fail (the database is down).
    pub down: bool,
}

impl ContactBook for FakeContacts {
    fn recall<'a>(&'a self, _: &'a str) -> Pending<'a, Result<Option<Recalled>, Down>> {
        let found = self.remembered.lock().unwrap().clone();
        Box::pin(async move { if self.down { Err(Down) } else { Ok(found) } })
    }

    fn remember<'a>(&'a self, _: &'a str, p: &'a Preference) -> Pending<'a, Result<(), Down>> {
        Box::pin(async move {
            if self.down {
                return Err(Down);
            }
            self.saved.lock().unwrap().push(p.clone());
            let mut remembered = self.remembered.lock().unwrap();
            let signed_in = remembered.as_ref().is_some_and(|r| r.signed_in);
            *remembered = Some(Recalled {
                preference: p.clone(),
                signed_in,
            });
            Ok(())
        })
    }
}
