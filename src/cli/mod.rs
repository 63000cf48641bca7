//! Frontdesk's subcommands. (Temporary wiring on the `knowledge` branch; the
//! real one lives on main and adopts these files as they are.)

pub mod answer;
pub mod eval;
pub mod knowledge;
