//! Who the client is, for per-address limits: the peer's address, or behind
//! a trusted reverse proxy the address the proxy saw (X-Forwarded-For), with
//! an IPv6 client's whole /64 counted as one (one home or phone network
//! hands out a /64, and its host part is free to change).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::{Gate, HttpError};

/// The client's address, grouped for limits. Taken once at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

/// Hops of X-Forwarded-For looked at, from the right.
const MAX_HOPS: usize = 16;

impl ClientAddress {
    /// `peer` is the TCP peer; `forwarded` the X-Forwarded-For values.
    pub fn resolve<'a>(
        peer: IpAddr,
        forwarded: impl Iterator<Item = &'a str>,
        trusted: &[ipnet::IpNet],
    ) -> ClientAddress {
        let peer = canonical(peer);
        let is_trusted = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
        if !is_trusted(&peer) {
            return ClientAddress(group(peer));
        }
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                // Unreadable: the last address we could trust to have
                // talked to us is the client.
                break;
            };
            client = canonical(address);
            if !is_trusted(&client) {
                break;
            }
        }
        ClientAddress(group(client))
    }
}

/// An IPv4 address written as IPv6 (::ffff:a.b.c.d) is the IPv4 address.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// IPv6 clients by their /64.
fn group(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

impl<S> FromRequestParts<S> for ClientAddress
where
    S: Send + Sync,
    Gate: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let gate = Gate::from_ref(state);
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| HttpError::Internal(anyhow::anyhow!("no peer address")))?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientAddress::resolve(
            peer.ip(),
            forwarded,
            &gate.settings.trusted_proxies,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let from_proxy =
            |xff: &str| ClientAddress::resolve(ip("127.0.0.1"), [xff].into_iter(), &trusted).0;
        assert_eq!(from_proxy("203.0.113.7"), ip("203.0.113.7"));
        // The right-most untrusted hop: the left part is the client's to forge.
        assert_eq!(
            from_proxy("1.2.3.4, 203.0.113.7, 10.1.2.3"),
            ip("203.0.113.7")
        );
        assert_eq!(from_proxy("garbage"), ip("127.0.0.1"));
        // A stranger's header is ignored.
        let direct = ClientAddress::resolve(ip("198.51.100.9"), ["1.2.3.4"].into_iter(), &trusted);
        assert_eq!(direct.0, ip("198.51.100.9"));
        // No proxies configured: the peer, always.
        let none = ClientAddress::resolve(ip("127.0.0.1"), ["1.2.3.4"].into_iter(), &[]);
        assert_eq!(none.0, ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = ClientAddress::resolve(ip("2001:db8:1:2:aaaa::1"), std::iter::empty(), &[]);
        let b = ClientAddress::resolve(ip("2001:db8:1:2:bbbb::9"), std::iter::empty(), &[]);
        let c = ClientAddress::resolve(ip("2001:db8:1:3::1"), std::iter::empty(), &[]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = ClientAddress::resolve(ip("::ffff:192.0.2.1"), std::iter::empty(), &[]);
        assert_eq!(mapped.0, ip("192.0.2.1"));
    }
}
