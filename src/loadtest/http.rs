//! Just enough HTTP/1.1 for the harness's side requests (`/health`, sign-in,
//! slots, bookings) to the loopback server under test: one request per
//! connection, `Connection: close`, read to the end. Avoids a full HTTP
//! client dependency for a handful of requests to our own server.

use std::time::Duration;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::http::Uri;

/// Longest any one request may take, connection to last byte.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response read (the slot list is the biggest, well under this).
const MAX_RESPONSE: usize = 1024 * 1024;

/// The HTTP side of the server whose chat socket is `--url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `host:port` as written in the URL (brackets kept for IPv6), for
    /// both connecting and the `Host` header.
    authority: String,
}

/// What came back.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Server {
    /// `ws://host:port/chat` → the server at `host:port` (port 80 when the
    /// URL has none). The URL must already have passed [`super::check_url`].
    pub fn from_ws_url(url: &str) -> anyhow::Result<Server> {
        let uri: Uri = url.parse().with_context(|| format!("not a URL: {url}"))?;
        let host = uri.host().context("the URL has no host")?;
        let port = uri.port_u16().unwrap_or(80);
        Ok(Server {
            authority: format!("{host}:{port}"),
        })
    }

    /// The full URL of `path` on this server (for messages and tests).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.authority)
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Response> {
        self.request("GET", path, cookie, None).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        cookie: Option<&str>,
        body: &serde_json::Value,
    ) -> anyhow::Result<Response> {
        self.request("POST", path, cookie, Some(body.to_string()))
            .await
    }

    pub async fn delete(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Response> {
        self.request("DELETE", path, cookie, None).await
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<String>,
    ) -> anyhow::Result<Response> {
        let exchange = async {
            let mut stream = TcpStream::connect(&self.authority)
                .await
                .with_context(|| format!("connecting to {}", self.authority))?;
            let mut head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\n",
                self.authority
            );
            if let Some(cookie) = cookie {
                head.push_str(&format!("Cookie: {cookie}\r\n"));
            }
            let body = body.unwrap_or_default();
            if method != "GET" {
                head.push_str(&format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                ));
            }
            head.push_str("\r\n");
            head.push_str(&body);
            stream.write_all(head.as_bytes()).await?;
            let mut raw = Vec::new();
            (&mut stream)
                .take(MAX_RESPONSE as u64 + 1)
                .read_to_end(&mut raw)
                .await?;
            if raw.len() > MAX_RESPONSE {
                bail!("response larger than {MAX_RESPONSE} bytes");
            }
            parse_response(&raw)
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .with_context(|| format!("{method} {} timed out", self.url(path)))?
            .with_context(|| format!("{method} {}", self.url(path)))
    }
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_slice(&self.body).context("the response is not the JSON expected")
    }
}

/// Splits a whole response (the server closed after it) into its parts,
/// undoing chunked transfer coding.
fn parse_response(raw: &[u8]) -> anyhow::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("incomplete response head")?;
    let head = std::str::from_utf8(&raw[..end]).context("response head is not text")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(&response.body)?;
    }
    Ok(response)
}

fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_text = std::str::from_utf8(&rest[..line_end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .context("bad chunk size")?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            bail!("truncated chunk");
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_side_is_derived_from_the_chat_url() {
        for (ws, health) in [
            ("ws://127.0.0.1:8080/chat", "http://127.0.0.1:8080/health"),
            ("ws://localhost/chat", "http://localhost:80/health"),
            ("ws://[::1]:9000/chat?x=1", "http://[::1]:9000/health"),
        ] {
            let server = Server::from_ws_url(ws).unwrap();
            assert_eq!(server.url("/health"), health, "{ws}");
        }
    }

    #[test]
    fn responses_are_parsed_plain_or_chunked() {
        let plain = parse_response(
            b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\nSet-Cookie: a=b; Path=/\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!(plain.status, 201);
        assert_eq!(plain.header("set-cookie"), Some("a=b; Path=/"));
        assert_eq!(plain.body, b"{}");

        let chunked = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.body, b"{\"a\":1}");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
