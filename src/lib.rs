//! Frontdesk: a self-hosted patient front desk.

pub mod lang;
