//! Log set-up. Logs go to stderr so that commands like `frontdesk answer` keep
//! stdout for their output.
//!
//! What never goes into a log, at any level: message text, resume tokens,
//! names, phone numbers, e-mail addresses, dates of birth. Code logs ids,
//! counts, codes and timings only. Records of the `log` crate (used by the
//! WebSocket library, the HTML parser and tantivy, which print payloads and
//! parsed text at debug level) are not bridged into tracing at all, and
//! tracing-native dependencies that could print bytes are capped, whatever
//! RUST_LOG says.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// Targets capped at `info`: at debug/trace they may print frame payloads.
const PAYLOAD_LOGGING_TARGETS: &[&str] = &["tungstenite", "tokio_tungstenite", "axum::extract::ws"];

fn filter() -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for target in PAYLOAD_LOGGING_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber writing to `writer`. Safe to call twice: the
/// second call does nothing.
pub fn init_with<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(writer)
        .with_target(true);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Installs the global subscriber writing to stderr.
pub fn init(format: LogFormat) {
    init_with(format, std::io::stderr);
}

/// Installs the global subscriber on stderr, in the format `FRONTDESK_LOG`
/// names (pretty unless it says json): for subcommands without a `--log` flag.
pub fn init_from_env() {
    let json = std::env::var("FRONTDESK_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    init(if json {
        LogFormat::Json
    } else {
        LogFormat::Pretty
    });
}
