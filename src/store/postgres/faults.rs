//! How PostgreSQL's failures become [`Fault`]s, by SQLSTATE class
//! (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
//! A lost connection (a restarted or unreachable server) is sqlx's I/O
//! error and is classified with the other backend-neutral errors.

use crate::store::fault::Fault;

/// The fault a PostgreSQL error stands for, or `None` if it is not
/// PostgreSQL's.
pub(in crate::store) fn classify(db: &dyn sqlx::error::DatabaseError) -> Option<Fault> {
    let db = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let code = db.code();
    Some(match &code[..2.min(code.len())] {
        // insufficient_resources: disk_full, out_of_memory, too_many_connections
        "53" if code == "53100" => Fault::DiskFull,
        "53" => Fault::Unreachable,
        // lock_not_available, and a transaction that lost a conflict
        // (serialization_failure, deadlock_detected): retrying may succeed.
        "55" if code == "55P03" => Fault::Locked,
        "40" => Fault::Locked,
        // connection exceptions; the server shutting down or starting up
        // (admin_shutdown, crash_shutdown, cannot_connect_now); a standby
        // that takes no writes (read_only_sql_transaction).
        "08" | "57" => Fault::Unreachable,
        "25" if code == "25006" => Fault::Unreachable,
        // data_corrupted, index_corrupted, io_error
        "XX" | "58" => Fault::Unreachable,
        _ => Fault::Other,
    })
}
