//! The harness's side requests (`/health`, sign-in, slots, bookings) to the
//! loopback server under test: one HTTP/1.1 request per connection, through
//! hyper's client connection (hyper is already here, under axum).

use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, COOKIE, HOST, HeaderMap};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
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
    headers: HeaderMap,
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

    /// `host:port`, as a server binds it.
    pub fn authority(&self) -> &str {
        &self.authority
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
            let stream = TcpStream::connect(&self.authority)
                .await
                .with_context(|| format!("connecting to {}", self.authority))?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            // Drives the connection; it ends with the response.
            tokio::spawn(connection);
            let mut request = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header(HOST, &self.authority)
                .header(ACCEPT, "application/json");
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            if body.is_some() {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
            let response = sender.send_request(request).await?;
            let (head, body) = response.into_parts();
            let body = match Limited::new(body, MAX_RESPONSE).collect().await {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(e) => bail!("reading the response: {e}"),
            };
            Ok(Response {
                status: head.status.as_u16(),
                headers: head.headers,
                body,
            })
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .with_context(|| format!("{method} {} timed out", self.url(path)))?
            .with_context(|| format!("{method} {}", self.url(path)))
    }
}

impl Response {
    /// The first value of a header, by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    pub fn json<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_slice(&self.body).context("the response is not the JSON expected")
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
}
