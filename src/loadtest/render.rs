//! The report as a plain-text table: one column for Frontdesk and one for
//! the bare stack when it ran, then a line per extra measurement.

use std::fmt::Write as _;

use super::bookings::BookingsReport;
use super::cpu::CpuUse;
use super::reload::ReloadReport;
use super::restarts::DurabilityReport;
use super::stats::{self, Totals};
use super::{Mode, Report};

/// The report as a plain-text table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "frontdesk loadtest: {} mode, {} connections, {} s{} against {}",
        serde_json::to_value(report.mode)
            .unwrap()
            .as_str()
            .unwrap_or(""),
        report.totals.connections,
        report.duration_secs,
        if report.mode == Mode::Idle {
            String::new()
        } else {
            format!(", {} msg/s per connection", report.rate)
        },
        report
            .urls
            .as_ref()
            .map_or_else(|| report.url.clone(), |urls| urls.join(" and "))
    );
    let mut columns = vec![("frontdesk", &report.totals)];
    if let Some(b) = &report.baseline {
        columns.push(("bare axum", &b.totals));
    }
    let _ = write!(out, "{:<28}", "");
    for (name, _) in &columns {
        let _ = write!(out, "{name:>14}");
    }
    out.push('\n');
    let mut row = |label: &str, value: &dyn Fn(&Totals) -> String| {
        let _ = write!(out, "{label:<28}");
        for (_, t) in &columns {
            let _ = write!(out, "{:>14}", value(t));
        }
        out.push('\n');
    };
    row("connected", &|t| {
        format!("{}/{}", t.connected, t.connections)
    });
    row("connect failures", &|t| t.connect_failures.to_string());
    row("dropped connections", &|t| t.dropped.to_string());
    row("open at end", &|t| t.open_at_end.to_string());
    row("messages sent", &|t| t.sent.to_string());
    row("acks", &|t| t.acks.to_string());
    row("replies", &|t| t.replies.to_string());
    row("answered messages", &|t| t.answered.to_string());
    row("unacked at end", &|t| t.unacked.to_string());
    row("unanswered at end", &|t| t.unanswered.to_string());
    row("handoffs (restarted)", &|t| t.handoffs.to_string());
    row("throughput (replies/s)", &|t| {
        format!("{:.1}", t.replies_per_sec)
    });
    for (name, pick) in [
        (
            "ack",
            (|t: &Totals| t.ack_latency_ms.clone()) as fn(&Totals) -> stats::Latency,
        ),
        ("reply", |t: &Totals| t.reply_latency_ms.clone()),
    ] {
        row(&format!("{name} latency p50 (ms)"), &|t| {
            format!("{:.2}", pick(t).p50)
        });
        row(&format!("{name} latency p90 (ms)"), &|t| {
            format!("{:.2}", pick(t).p90)
        });
        row(&format!("{name} latency p99 (ms)"), &|t| {
            format!("{:.2}", pick(t).p99)
        });
        row(&format!("{name} latency max (ms)"), &|t| {
            format!("{:.2}", pick(t).max)
        });
    }
    row("errors", &|t| {
        if t.errors.is_empty() {
            "0".to_owned()
        } else {
            t.errors
                .iter()
                .map(|(code, n)| format!("{code}={n}"))
                .collect::<Vec<_>>()
                .join(",")
        }
    });
    if let Some(open) = report.still_open {
        let _ = writeln!(
            out,
            "idle connections still open at end: {open}/{}",
            report.totals.connections
        );
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            out,
            "frontdesk / bare: throughput (answered/s) {:.3}x, reply frames/s {:.3}x, p99 reply latency {:.2}x, p99 ack latency {:.2}x",
            b.throughput_ratio, b.reply_frames_ratio, b.p99_reply_ratio, b.p99_ack_ratio
        );
    }
    processor(&mut out, report);
    memory(&mut out, report);
    if let Some(r) = &report.reload {
        reload(&mut out, r);
    }
    if let Some(b) = &report.bookings {
        bookings(&mut out, b);
    }
    if let Some(d) = &report.durability {
        durability(&mut out, d);
    }
    out
}

fn processor(out: &mut String, report: &Report) {
    let line = |out: &mut String, who: &str, cpu: &CpuUse| {
        let per_message = cpu
            .us_per_answered
            .map(|us| format!(", {us:.1} µs per answered message"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{who} CPU: {:.2} s, {:.2} cores on average{per_message}",
            cpu.seconds, cpu.cores
        );
    };
    if let Some(cpu) = &report.server_cpu {
        line(out, "server", cpu);
    }
    if let Some(cpu) = &report.harness_cpu {
        line(out, "harness", cpu);
    }
    if let Some(b) = &report.baseline {
        line(out, "bare axum", &b.server_cpu);
        if let Some(cpu) = &b.harness_cpu {
            line(out, "harness (bare run)", cpu);
        }
        if let Some(r) = b.cpu_per_answered_ratio {
            let _ = writeln!(
                out,
                "frontdesk / bare: CPU per answered message {r:.1}x (so {:.3}x the answered messages per core)",
                if r > 0.0 { 1.0 / r } else { 0.0 }
            );
        }
    }
}

fn memory(out: &mut String, report: &Report) {
    if let Some(rss) = &report.server_rss_mib {
        let _ = writeln!(
            out,
            "server RSS (MiB): start {:.1}, peak {:.1}, end {:.1}",
            rss.start, rss.peak, rss.end
        );
    }
    if let Some(kib) = report.rss_per_connection_kib {
        let _ = writeln!(
            out,
            "server RSS per idle connection: {kib:.1} KiB ((peak - start) / connected)"
        );
    }
}

fn reload(out: &mut String, r: &ReloadReport) {
    let _ = writeln!(out, "during reload of {}:", r.file.display());
    match r.seconds {
        Some(s) => {
            let _ = writeln!(
                out,
                "  written at {:.2} s; new generation seen after {s:.3} s (generation {} -> {})",
                r.at_secs, r.generation_before, r.generation_after
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  NOT reloaded (generation stayed {}){}",
                r.generation_before,
                r.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    let l = &r.reply_latency_ms;
    let _ = writeln!(
        out,
        "  replies to the {} messages sent meanwhile (ms): p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        l.samples, l.p50, l.p90, l.p99, l.max
    );
    let _ = writeln!(
        out,
        "  dropped connections: {}; article restored: {}",
        r.dropped_connections,
        if r.restored { "yes" } else { "NO" }
    );
}

fn bookings(out: &mut String, b: &BookingsReport) {
    let _ = writeln!(
        out,
        "bookings ({}): {} attempts over {} slots: {} created, {} conflicts, {} other errors, {} double-booked; latency p50 {:.2} ms, p99 {:.2} ms; {} cancelled after the run",
        b.appointment_type,
        b.attempts,
        b.slots,
        b.created,
        b.conflicts,
        b.other_errors,
        b.double_booked,
        b.latency_ms.p50,
        b.latency_ms.p99,
        b.cancelled
    );
}

fn durability(out: &mut String, d: &DurabilityReport) {
    let downtime = d
        .downtime_ms
        .iter()
        .map(|ms| format!("{:.1}", ms / 1e3))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "kill -9 and restart: {} times (back after {downtime} s), then a last kill before the check",
        d.restarts
    );
    let _ = writeln!(
        out,
        "  {} conversations, {} reconnects ({} tries), {} messages resent",
        d.conversations, d.reconnects, d.reconnect_attempts, d.resent
    );
    let _ = writeln!(
        out,
        "  {} acknowledged, {} stored{}; {} never acknowledged (each stored at most once); {} stored twice",
        d.acknowledged,
        d.stored,
        if d.lost > 0 {
            format!(", {} LOST", d.lost)
        } else {
            String::new()
        },
        d.never_acknowledged,
        d.duplicated
    );
}
