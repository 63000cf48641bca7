//! A small SMTP server on 127.0.0.1 for tests: it speaks enough of RFC 5321
//! for a real client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), records
//! every message it accepts, and can answer the next DATA with a refusal.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, dot-unstuffed, as sent.
    pub data: String,
}

impl Mail {
    /// The message with header lines unfolded and quoted-printable soft
    /// breaks and escapes undone, to read what a mail program shows.
    pub fn readable(&self) -> String {
        let unfolded = self.data.replace("\r\n ", " ").replace("\r\n\t", " ");
        let joined = unfolded.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = (bytes[i] == b'=')
                .then(|| joined.get(i + 1..i + 3))
                .flatten()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Mail>,
    /// DATA commands still to refuse, with this reply.
    refuse: Vec<&'static str>,
    refused: usize,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, s.clone()));
            }
        });
        SmtpSink { addr, shared }
    }

    /// `smtp://` URL of the sink (plain: it offers no STARTTLS).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The next DATA commands are answered with these replies, in order
    /// ("451 …" asks the client to try later, "550 …" refuses for good).
    pub fn refuse_next(&self, replies: &[&'static str]) {
        self.shared.lock().unwrap().refuse.extend(replies);
    }

    pub fn received(&self) -> Vec<Mail> {
        self.shared.lock().unwrap().received.clone()
    }

    pub fn refused(&self) -> usize {
        self.shared.lock().unwrap().refused
    }

    /// Waits until `n` messages have arrived (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let until = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "expected {n} messages, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn session(socket: tokio::net::TcpStream, shared: Arc<Mutex<Shared>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 ok".into()
        } else if upper.starts_with("RSET") {
            (from, to) = (String::new(), Vec::new());
            "250 ok".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            "250 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().to_owned());
            "250 ok".into()
        } else if upper.starts_with("DATA") {
            let _ = write.write_all(b"354 go on\r\n").await;
            let mut data = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push_str("\r\n");
            }
            let mut s = shared.lock().unwrap();
            let verdict = match s.refuse.is_empty() {
                true => None,
                false => Some(s.refuse.remove(0)),
            };
            match verdict {
                Some(refusal) => {
                    s.refused += 1;
                    refusal.into()
                }
                None => {
                    s.received.push(Mail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                    "250 queued".into()
                }
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            "502 not here".into()
        };
        if write
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}
