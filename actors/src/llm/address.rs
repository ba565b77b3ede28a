//! Outbound address policy (Langflow 1.13's SSRF protection) for every request the server makes
//! on a flow's behalf.
//!
//! A flow's URLs are user input (a field, a tweak, a global variable), so any component that
//! makes HTTP requests is a way to make the server reach wherever the flow says — an internal
//! service, a cloud metadata endpoint, or, with a provider key attached, anywhere at all. With
//! `LANGFLOW_SSRF_PROTECTION_ENABLED` (the default) these destinations are refused unless
//! `LANGFLOW_SSRF_ALLOWED_HOSTS` lists them: loopback, RFC 1918, CGNAT (100.64.0.0/10, which
//! holds Alibaba's metadata address), link-local (169.254.0.0/16: AWS, GCP and Azure metadata),
//! the other IANA special-purpose IPv4 blocks, unique-local IPv6 (fc00::/7, AWS's
//! `fd00:ec2::254`), IPv6 link-local and site-local, IPv4-mapped and IPv4-compatible IPv6,
//! NAT64 (64:ff9b::/96 with a refused IPv4 inside, and the local-use 64:ff9b:1::/48), 6to4 with
//! a refused IPv4 inside, and the well-known metadata host names.
//!
//! Allow-list entries follow Langflow: an exact host name, a wildcard domain (`*.corp.example`,
//! which also matches `corp.example`), an exact IP, or a CIDR range. A listed host name skips
//! every check; otherwise each address is allowed when it is listed or covered by a listed range.
//!
//! The check runs where the connection is made: IP literals before anything is sent, host names
//! in the HTTP client's DNS resolver, which hands the connector exactly the addresses it checked
//! (one resolution, so a DNS answer that changes between check and connect cannot slip through).
//! A name is refused when any of its addresses is. Redirects are not followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The setting that lists exceptions, named in refusals.
pub const ALLOWED_HOSTS_SETTING: &str = "LANGFLOW_SSRF_ALLOWED_HOSTS";

/// Host names of cloud metadata services, refused by name (they may not resolve everywhere).
const METADATA_NAMES: &[&str] =
    &["metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"];

/// One `LANGFLOW_SSRF_ALLOWED_HOSTS` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AllowEntry {
    /// An exact host name (lower case).
    Name(String),
    /// `*.example.com`: the domain (`example.com`) and every name under it.
    Domain(String),
    /// An IP address or a CIDR range (an exact IP is a full-length prefix).
    Net(IpAddr, u8),
}

/// Which outbound destinations are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    enabled: bool,
    allowed: Vec<AllowEntry>,
}

impl Default for OutboundPolicy {
    /// Protection on, nothing listed (Langflow's default).
    fn default() -> Self {
        Self { enabled: true, allowed: Vec::new() }
    }
}

/// A URL's host: an IP literal, or a name.
enum UrlHost<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

fn url_host(url: &reqwest::Url) -> Option<UrlHost<'_>> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    // The URL parser has already normalised literals (`0x7f.1` is `127.0.0.1`, IPv6 is bracketed).
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => Some(UrlHost::Ip(ip)),
        Err(_) => Some(UrlHost::Name(host)),
    }
}

fn parse_net(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match entry.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (entry, None),
    };
    let ip: IpAddr = addr.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some((ip, len))
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn v4_in(ip: Ipv4Addr, net: [u8; 4], len: u8) -> bool {
    in_net(IpAddr::V4(ip), IpAddr::V4(Ipv4Addr::from(net)), len)
}

fn v6_in(ip: Ipv6Addr, net: &str, len: u8) -> bool {
    net.parse::<Ipv6Addr>().is_ok_and(|n| in_net(IpAddr::V6(ip), IpAddr::V6(n), len))
}

/// Why an IPv4 address is refused, or `None` when it is a public address.
fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let ranges: &[([u8; 4], u8, &'static str)] = &[
        ([0, 0, 0, 0], 8, "an unspecified (0.0.0.0/8) address"),
        ([10, 0, 0, 0], 8, "a private (RFC 1918) address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT (100.64.0.0/10) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local (cloud metadata) address"),
        ([172, 16, 0, 0], 12, "a private (RFC 1918) address"),
        ([192, 0, 0, 0], 24, "an IETF protocol assignment address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 168, 0, 0], 16, "a private (RFC 1918) address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved or broadcast address"),
    ];
    ranges.iter().find(|(net, len, _)| v4_in(ip, *net, *len)).map(|(_, _, why)| *why)
}

/// Why an address may not be contacted (with protection on and nothing allow-listed), or
/// `None` when it may.
#[must_use]
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    let v6 = match ip {
        IpAddr::V4(v4) => return refusal_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    let embedded = |bytes: [u8; 4]| refusal_v4(Ipv4Addr::from(bytes));
    let o = v6.octets();
    if v6.is_loopback() {
        Some("a loopback address")
    } else if v6.is_unspecified() {
        Some("an unspecified address")
    } else if v6_in(v6, "::ffff:0:0", 96) {
        Some("an IPv4-mapped address")
    } else if v6_in(v6, "::", 96) {
        Some("an IPv4-compatible address")
    } else if v6_in(v6, "64:ff9b::", 96) {
        embedded([o[12], o[13], o[14], o[15]]).map(|_| "a NAT64 address of a refused IPv4 address")
    } else if v6_in(v6, "64:ff9b:1::", 48) {
        Some("a local-use NAT64 address")
    } else if v6_in(v6, "2002::", 16) {
        embedded([o[2], o[3], o[4], o[5]]).map(|_| "a 6to4 address of a refused IPv4 address")
    } else if v6_in(v6, "100::", 64) {
        Some("a discard-only address")
    } else if v6_in(v6, "2001:db8::", 32) {
        Some("a documentation address")
    } else if v6_in(v6, "2001::", 23) {
        Some("an IETF protocol assignment (Teredo, ORCHID) address")
    } else if v6_in(v6, "fd00:ec2::254", 128) {
        Some("a cloud metadata address")
    } else if v6_in(v6, "fc00::", 7) {
        Some("a unique-local address")
    } else if v6_in(v6, "fe80::", 10) {
        Some("a link-local address")
    } else if v6_in(v6, "fec0::", 10) {
        Some("a site-local address")
    } else if v6_in(v6, "ff00::", 8) {
        Some("a multicast address")
    } else {
        None
    }
}

/// The error text for a refused destination.
#[must_use]
pub fn refused_text(host: &str, ip: Option<IpAddr>, why: &str) -> String {
    let at = ip.filter(|ip| ip.to_string() != host).map(|ip| format!(" ({ip})")).unwrap_or_default();
    format!("refusing to connect to {host}{at}: it is {why}; list it in {ALLOWED_HOSTS_SETTING} to allow it")
}

impl OutboundPolicy {
    /// A policy from the settings' values.
    ///
    /// # Errors
    /// The first entry that is neither a host name, a wildcard domain, an IP nor a CIDR range.
    pub fn new(enabled: bool, allowed_hosts: &[String]) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for raw in allowed_hosts {
            let entry = raw.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if let Some((ip, len)) = parse_net(&entry) {
                allowed.push(AllowEntry::Net(ip, len));
            } else if entry.contains('/') || entry.contains("://") || entry.contains(char::is_whitespace) {
                return Err(format!(
                    "invalid entry {raw:?} in {ALLOWED_HOSTS_SETTING}: expected a host name, *.domain, an IP or a CIDR range"
                ));
            } else if let Some(domain) = entry.strip_prefix("*.") {
                allowed.push(AllowEntry::Domain(domain.to_owned()));
            } else {
                allowed.push(AllowEntry::Name(entry));
            }
        }
        Ok(Self { enabled, allowed })
    }

    /// No checks at all (`LANGFLOW_SSRF_PROTECTION_ENABLED=false`).
    #[must_use]
    pub fn disabled() -> Self {
        Self { enabled: false, allowed: Vec::new() }
    }

    /// Also allows link-local and cloud-metadata addresses (`FLOWACTOR_LLM_ALLOW_LINK_LOCAL`).
    #[must_use]
    pub fn with_link_local(mut self) -> Self {
        for (net, len) in [("169.254.0.0", 16), ("fe80::", 10), ("fd00:ec2::254", 128)] {
            if let Ok(ip) = net.parse() {
                self.allowed.push(AllowEntry::Net(ip, len));
            }
        }
        self
    }

    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether a host name is listed (exactly or under a wildcard domain).
    fn name_listed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allowed.iter().any(|e| match e {
            AllowEntry::Name(n) => *n == host,
            AllowEntry::Domain(d) => {
                host == *d || host.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.'))
            }
            AllowEntry::Net(..) => false,
        })
    }

    /// Whether an address is listed or inside a listed range.
    fn ip_listed(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|e| matches!(e, AllowEntry::Net(net, len) if in_net(ip, *net, *len)))
    }

    /// Whether the URL's host is listed (by name, or as an IP literal inside a listed range):
    /// the operator's statement that this destination is trusted.
    #[must_use]
    pub fn host_listed(&self, url: &reqwest::Url) -> bool {
        match url_host(url) {
            Some(UrlHost::Name(d)) => self.name_listed(d),
            Some(UrlHost::Ip(ip)) => self.ip_listed(ip),
            None => false,
        }
    }

    /// Checks a URL before anything is sent: the scheme, a missing host, IP-literal hosts and
    /// metadata host names. Other names are checked when they are resolved.
    ///
    /// # Errors
    /// The refusal text.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("unsupported URL scheme '{}': only http and https are allowed", url.scheme()));
        }
        let host = url_host(url).ok_or_else(|| "the URL has no host".to_owned())?;
        if !self.enabled {
            return Ok(());
        }
        let ip = match host {
            UrlHost::Ip(ip) => ip,
            UrlHost::Name(name) => {
                let lower = name.trim_end_matches('.').to_ascii_lowercase();
                if METADATA_NAMES.contains(&lower.as_str()) && !self.name_listed(&lower) {
                    return Err(refused_text(name, None, "a cloud metadata host"));
                }
                return Ok(());
            }
        };
        if self.ip_listed(ip) {
            return Ok(());
        }
        match refusal(ip) {
            Some(why) => Err(refused_text(&ip.to_string(), Some(ip), why)),
            None => Ok(()),
        }
    }

    /// Checks the addresses a name resolved to: every one must be allowed.
    ///
    /// # Errors
    /// The refusal text for the first refused address.
    pub fn check_resolved(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), String> {
        if !self.enabled || self.name_listed(host) {
            return Ok(());
        }
        for a in addrs {
            let ip = a.ip();
            if self.ip_listed(ip) {
                continue;
            }
            if let Some(why) = refusal(ip) {
                return Err(refused_text(host, Some(ip), why));
            }
        }
        Ok(())
    }

    /// A credential may travel in clear text only to a listed host (Langflow's rule for
    /// provider endpoints); `https` is always fine.
    ///
    /// # Errors
    /// The refusal text.
    pub fn check_cleartext_credential(&self, url: &reqwest::Url) -> Result<(), String> {
        if !self.enabled || url.scheme() != "http" || self.host_listed(url) {
            return Ok(());
        }
        Err(format!(
            "refusing to send a credential to {} over plain http: use https, or list the host in {ALLOWED_HOSTS_SETTING}",
            url.host_str().unwrap_or_default()
        ))
    }

    /// The DNS resolver that applies this policy, for an HTTP client.
    #[must_use]
    pub fn resolver(self: &Arc<Self>) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver { policy: self.clone() })
    }
}

/// The setting that lists hosts allowed to receive the operator's provider keys.
pub const CREDENTIAL_HOSTS_SETTING: &str = "LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS";

/// Whether a key from the server's environment (the operator's, not the flow owner's) may be
/// sent to `base_url`: only to the provider's default endpoint, or to a host listed in
/// `LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS` (`host`, `host:port` or `*.domain`, matched as
/// Langflow 1.13 does). A listed host must be reached over https unless its entry is written
/// with an explicit `http://`.
///
/// # Errors
/// The refusal text (it names the host, never the key).
pub fn check_credential_destination(base_url: &str, default_url: &str, allowed: &[String]) -> Result<(), String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    if trimmed.is_empty() || trimmed == default_url.trim_end_matches('/') {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(trimmed).ok();
    let host = parsed.as_ref().and_then(reqwest::Url::host_str).unwrap_or_default().to_ascii_lowercase();
    let host_port = match parsed.as_ref().and_then(reqwest::Url::port) {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let entry = allowed.iter().map(|e| e.trim().to_ascii_lowercase()).find(|entry| {
        let pattern = entry.split_once("://").map_or(entry.as_str(), |(_, rest)| rest).trim_end_matches('/');
        !host.is_empty()
            && (pattern == host
                || pattern == host_port
                || pattern.strip_prefix('*').is_some_and(|suffix| suffix.starts_with('.') && host.ends_with(suffix)))
    });
    let shown = if host.is_empty() { trimmed.to_owned() } else { host.clone() };
    let Some(entry) = entry else {
        return Err(format!(
            "Refusing to send a server-provisioned API credential to the non-default endpoint '{shown}'. The key \
             comes from the server's environment, so it may only be sent to the provider's default endpoint or to a \
             host listed in {CREDENTIAL_HOSTS_SETTING}. Set your own API key (or Credential variable) to use a \
             custom endpoint."
        ));
    };
    if parsed.as_ref().is_some_and(|u| u.scheme() != "https") && !entry.starts_with("http://") {
        return Err(format!(
            "Refusing to send a server-provisioned API credential to '{shown}' over plain http: use an https base \
             URL, or write the {CREDENTIAL_HOSTS_SETTING} entry as 'http://{entry}' to accept clear text."
        ));
    }
    Ok(())
}

/// A DNS resolver that resolves once, checks every address and hands the connector exactly
/// the addresses it checked.
pub struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
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
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            policy
                .check_resolved(&host, &found)
                .map_err(|text| Box::new(Refused(text)) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
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

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    fn policy(allowed: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(true, &allowed.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn refuses_internal_ranges_and_their_ipv6_forms() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "169.254.169.254",
            "192.0.0.192",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:8.8.8.8",
            "::10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "fc00::1",
            "fd12:3456::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
        ] {
            assert!(refusal(ip(refused)).is_some(), "{refused}");
        }
        for allowed in
            ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::"]
        {
            assert!(refusal(ip(allowed)).is_none(), "{allowed}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_before_anything_is_sent() {
        let p = policy(&[]);
        for refused in [
            "http://127.0.0.1:11434/v1",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://10.0.0.1/",
            "http://100.64.1.1/",
            "http://user@192.168.0.1:8080/",
            "http://metadata.google.internal/computeMetadata/v1/",
        ] {
            let err = p.check_url(&url(refused)).unwrap_err();
            assert!(err.contains("refusing to connect") && err.contains(ALLOWED_HOSTS_SETTING), "{refused}: {err}");
        }
        assert!(p.check_url(&url("https://api.openai.com/v1")).is_ok());
        assert!(p.check_url(&url("http://8.8.8.8/")).is_ok());
        assert!(p.check_url(&url("file:///etc/passwd")).is_err());
        assert!(OutboundPolicy::disabled().check_url(&url("http://169.254.169.254/")).is_ok());
        assert!(OutboundPolicy::default().with_link_local().check_url(&url("http://169.254.169.254/")).is_ok());
        assert!(OutboundPolicy::default().with_link_local().check_url(&url("http://127.0.0.1/")).is_err());
    }

    #[test]
    fn allow_list_entries_follow_langflow() {
        let p = policy(&["127.0.0.1", "10.0.0.0/8", "Ollama.Internal", "*.corp.example", "fd00::/8"]);
        assert!(p.check_url(&url("http://127.0.0.1:11434/v1")).is_ok());
        assert!(p.check_url(&url("http://127.0.0.2/")).is_err());
        assert!(p.check_url(&url("http://10.9.8.7/")).is_ok());
        assert!(p.check_url(&url("http://[fd00::1]/")).is_ok());
        let addrs = |list: &[&str]| list.iter().map(|a| SocketAddr::new(ip(a), 0)).collect::<Vec<_>>();
        // A listed name skips the address checks; an unlisted one needs every address allowed.
        assert!(p.check_resolved("ollama.internal", &addrs(&["192.168.1.5"])).is_ok());
        assert!(p.check_resolved("gpu.corp.example", &addrs(&["192.168.1.5"])).is_ok());
        assert!(p.check_resolved("corp.example", &addrs(&["192.168.1.5"])).is_ok());
        assert!(p.check_resolved("evilcorp.example", &addrs(&["192.168.1.5"])).is_err());
        assert!(p.check_resolved("localhost", &addrs(&["127.0.0.1"])).is_ok());
        let err = p.check_resolved("localhost", &addrs(&["127.0.0.1", "::1"])).unwrap_err();
        assert!(err.contains("localhost (::1)"), "{err}");
        assert!(p.check_resolved("rebind.example", &addrs(&["8.8.8.8", "169.254.169.254"])).is_err());
        assert!(policy(&[]).check_resolved("dns.google", &addrs(&["8.8.8.8"])).is_ok());
        assert!(OutboundPolicy::new(true, &["10.0.0.0/33".to_owned()]).is_err());
        assert!(OutboundPolicy::new(true, &["http://x".to_owned()]).is_err());
    }

    #[test]
    fn operator_keys_go_only_to_the_default_endpoint_or_listed_hosts() {
        let default = "https://api.openai.com/v1";
        let list = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_credential_destination("https://api.openai.com/v1/", default, &[]).is_ok());
        let err = check_credential_destination("https://evil.example/v1", default, &[]).unwrap_err();
        assert!(err.contains("'evil.example'") && err.contains(CREDENTIAL_HOSTS_SETTING), "{err}");
        let allowed = list(&["gateway.corp.example", "*.llm.example", "proxy.example:8443", "http://plain.internal"]);
        for ok in [
            "https://gateway.corp.example/v1",
            "https://a.llm.example/v1",
            "https://proxy.example:8443/v1",
            "http://plain.internal/v1",
        ] {
            assert!(check_credential_destination(ok, default, &allowed).is_ok(), "{ok}");
        }
        for refused in ["https://proxy.example/v1", "https://llm.example.evil/v1", "http://gateway.corp.example/v1"] {
            assert!(check_credential_destination(refused, default, &allowed).is_err(), "{refused}");
        }
    }

    #[test]
    fn credentials_travel_in_clear_text_only_to_listed_hosts() {
        let p = policy(&["127.0.0.1", "gateway.internal"]);
        assert!(p.check_cleartext_credential(&url("http://127.0.0.1:8000/v1")).is_ok());
        assert!(p.check_cleartext_credential(&url("http://gateway.internal/v1")).is_ok());
        assert!(p.check_cleartext_credential(&url("https://api.example.com/v1")).is_ok());
        assert!(p.check_cleartext_credential(&url("http://api.example.com/v1")).is_err());
        assert!(OutboundPolicy::disabled().check_cleartext_credential(&url("http://api.example.com/v1")).is_ok());
    }
}
