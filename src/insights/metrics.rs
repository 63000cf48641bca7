//! Prometheus metrics (text format 0.0.4), kept in atomics: no lock on the
//! hot path. Served by `api::metrics` (off unless FRONTDESK_METRICS_TOKEN is
//! set; then scrapes must send it as a bearer token).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::InsightsState;

/// A histogram with fixed buckets (upper bounds in seconds).
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            if s <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let total = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {total}");
    }
}

/// The server's counters.
pub struct Metrics {
    pub messages: AtomicU64,
    pub bot_reply: Histogram,
    pub queue_wait: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            messages: AtomicU64::new(0),
            bot_reply: Histogram::new(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            queue_wait: Histogram::new(&[
                5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
            ]),
        }
    }
}

/// The text of a scrape: every counter, gauge and histogram.
pub fn render(state: &InsightsState) -> String {
    let m = &state.metrics;
    let open = state.files.open_chats(&state.connections);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP frontdesk_chat_connections Open patient chat connections.\n# TYPE frontdesk_chat_connections gauge\nfrontdesk_chat_connections {open}"
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_messages_total Patient messages stored.\n# TYPE frontdesk_messages_total counter\nfrontdesk_messages_total {}",
        m.messages.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_chat_bookings_limited_total Chat bookings refused by a daily limit (a burst from one visitor, contact or address).\n# TYPE frontdesk_chat_bookings_limited_total counter\nfrontdesk_chat_bookings_limited_total {}",
        state.scheduler.limited()
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_chat_booking_bursts_total Times chat bookings and refused attempts within 10 minutes reached FRONTDESK_CHAT_BOOKING_BURST (supervisors were alerted).\n# TYPE frontdesk_chat_booking_bursts_total counter\nfrontdesk_chat_booking_bursts_total {}",
        state.scheduler.bursts().count()
    );
    m.bot_reply.render(
        "frontdesk_bot_reply_seconds",
        "Time from a patient message to the bot's last reply.",
        &mut out,
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_queue_length Chats waiting for an agent.\n# TYPE frontdesk_queue_length gauge\nfrontdesk_queue_length {}",
        state.hub.queue().len()
    );
    let model = state.embedder.stats();
    let ready = u8::from(state.embedder.is_ready());
    let _ = writeln!(
        out,
        "# HELP frontdesk_model_ready 1 once the language model answers.\n# TYPE frontdesk_model_ready gauge\nfrontdesk_model_ready {ready}"
    );
    for (name, help, value) in [
        (
            "embedded",
            "Questions embedded by the model.",
            model.embedded,
        ),
        (
            "batches",
            "Forward passes of the model (questions waiting are batched).",
            model.batches,
        ),
        (
            "cache_hits",
            "Questions answered from the embedding cache.",
            model.cache_hits,
        ),
        (
            "late",
            "Questions answered from words alone because the model was busy or late.",
            model.late,
        ),
        (
            "unavailable",
            "Questions asked while the model was loading or missing.",
            model.unavailable,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP frontdesk_model_{name}_total {help}\n# TYPE frontdesk_model_{name}_total counter\nfrontdesk_model_{name}_total {value}"
        );
    }
    let store = state.writer.health();
    let _ = writeln!(
        out,
        "# HELP frontdesk_storage_up 1 while database writes commit, 0 while they fail.\n# TYPE frontdesk_storage_up gauge\nfrontdesk_storage_up {}",
        u8::from(store.status().fault().is_none())
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_store_failed_batches_total Write batches that did not commit, by fault.\n# TYPE frontdesk_store_failed_batches_total counter"
    );
    for (fault, n) in store.failures_by_fault() {
        let _ = writeln!(
            out,
            "frontdesk_store_failed_batches_total{{fault=\"{}\"}} {n}",
            fault.code()
        );
    }
    m.queue_wait.render(
        "frontdesk_queue_wait_seconds",
        "How long claimed chats waited.",
        &mut out,
    );
    out
}
