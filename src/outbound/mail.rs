//! E-mail over SMTP: `FRONTDESK_SMTP_URL` read once at start, and messages
//! with a plain-text and an HTML part.
//!
//! `smtp://user:pass@host:port` talks plain SMTP and upgrades with STARTTLS
//! whenever the server offers it; `smtps://…` is TLS from the first byte.
//! Certificates are checked against the system's roots.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to send mail, parsed from `FRONTDESK_SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub implicit_tls: bool,
    pub host: String,
    pub port: u16,
    pub user: Option<(String, String)>,
}

/// Never prints the password.
impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("implicit_tls", &self.implicit_tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl SmtpUrl {
    /// `smtp://[user[:pass]@]host[:port]` (port 587 by default) or
    /// `smtps://…` (465); user and password percent-encoded.
    pub fn parse(url: &str) -> Result<SmtpUrl, String> {
        let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else {
            return Err("FRONTDESK_SMTP_URL starts with smtp:// or smtps://".into());
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let user = userinfo
            .map(|u| {
                let (name, pass) = u.split_once(':').unwrap_or((u, ""));
                Ok::<_, String>((decode(name)?, decode(pass)?))
            })
            .transpose()?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || p.is_empty() => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("FRONTDESK_SMTP_URL has a bad port {p:?}"))?,
            ),
            _ => (hostport, if implicit_tls { 465 } else { 587 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err("FRONTDESK_SMTP_URL names no host".into());
        }
        Ok(SmtpUrl {
            implicit_tls,
            host: host.to_owned(),
            port,
            user,
        })
    }
}

fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("FRONTDESK_SMTP_URL has a bad %-escape")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "FRONTDESK_SMTP_URL's user or password is not UTF-8".into())
}

/// Why a message was not sent: for another try later, or never.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A 4xx answer, a timeout, a dropped connection: try again later.
    #[error("{0}")]
    Transient(&'static str),
    /// A 5xx answer or an address that cannot be written: never.
    #[error("{0}")]
    Permanent(&'static str),
}

/// A connection pool to one SMTP server, and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(url: &SmtpUrl, from: &str) -> Result<Mailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| format!("FRONTDESK_MAIL_FROM {from:?} is not an e-mail address"))?;
        let tls = TlsParameters::new(url.host.clone())
            .map_err(|e| format!("TLS for {}: {e}", url.host))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&url.host)
            .port(url.port)
            .timeout(Some(SMTP_TIMEOUT))
            .tls(match url.implicit_tls {
                true => Tls::Wrapper(tls),
                false => Tls::Opportunistic(tls),
            });
        if let Some((user, pass)) = &url.user {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one message with a plain-text and an HTML part (the HTML is
    /// the text, escaped, in paragraphs).
    /// `unsubscribe`, when given, becomes the `List-Unsubscribe` header
    /// with one-click POST (RFC 8058), so mail programs offer the button.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        unsubscribe: Option<&str>,
    ) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendError::Permanent("recipient address refused by the mail builder"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        if let Some(link) = unsubscribe {
            let header = |name: &str, value: String| {
                HeaderName::new_from_ascii(name.to_owned())
                    .map(|name| HeaderValue::new(name, value))
                    .map_err(|_| SendError::Permanent("message could not be built"))
            };
            builder = builder
                .raw_header(header("List-Unsubscribe", format!("<{link}>"))?)
                .raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".into(),
                )?);
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html_of(text),
            ))
            .map_err(|_| SendError::Permanent("message could not be built"))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent("smtp 5xx")),
            Err(e) if e.is_transient() => Err(SendError::Transient("smtp 4xx")),
            Err(e) if e.is_timeout() => Err(SendError::Transient("smtp timeout")),
            Err(_) => Err(SendError::Transient("smtp connection")),
        }
    }
}

/// The text as HTML: escaped, paragraphs at blank lines, links clickable.
fn html_of(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let words: Vec<String> = escape(p.trim())
                .split(' ')
                .map(
                    |w| match w.starts_with("https://") || w.starts_with("http://") {
                        true => format!("<a href=\"{w}\">{w}</a>"),
                        false => w.to_owned(),
                    },
                )
                .collect();
            format!("<p>{}</p>", words.join(" ").replace('\n', "<br>"))
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5\">{}</body></html>",
        paragraphs.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_in_their_usual_forms() {
        let u = SmtpUrl::parse("smtp://mailer:p%40ss@mail.example.org:2525").unwrap();
        assert_eq!(
            u,
            SmtpUrl {
                implicit_tls: false,
                host: "mail.example.org".into(),
                port: 2525,
                user: Some(("mailer".into(), "p@ss".into())),
            }
        );
        let u = SmtpUrl::parse("smtps://relay.example.org").unwrap();
        assert!(u.implicit_tls && u.port == 465 && u.user.is_none());
        assert_eq!(SmtpUrl::parse("smtp://127.0.0.1").unwrap().port, 587);
        assert!(SmtpUrl::parse("http://mail.example.org").is_err());
        assert!(SmtpUrl::parse("smtp://mail.example.org:port").is_err());
        assert!(SmtpUrl::parse("smtp://user:pass@").is_err());
        assert!(!format!("{:?}", SmtpUrl::parse("smtp://u:secret@h").unwrap()).contains("secret"));
    }

    #[test]
    fn the_html_part_is_the_text_escaped() {
        let html = html_of("Code <b>X</b> & more.\n\nLink: https://e.org/a.ics");
        assert!(
            html.contains("<p>Code &lt;b&gt;X&lt;/b&gt; &amp; more.</p>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://e.org/a.ics\">https://e.org/a.ics</a>"));
    }
}
