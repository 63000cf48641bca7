//! Which web pages may open a chat socket. Browsers always send `Origin` on a
//! WebSocket upgrade, so checking it stops other sites from driving a
//! patient's chat (cross-site WebSocket hijacking).

/// The allow-list: the server's own origin and localhost always pass, plus
/// the configured widget origins.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub fn new(allowed: &[String]) -> Self {
        OriginPolicy {
            allowed: allowed
                .iter()
                .map(|o| normalize(o))
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }

    /// `origin` is the request's Origin header, `host` its Host header.
    /// Requests with no Origin come from non-browser clients and pass.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let origin = normalize(origin);
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false; // "null" and other opaque origins
        };
        if !matches!(scheme, "http" | "https") {
            return false;
        }
        if host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) {
            return true;
        }
        if is_loopback(authority) {
            return true;
        }
        self.allowed.contains(&origin)
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// localhost, 127.0.0.0/8 or [::1], with or without a port.
fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_localhost_and_configured_origins_pass() {
        let p = OriginPolicy::new(&["https://www.example-clinic.org/".into()]);
        assert!(p.allows(None, Some("x")));
        assert!(p.allows(Some("https://chat.clinic.org"), Some("chat.clinic.org")));
        assert!(p.allows(Some("http://localhost:3000"), Some("chat.clinic.org")));
        assert!(p.allows(Some("http://127.0.0.1:8080"), None));
        assert!(p.allows(Some("http://[::1]:8080"), None));
        assert!(p.allows(
            Some("https://WWW.example-clinic.org"),
            Some("chat.clinic.org")
        ));
    }

    #[test]
    fn other_origins_are_refused() {
        let p = OriginPolicy::new(&["https://www.example-clinic.org".into()]);
        assert!(!p.allows(Some("https://evil.example"), Some("chat.clinic.org")));
        assert!(!p.allows(Some("null"), Some("chat.clinic.org")));
        assert!(!p.allows(Some("https://localhost.evil.example"), None));
        assert!(!p.allows(Some("http://www.example-clinic.org"), None));
        assert!(!p.allows(Some("file://"), None));
    }
}
