//! Frontdesk: a self-hosted patient front desk.
