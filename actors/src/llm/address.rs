//! Outbound address policy for provider calls.
//!
//! A flow's base URL is user input (a field, a tweak, a global variable), so an LLM component is
//! a way to make the server send HTTP requests — with an API key attached — wherever the flow
//! says. Link-local addresses are where cloud metadata services live (169.254.169.254,
//! AWS's `fd00:ec2::254`), so they are refused unless the operator allows them. The check runs
//! on the addresses a name resolves to, not on the name, so `metadata.google.internal` or a
//! DNS record pointing at 169.254.0.0/16 is refused too. Loopback stays allowed: a local
//! Ollama, vLLM or llama.cpp server is the common case.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// AWS's IPv6 instance-metadata address (outside fe80::/10, so named separately).
const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// Why an address may not be contacted, or `None` when it may.
#[must_use]
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local (cloud metadata) address"),
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => {
            // An IPv4-mapped address (::ffff:169.254.169.254) reaches the IPv4 host.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refusal(IpAddr::V4(v4));
            }
            if v6 == AWS_METADATA_V6 {
                Some("a cloud metadata address")
            } else if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                Some("a link-local address")
            } else {
                None
            }
        }
    }
}

/// The error text for a refused destination.
#[must_use]
pub fn refused_text(host: &str, ip: IpAddr, why: &str) -> String {
    format!("refusing to connect to {host} ({ip}): it is {why}; set allow_link_local in the LLM settings to permit it")
}

/// Checks a URL whose host is an IP literal (a name is checked when it is resolved).
///
/// # Errors
/// The refusal text when the literal address is refused.
pub fn check_literal(url: &reqwest::Url, allow_link_local: bool) -> Result<(), String> {
    if allow_link_local {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return Ok(()) };
    match refusal(ip) {
        Some(why) => Err(refused_text(&ip.to_string(), ip, why)),
        None => Ok(()),
    }
}

/// A DNS resolver that drops refused addresses and fails when nothing is left.
pub(crate) struct PolicyResolver {
    pub allow_link_local: bool,
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_link_local;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allow {
                return Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs);
            }
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match refusal(a.ip()) {
                    Some(why) => {
                        first_refusal.get_or_insert_with(|| refused_text(&host, a.ip(), why));
                        false
                    }
                    None => true,
                })
                .collect();
            match (allowed.is_empty(), first_refusal) {
                (true, Some(text)) => Err(Box::new(Refused(text)) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_metadata_and_link_local_but_not_loopback() {
        for refused in
            ["169.254.169.254", "169.254.0.1", "fd00:ec2::254", "fe80::1", "febf::1", "::ffff:169.254.169.254"]
        {
            assert!(refusal(ip(refused)).is_some(), "{refused}");
        }
        for allowed in ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "8.8.8.8", "fd00:ec2::253", "fec0::1"] {
            assert!(refusal(ip(allowed)).is_none(), "{allowed}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_unless_allowed() {
        let url = reqwest::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        assert!(check_literal(&url, false).unwrap_err().contains("169.254.169.254"));
        assert!(check_literal(&url, true).is_ok());
        let v6 = reqwest::Url::parse("http://[fd00:ec2::254]/").unwrap();
        assert!(check_literal(&v6, false).is_err());
        assert!(check_literal(&reqwest::Url::parse("http://127.0.0.1:11434/v1").unwrap(), false).is_ok());
    }
}
