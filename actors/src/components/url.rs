//! URL: Langflow's `URLComponent`. Fetches each URL (and, with `max_depth` ≥ 2, the pages it
//! links to, breadth first, on the same `host:port` when `prevent_outside`) through the
//! outbound address policy, and gives one row per page:
//! `{text, url, title, description, content_type, language}`.
//!
//! `text` is, by `format`: the page's text nodes without script and style (`Text`), a Markdown
//! conversion (`Markdown`, via `htmd`), or the raw HTML (`HTML`); non-HTML bodies are kept as
//! they are. Whitespace-only lines are emptied and runs of three or more newlines become two.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use scraper::{Html, Node, Selector};
use serde_json::{Map, Value as Json};

use super::web::{self, FetchError, Fetched};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::tools::url::{
    CHECK_RESPONSE_STATUS, CONTINUE_ON_FAILURE, FILTER_TEXT_HTML, FOLLOW_REDIRECTS, FORMAT, HEADERS, MAX_DEPTH,
    PAGE_RESULTS, PREVENT_OUTSIDE, RAW_RESULTS, TIMEOUT, URLS,
};

pub struct Url;

/// The columns of a page row, in Langflow's order.
pub const COLUMNS: [&str; 6] = ["text", "url", "title", "description", "content_type", "language"];

static URL_SHAPE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-_]*[A-Za-z0-9])?)(:\d{1,5})?([/?#][^\s]*)?$",
    )
    .unwrap_or_else(|_| unreachable!("a valid pattern"))
});
static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
static DESCRIPTION: LazyLock<Selector> = LazyLock::new(|| selector(r#"meta[name="description"]"#));
static HTML_TAG: LazyLock<Selector> = LazyLock::new(|| selector("html"));
static LINKS: LazyLock<Selector> = LazyLock::new(|| selector("a[href]"));
static MARKDOWN: LazyLock<htmd::HtmlToMarkdown> = LazyLock::new(|| {
    htmd::HtmlToMarkdown::builder()
        .skip_tags(vec!["script", "style", "noscript", "template", "head", "title"])
        .options(htmd::options::Options { ul_bullet_spacing: 1, ..Default::default() })
        .build()
});

fn selector(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|_| unreachable!("a valid selector"))
}

/// Elements whose text is not page text.
fn hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template")
}

/// The concatenated text nodes outside script and style, as BeautifulSoup's `get_text()` over
/// the lxml tree gives them (the whitespace right after a script or style is not kept).
fn page_text(doc: &Html) -> String {
    let mut out = String::new();
    let mut after_hidden = false;
    let mut stack = vec![doc.tree.root()];
    // Depth-first, document order (children pushed in reverse).
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Element(e) if hidden(e.name()) => {
                after_hidden = true;
                continue;
            }
            Node::Text(t) => {
                let text: &str = t;
                if !(after_hidden && text.trim().is_empty()) {
                    out.push_str(text);
                }
                after_hidden = false;
            }
            Node::Element(_) => after_hidden = false,
            _ => {}
        }
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Empties whitespace-only lines and turns runs of three or more newlines into two.
fn clean(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').map(|l| if l.trim().is_empty() { "" } else { l }).collect();
    let joined = lines.join("\n");
    let mut out = String::with_capacity(joined.len());
    let mut newlines = 0;
    for c in joined.chars() {
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        out.push(c);
    }
    out
}

fn is_html(page: &Fetched) -> bool {
    page.content_type.contains("html")
        || (page.content_type.is_empty() && page.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'))
}

/// One page's row, and the links it holds (resolved, in document order).
fn page_row(page: &Fetched, format: &str) -> (Map<String, Json>, Vec<reqwest::Url>) {
    let raw = page.text();
    let (text, title, description, language, links) = if is_html(page) {
        let doc = Html::parse_document(&raw);
        let title = doc.select(&TITLE).next().map(|t| t.text().collect::<String>()).unwrap_or_default();
        let description =
            doc.select(&DESCRIPTION).next().and_then(|m| m.value().attr("content")).unwrap_or_default().to_owned();
        let language = doc.select(&HTML_TAG).next().and_then(|h| h.value().attr("lang")).unwrap_or_default().to_owned();
        let links: Vec<reqwest::Url> = doc
            .select(&LINKS)
            .filter_map(|a| a.value().attr("href"))
            .filter_map(|href| page.url.join(href.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .collect();
        let text = match format {
            "HTML" => raw.clone(),
            "Markdown" => MARKDOWN.convert(&raw).unwrap_or_else(|_| page_text(&doc)),
            _ => page_text(&doc),
        };
        (text, title, description, language, links)
    } else {
        (raw, String::new(), String::new(), String::new(), Vec::new())
    };
    let mut row = Map::new();
    for (k, v) in COLUMNS.iter().zip([
        clean(&text),
        page.url.to_string(),
        title,
        description,
        page.content_type.clone(),
        language,
    ]) {
        row.insert((*k).to_owned(), Json::String(v));
    }
    (row, links)
}

fn host_port(u: &reqwest::Url) -> (Option<String>, Option<u16>) {
    (u.host_str().map(str::to_ascii_lowercase), u.port_or_known_default())
}

fn without_fragment(mut u: reqwest::Url) -> reqwest::Url {
    u.set_fragment(None);
    u
}

/// Python's `httpx` status error text.
fn status_error(status: reqwest::StatusCode, url: &reqwest::Url) -> String {
    let kind = if status.is_client_error() { "Client error" } else { "Server error" };
    format!(
        "{kind} '{} {}' for url '{url}'\nFor more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        status.as_u16()
    )
}

fn failed(reason: impl std::fmt::Display) -> ComponentError {
    ComponentError::failed(format!("Error loading documents: {reason}"))
}

/// The URLs of the node: its list field (or one text), and whatever arrived on the edge.
fn urls(ctx: &ComponentContext, inputs: &Inputs) -> Vec<String> {
    let a = ctx.args(inputs);
    let mut out = Vec::new();
    let from_edges: Vec<String> = a.values(&URLS).map(|v| v.text().into_owned()).collect();
    if from_edges.is_empty() {
        match a.param(&URLS) {
            Some(Json::Array(items)) => {
                out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)));
            }
            Some(Json::String(s)) => out.push(s.clone()),
            _ => {}
        }
    } else {
        out = from_edges;
    }
    out.into_iter().filter(|u| !u.trim().is_empty()).collect()
}

/// The node's `headers` table (`[{key, value}]`).
fn headers(ctx: &ComponentContext, inputs: &Inputs) -> Vec<(String, String)> {
    let a = ctx.args(inputs);
    let Some(Json::Array(rows)) = a.param(&HEADERS) else { return Vec::new() };
    rows.iter()
        .filter_map(|r| {
            let k = r.get("key")?.as_str()?.trim();
            let v = r.get("value").and_then(Json::as_str).unwrap_or_default();
            (!k.is_empty()).then(|| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

impl Component for Url {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let max_depth = usize::try_from(a.int(&MAX_DEPTH)).unwrap_or(1).clamp(1, 5);
            let prevent_outside = a.bool(&PREVENT_OUTSIDE);
            let follow_redirects = a.bool(&FOLLOW_REDIRECTS);
            let format = a.param_or_default(&FORMAT).into_owned();
            let timeout = Duration::from_secs(u64::try_from(a.int(&TIMEOUT)).unwrap_or(30).max(1));
            let filter_css = a.bool(&FILTER_TEXT_HTML);
            let continue_on_failure = a.bool(&CONTINUE_ON_FAILURE);
            let check_status = a.bool(&CHECK_RESPONSE_STATUS);
            let headers = headers(ctx, inputs);
            let settings = ctx.tools();

            let mut roots = Vec::new();
            let mut first_invalid = None;
            for raw in urls(ctx, inputs) {
                let normalized = web::normalize_url(&raw);
                match reqwest::Url::parse(&normalized) {
                    Ok(u) if URL_SHAPE.is_match(&normalized) => roots.push(u),
                    _ => {
                        first_invalid.get_or_insert(format!("Invalid URL: {normalized}"));
                    }
                }
            }
            if roots.is_empty() {
                return Err(failed(first_invalid.unwrap_or_else(|| "No valid URLs provided.".to_owned())));
            }

            let mut rows: Vec<Map<String, Json>> = Vec::new();
            let mut visited: HashSet<reqwest::Url> = HashSet::new();
            let mut read_bytes = 0usize;
            let mut fetched_pages = 0usize;
            'roots: for root in roots {
                let origin = host_port(&root);
                let mut queue: VecDeque<(reqwest::Url, usize)> = VecDeque::from([(root, 1)]);
                while let Some((url, depth)) = queue.pop_front() {
                    let url = without_fragment(url);
                    if !visited.insert(url.clone()) {
                        continue;
                    }
                    if fetched_pages >= settings.max_pages || read_bytes >= settings.max_fetch_bytes {
                        break 'roots;
                    }
                    fetched_pages += 1;
                    let cap = settings.max_page_bytes.min(settings.max_fetch_bytes - read_bytes);
                    let result = web::get(ctx, url.clone(), &headers, timeout, follow_redirects, cap).await?;
                    let page = match result {
                        Ok(p) if check_status && (p.status.is_client_error() || p.status.is_server_error()) => {
                            Err(FetchError::Failed(status_error(p.status, &p.url)))
                        }
                        other => other,
                    };
                    let page = match page {
                        Ok(p) => p,
                        Err(e) if continue_on_failure => {
                            tracing::debug!(url = %url, error = e.text(), "URL: page skipped");
                            continue;
                        }
                        Err(e) => {
                            return Err(failed(format!("Error loading documents from {url}: {}", e.text())));
                        }
                    };
                    read_bytes += page.body.len();
                    visited.insert(without_fragment(page.url.clone()));
                    if filter_css && page.content_type.contains("text/css") {
                        continue;
                    }
                    let (row, links) = page_row(&page, &format);
                    rows.push(row);
                    ctx.check_message_size(rows.iter().map(|r| r["text"].as_str().map_or(0, str::len)).sum())?;
                    if depth < max_depth {
                        for link in links {
                            if prevent_outside && host_port(&link) != origin {
                                continue;
                            }
                            queue.push_back((link, depth + 1));
                        }
                    }
                }
            }
            if rows.is_empty() {
                return Err(failed("No documents were successfully loaded from any URL"));
            }
            let mut out = Outputs::new();
            if ctx.wants(&RAW_RESULTS) {
                let text = rows.iter().filter_map(|r| r["text"].as_str()).collect::<Vec<_>>().join("\n\n");
                out.set(&RAW_RESULTS, Value::message(ctx.new_message(text)));
            }
            out.set(&PAGE_RESULTS, Value::DataFrame(Arc::new(rows)));
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_empties_blank_lines_and_caps_newline_runs() {
        assert_eq!(clean("a\n  \n\n\nb\n"), "a\n\nb\n");
        assert_eq!(clean("a\n\nb"), "a\n\nb");
    }

    #[test]
    fn text_skips_scripts_and_styles() {
        let doc = Html::parse_document(
            "<html><head><title>T</title><style>p{}</style></head><body><p>a<b>b</b></p>\n<script>x</script>\n</body></html>",
        );
        assert_eq!(page_text(&doc), "Tab\n");
    }

    #[test]
    fn url_shapes() {
        assert!(URL_SHAPE.is_match("http://127.0.0.1:8080/a b".split(' ').next().unwrap_or_default()));
        assert!(!URL_SHAPE.is_match("https://not a url"));
        assert!(URL_SHAPE.is_match("https://docs.langflow.org/"));
    }
}
