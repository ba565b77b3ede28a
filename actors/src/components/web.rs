//! What the tool components share: their settings ([`ToolSettings`]) and one bounded HTTP GET
//! that goes through the outbound address policy (`llm::address`) on every hop.
//!
//! A destination is checked before anything is sent: an IP literal against the policy, a name
//! by resolving it and checking every address (the refusal names them, in Langflow's words);
//! the client's resolver then checks again at connect time, so a DNS answer that changes in
//! between cannot slip through. Redirects are followed by hand, at most [`MAX_REDIRECTS`], each
//! hop checked the same way. Bodies are read chunk by chunk and refused past the byte bound, so
//! a huge page never sits in memory.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{ComponentContext, ComponentError};
use crate::llm::address::{OutboundPolicy, ALLOWED_HOSTS_SETTING};

/// Redirect hops followed per request (Langflow's bound).
pub const MAX_REDIRECTS: usize = 20;

/// The User-Agent of every tool request unless the node's headers set one.
pub const USER_AGENT: &str = "langflow";

/// Endpoints and bounds of the tool components.
#[derive(Debug, Clone)]
pub struct ToolSettings {
    /// Web Search's Web mode endpoint (`FLOWACTOR_WEB_SEARCH_URL`): a SearXNG-compatible JSON
    /// API or a DuckDuckGo-HTML-compatible page; `q` (and `format=json`, `kl`) are appended.
    pub web_search_url: String,
    /// Web Search's News mode endpoint (`FLOWACTOR_NEWS_SEARCH_URL`): a Google-News-compatible
    /// RSS search URL; `q`, `hl`, `gl` and `ceid` are appended.
    pub news_search_url: String,
    /// arXiv's Atom query API (`FLOWACTOR_ARXIV_URL`); `search_query` and `max_results` are
    /// appended.
    pub arxiv_url: String,
    /// Largest response body one request may read (`FLOWACTOR_URL_MAX_PAGE_BYTES`).
    pub max_page_bytes: usize,
    /// Largest total of bodies one URL crawl may read (`FLOWACTOR_URL_MAX_FETCH_BYTES`).
    pub max_fetch_bytes: usize,
    /// Pages one URL crawl may fetch at most (`FLOWACTOR_URL_MAX_PAGES`).
    pub max_pages: usize,
    /// Refuse database URLs that open a local file (`LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS`).
    pub restrict_local_file_access: bool,
    /// Rows an SQL query may return at most (`FLOWACTOR_SQL_MAX_ROWS`).
    pub sql_max_rows: usize,
    /// Longest an SQL query may run (`FLOWACTOR_SQL_TIMEOUT_SECONDS`).
    pub sql_timeout: Duration,
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

/// Langflow's Web mode endpoint.
pub const DEFAULT_WEB_SEARCH_URL: &str = "https://html.duckduckgo.com/html/";
/// Langflow's News mode endpoint.
pub const DEFAULT_NEWS_SEARCH_URL: &str = "https://news.google.com/rss/search";
/// arXiv's query API.
pub const DEFAULT_ARXIV_URL: &str = "https://export.arxiv.org/api/query";

impl Default for ToolSettings {
    fn default() -> Self {
        Self {
            web_search_url: DEFAULT_WEB_SEARCH_URL.to_owned(),
            news_search_url: DEFAULT_NEWS_SEARCH_URL.to_owned(),
            arxiv_url: DEFAULT_ARXIV_URL.to_owned(),
            max_page_bytes: 10 * 1024 * 1024,
            max_fetch_bytes: 100 * 1024 * 1024,
            max_pages: 100,
            restrict_local_file_access: true,
            sql_max_rows: 10_000,
            sql_timeout: Duration::from_secs(30),
            client: Arc::default(),
        }
    }
}

impl ToolSettings {
    /// The engine's tool HTTP client: the policy's resolver, no proxy, no automatic redirects.
    fn client(&self, policy: &Arc<OutboundPolicy>) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .dns_resolver(policy.resolver())
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .connect_timeout(Duration::from_secs(10))
                    .tcp_nodelay(true)
                    .pool_idle_timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| format!("could not set up the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Why a GET failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The address policy refused the destination (nothing was sent to it).
    Blocked(String),
    /// Any other failure (connection, timeout, size bound, bad redirect).
    Failed(String),
}

impl FetchError {
    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            Self::Blocked(t) | Self::Failed(t) => t,
        }
    }
}

/// A response read whole (within the bound).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final URL, after redirects.
    pub url: reqwest::Url,
    pub status: reqwest::StatusCode,
    /// The `Content-Type` header, lower-cased (`""` when absent).
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Fetched {
    /// The body as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Langflow's refusal text.
pub fn blocked_text(host: &str, ips: &[String]) -> String {
    format!(
        "SSRF Protection: Hostname {host} resolves to blocked IP address(es): {}. To allow this hostname, add it to \
         {ALLOWED_HOSTS_SETTING} environment variable.",
        ips.join(", ")
    )
}

/// Checks a destination before anything is sent to it.
///
/// # Errors
/// [`FetchError::Blocked`] with Langflow's text, or [`FetchError::Failed`] for a URL that cannot
/// be requested at all.
pub async fn check_destination(policy: &OutboundPolicy, url: &reqwest::Url) -> Result<(), FetchError> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if let Err(e) = policy.check_url(url) {
        if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
            return Err(FetchError::Failed(e));
        }
        return Err(FetchError::Blocked(if host.parse::<std::net::IpAddr>().is_ok() {
            blocked_text(&host, std::slice::from_ref(&host))
        } else {
            format!("SSRF Protection: {e}")
        }));
    }
    if !policy.enabled() || host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let refused = refused_addresses(policy, &host, port).await.map_err(FetchError::Failed)?;
    if refused.is_empty() {
        Ok(())
    } else {
        Err(FetchError::Blocked(blocked_text(&host, &refused)))
    }
}

/// Resolves `host` and lists the addresses the policy refuses (empty: it may be contacted).
///
/// # Errors
/// The resolution failure.
pub async fn refused_addresses(policy: &OutboundPolicy, host: &str, port: u16) -> Result<Vec<String>, String> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|e| format!("Failed to resolve {host}: {e}"))?.collect();
    Ok(addrs
        .iter()
        .filter(|a| policy.check_resolved(host, std::slice::from_ref(a)).is_err())
        .map(|a| a.ip().to_string())
        .collect())
}

/// One GET: policy-checked on every hop, bounded in time (`timeout`, the whole exchange) and in
/// size (`max_bytes` of body).
///
/// # Errors
/// [`FetchError`]; the build's cancellation as [`ComponentError::Cancelled`].
pub async fn get(
    ctx: &ComponentContext,
    url: reqwest::Url,
    headers: &[(String, String)],
    timeout: Duration,
    follow_redirects: bool,
    max_bytes: usize,
) -> Result<Result<Fetched, FetchError>, ComponentError> {
    let work = get_inner(ctx, url, headers, follow_redirects, max_bytes);
    tokio::select! {
        r = tokio::time::timeout(timeout, work) => Ok(r.unwrap_or_else(|_| {
            Err(FetchError::Failed(format!("The request timed out after {} seconds", timeout.as_secs_f64())))
        })),
        () = ctx.cancel_token().cancelled() => Err(ComponentError::Cancelled),
    }
}

async fn get_inner(
    ctx: &ComponentContext,
    mut url: reqwest::Url,
    headers: &[(String, String)],
    follow_redirects: bool,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let policy = ctx.llm().outbound_policy().clone();
    let client = ctx.tools().client(&policy).map_err(FetchError::Failed)?;
    let mut hops = 0;
    loop {
        check_destination(&policy, &url).await?;
        let mut req = client.get(url.clone());
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent")) {
            req = req.header(reqwest::header::USER_AGENT, USER_AGENT);
        }
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req.send().await.map_err(|e| FetchError::Failed(transport_text(&e)))?;
        let status = resp.status();
        if status.is_redirection() && follow_redirects {
            if let Some(location) = resp.headers().get(reqwest::header::LOCATION) {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(FetchError::Failed(format!("Exceeded {MAX_REDIRECTS} redirects for {url}")));
                }
                let location = location.to_str().map_err(|_| FetchError::Failed("Invalid redirect".into()))?;
                url = url.join(location).map_err(|e| FetchError::Failed(format!("Invalid redirect: {e}")))?;
                continue;
            }
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if resp.content_length().is_some_and(|n| n > max_bytes as u64) {
            return Err(too_large(&url, max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| FetchError::Failed(transport_text(&e)))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(too_large(&url, max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Fetched { url, status, content_type, body });
    }
}

fn too_large(url: &reqwest::Url, max_bytes: usize) -> FetchError {
    FetchError::Failed(format!("Response from {url} is larger than {max_bytes} bytes"))
}

/// The error chain of a transport failure, each cause once.
fn transport_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cause = c.source();
    }
    parts.join(": ")
}

/// Parses a URL as the tools do: a missing scheme becomes `https://`.
#[must_use]
pub fn normalize_url(raw: &str) -> String {
    let t = raw.trim();
    if t.starts_with("http://") || t.starts_with("https://") {
        t.to_owned()
    } else {
        format!("https://{t}")
    }
}
