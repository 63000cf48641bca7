//! Staff accounts as every layer understands them: the row id, the role
//! and what each role may do, and the account as stored. Imports nothing of
//! ours, so the store can hold these without depending on `staff`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works escalated chats.
    Agent,
    /// Agent rights, plus every transcript and the numbers.
    Supervisor,
    /// Everything, including accounts.
    Admin,
    /// Edits knowledge; never reads transcripts.
    Editor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }

    /// May work chats from the queue.
    pub fn handles_chats(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor | Role::Admin)
    }

    /// Oversees the front desk's work: the numbers, and the messages to
    /// patients that failed.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    /// May change the knowledge files from the editors' workspace.
    pub fn edits_knowledge(self) -> bool {
        matches!(self, Role::Editor | Role::Admin)
    }

    /// May read any transcript, not only the ones they handled.
    pub fn reads_all_transcripts(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffId(pub i64);

/// A staff account as stored.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A staff name: 1–64 characters of letters, digits, `.`, `_`, `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers() {
        assert!(valid_name("maria.lopez"));
        assert!(valid_name("agent_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("robert'); drop"));
        assert!(!valid_name(&"a".repeat(65)));
    }

    #[test]
    fn only_supervisors_and_admins_read_every_transcript() {
        assert!(!Role::Agent.reads_all_transcripts());
        assert!(!Role::Editor.reads_all_transcripts());
        assert!(!Role::Editor.handles_chats());
        assert!(Role::Supervisor.reads_all_transcripts());
        assert!(Role::Admin.supervises() && !Role::Agent.supervises());
        assert!(!Role::Editor.supervises());
        assert!(Role::Editor.edits_knowledge() && Role::Admin.edits_knowledge());
        assert!(!Role::Agent.edits_knowledge() && !Role::Supervisor.edits_knowledge());
        assert_eq!("admin".parse(), Ok(Role::Admin));
    }
}
