//! The open-file budget. Every chat socket is a file descriptor; with the
//! usual soft limit of 1,024, a thousand idle patients would leave none for
//! the database, the knowledge files, sign-in or `/health`, and `accept`
//! would fail for everyone. At start the soft limit is raised towards the
//! hard one, a reserve is kept back, and the chat cap is what remains (never
//! more than `FRONTDESK_MAX_CONNECTIONS`).

/// Descriptors kept back from patients' chats: the database and its WAL
/// files, knowledge files and their watcher, the model, staff consoles,
/// sign-in and `/health`.
pub const RESERVE: u64 = 256;

/// The limits found and the chat cap derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileBudget {
    /// The process's open-file limit after raising it.
    pub open_files: u64,
    /// The hard limit it could be raised to.
    pub hard_limit: u64,
    /// Chats allowed at once.
    pub max_chats: usize,
}

impl FileBudget {
    /// Chats open now: one permit of `permits` is held per open chat.
    pub fn open_chats(&self, permits: &tokio::sync::Semaphore) -> usize {
        self.max_chats.saturating_sub(permits.available_permits())
    }
}

/// Raises the soft open-file limit to the hard one (at most a million) and
/// derives the chat cap from it.
pub fn raise_and_budget(max_connections: usize) -> FileBudget {
    let (soft, hard) = raise();
    FileBudget {
        open_files: soft,
        hard_limit: hard,
        max_chats: chats_for(soft, max_connections),
    }
}

/// The chats `open_files` leaves room for after the reserve.
pub fn chats_for(open_files: u64, max_connections: usize) -> usize {
    let room = open_files.saturating_sub(RESERVE);
    usize::try_from(room)
        .unwrap_or(usize::MAX)
        .min(max_connections)
}

#[cfg(unix)]
fn raise() -> (u64, u64) {
    const CEILING: u64 = 1 << 20;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return (1024, 1024);
        }
        let wanted = limit.rlim_max.min(CEILING as libc::rlim_t);
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = wanted;
            }
        }
    }
    // rlim_t is u64 on Linux but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    let found = (limit.rlim_cur as u64, limit.rlim_max as u64);
    found
}

#[cfg(not(unix))]
fn raise() -> (u64, u64) {
    (8192, 8192)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_comes_off_the_top_and_the_setting_caps_it() {
        assert_eq!(chats_for(1024, 20_000), 768);
        assert_eq!(chats_for(1_048_576, 20_000), 20_000);
        assert_eq!(chats_for(100, 20_000), 0);
    }
}
