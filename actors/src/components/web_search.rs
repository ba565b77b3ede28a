//! Web Search: Langflow's `WebSearchComponent` (node type `UnifiedWebSearch`, tool
//! `perform_search`), with configurable endpoints.
//!
//! * **Web:** `GET <FLOWACTOR_WEB_SEARCH_URL>?q=…&format=json&kl=us-en`. A JSON answer is read
//!   as SearXNG's (`results[].{title,url,content}`), an HTML one as DuckDuckGo's HTML page
//!   (`div.result`, links decoded from `uddg=`). Each result page is then fetched and its text
//!   kept in `content`. Rows `{title, link, snippet, content}`.
//! * **News:** `GET <FLOWACTOR_NEWS_SEARCH_URL>?q=…&hl=…&gl=…&ceid=…` (Google News' RSS search;
//!   `topic` / `location` select its headline sections). Rows `{title, link, published, summary}`.
//! * **RSS:** the query is the feed URL. Rows `{title, link, published, summary}`.
//!
//! Every request goes through the outbound address policy. Failures are rows, not errors:
//! `{"title": "Error", …}` with the reason in `snippet` (Web) or `summary` (News, RSS).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::{Map, Value as Json};

use super::web::{self, FetchError};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::tools::web_search::{
    CEID, GL, HL, LOCATION, MAX_CONTENT_LENGTH, MAX_RESULTS, QUERY, RESULTS, SEARCH_MODE, TIMEOUT, TOPIC,
};

pub struct WebSearch;

const WEB_COLUMNS: [&str; 4] = ["title", "link", "snippet", "content"];
const FEED_COLUMNS: [&str; 4] = ["title", "link", "published", "summary"];

static RESULT: LazyLock<Selector> = LazyLock::new(|| selector("div.result"));
static RESULT_LINK: LazyLock<Selector> = LazyLock::new(|| selector("a.result__a"));
static RESULT_SNIPPET: LazyLock<Selector> = LazyLock::new(|| selector(".result__snippet"));

fn selector(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|_| unreachable!("a valid selector"))
}

fn row(columns: &[&str], values: [String; 4]) -> Map<String, Json> {
    columns.iter().zip(values).map(|(k, v)| ((*k).to_owned(), Json::String(v))).collect()
}

fn error_row(columns: &[&str], text: impl Into<String>) -> Map<String, Json> {
    let text = text.into();
    if columns == WEB_COLUMNS {
        row(columns, ["Error".into(), String::new(), text, String::new()])
    } else {
        row(columns, ["Error".into(), String::new(), String::new(), text])
    }
}

fn fixed_row(columns: &[&str], title: &str) -> Map<String, Json> {
    row(columns, [title.to_owned(), String::new(), String::new(), String::new()])
}

/// Cuts `text` to `max` characters (0: no limit), marking the cut.
fn truncate(text: &str, max: usize) -> String {
    if max == 0 || text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push_str("... [truncated]");
    cut
}

/// The visible text of an HTML fragment or page, whitespace collapsed.
fn html_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let mut words = Vec::new();
    for node in doc.tree.root().descendants() {
        if let scraper::Node::Text(t) = node.value() {
            let hidden = node.ancestors().any(|a| {
                a.value().as_element().is_some_and(|e| matches!(e.name(), "script" | "style" | "noscript" | "template"))
            });
            if !hidden {
                words.extend(t.split_whitespace().map(str::to_owned));
            }
        }
    }
    words.join(" ")
}

struct Run<'a> {
    ctx: &'a ComponentContext,
    timeout: Duration,
    max_results: usize,
    max_content: usize,
}

impl Run<'_> {
    fn take<T>(&self, items: Vec<T>) -> Vec<T> {
        if self.max_results == 0 {
            items
        } else {
            items.into_iter().take(self.max_results).collect()
        }
    }

    async fn get(&self, url: reqwest::Url) -> Result<Result<web::Fetched, FetchError>, ComponentError> {
        let cap = self.ctx.tools().max_page_bytes;
        web::get(self.ctx, url, &[], self.timeout, true, cap).await
    }

    async fn web(&self, query: &str) -> Result<Vec<Map<String, Json>>, ComponentError> {
        let query: String = query.chars().filter(|c| !matches!(c, '<' | '>' | '"' | '\'')).collect();
        let query = query.trim();
        if query.is_empty() {
            return Ok(vec![error_row(&WEB_COLUMNS, "No search query provided")]);
        }
        let mut url = match reqwest::Url::parse(&self.ctx.tools().web_search_url) {
            Ok(u) => u,
            Err(e) => return Ok(vec![error_row(&WEB_COLUMNS, format!("Invalid search endpoint: {e}"))]),
        };
        url.query_pairs_mut().append_pair("q", query).append_pair("format", "json").append_pair("kl", "us-en");
        let page = match self.get(url).await? {
            Ok(p) if p.status.is_success() => p,
            Ok(p) => return Ok(vec![error_row(&WEB_COLUMNS, format!("Search request failed: HTTP {}", p.status))]),
            Err(e) => return Ok(vec![error_row(&WEB_COLUMNS, e.text())]),
        };
        let hits: Vec<(String, String, String)> = match serde_json::from_slice::<Json>(&page.body) {
            Ok(j) => j
                .get("results")
                .and_then(Json::as_array)
                .map(|r| {
                    r.iter()
                        .map(|h| {
                            let s = |k: &str| h.get(k).and_then(Json::as_str).unwrap_or_default().to_owned();
                            (s("title"), s("url"), s("content"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => {
                let doc = Html::parse_document(&page.text());
                doc.select(&RESULT)
                    .filter_map(|r| {
                        let a = r.select(&RESULT_LINK).next()?;
                        let href = a.value().attr("href")?;
                        let link = decode_ddg_link(&page.url, href);
                        let title = a.text().collect::<String>().trim().to_owned();
                        let snippet = r
                            .select(&RESULT_SNIPPET)
                            .next()
                            .map(|s| s.text().collect::<String>().trim().to_owned())
                            .unwrap_or_default();
                        Some((title, link, snippet))
                    })
                    .collect()
            }
        };
        let hits = self.take(hits.into_iter().filter(|h| !h.1.is_empty()).collect());
        if hits.is_empty() {
            return Ok(vec![fixed_row(&WEB_COLUMNS, "No results found")]);
        }
        let mut rows = Vec::new();
        for (title, link, snippet) in hits {
            let content = match reqwest::Url::parse(&link) {
                Err(e) => format!("(Failed to fetch: {e})"),
                Ok(u) => match self.get(u).await? {
                    Ok(p) => {
                        let text = if p.content_type.contains("html") || p.content_type.is_empty() {
                            html_text(&p.text())
                        } else {
                            p.text()
                        };
                        truncate(&text, self.max_content)
                    }
                    Err(FetchError::Blocked(e)) => format!("(Blocked by SSRF protection: {e})"),
                    Err(FetchError::Failed(e)) => format!("(Failed to fetch: {e})"),
                },
            };
            rows.push(row(&WEB_COLUMNS, [title, link, snippet, content]));
        }
        Ok(rows)
    }

    async fn feed(&self, url: reqwest::Url, none_found: &str) -> Result<Vec<Map<String, Json>>, ComponentError> {
        let page = match self.get(url).await? {
            Ok(p) if p.status.is_success() => p,
            Ok(p) => return Ok(vec![error_row(&FEED_COLUMNS, format!("Feed request failed: HTTP {}", p.status))]),
            Err(e) => return Ok(vec![error_row(&FEED_COLUMNS, e.text())]),
        };
        let feed = match feed_rs::parser::parse(page.body.as_slice()) {
            Ok(f) => f,
            Err(e) => return Ok(vec![error_row(&FEED_COLUMNS, format!("Could not parse the feed: {e}"))]),
        };
        let entries = self.take(feed.entries);
        if entries.is_empty() {
            return Ok(vec![fixed_row(&FEED_COLUMNS, none_found)]);
        }
        Ok(entries
            .into_iter()
            .map(|e| {
                let title = e.title.map(|t| t.content).unwrap_or_default();
                let link = e.links.first().map(|l| l.href.clone()).unwrap_or_default();
                let published = e
                    .published
                    .or(e.updated)
                    .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
                    .unwrap_or_default();
                let summary = e.summary.map(|s| html_text(&s.content)).unwrap_or_default();
                row(&FEED_COLUMNS, [title, link, published, truncate(&summary, self.max_content)])
            })
            .collect())
    }

    async fn news(&self, query: &str, params: [String; 5]) -> Result<Vec<Map<String, Json>>, ComponentError> {
        let [hl, gl, ceid, topic, location] = params;
        let hl = if hl.is_empty() { "en-US".to_owned() } else { hl };
        let gl = if gl.is_empty() { "US".to_owned() } else { gl };
        let ceid = if ceid.is_empty() || ceid == "US:en" {
            format!("{gl}:{}", hl.split('-').next().unwrap_or("en"))
        } else {
            ceid
        };
        let base = self.ctx.tools().news_search_url.trim_end_matches('/').to_owned();
        let root = base.strip_suffix("/search").unwrap_or(&base).to_owned();
        let (address, with_query) = if !topic.trim().is_empty() {
            (format!("{root}/headlines/section/topic/{}", topic.trim().to_ascii_uppercase()), false)
        } else if !location.trim().is_empty() {
            (format!("{root}/headlines/section/geo/{}", location.trim()), false)
        } else if !query.trim().is_empty() {
            (base.clone(), true)
        } else {
            return Ok(vec![error_row(&FEED_COLUMNS, "No search parameters provided")]);
        };
        let mut url = match reqwest::Url::parse(&address) {
            Ok(u) => u,
            Err(e) => return Ok(vec![error_row(&FEED_COLUMNS, format!("Invalid news endpoint: {e}"))]),
        };
        {
            let mut q = url.query_pairs_mut();
            if with_query {
                q.append_pair("q", query.trim());
            }
            q.append_pair("hl", &hl).append_pair("gl", &gl).append_pair("ceid", &ceid);
        }
        self.feed(url, "No articles found").await
    }
}

/// DuckDuckGo's result links point at `/l/?uddg=<target>`.
fn decode_ddg_link(base: &reqwest::Url, href: &str) -> String {
    let Ok(u) = base.join(href) else { return href.to_owned() };
    u.query_pairs().find(|(k, _)| k == "uddg").map_or_else(|| u.to_string(), |(_, v)| v.into_owned())
}

impl Component for WebSearch {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let mode = a.text_or_default(&SEARCH_MODE).trim().to_owned();
            let query = a.text(&QUERY).into_owned();
            let run = Run {
                ctx,
                timeout: Duration::from_secs(u64::try_from(a.int(&TIMEOUT)).unwrap_or(5).max(1)),
                max_results: usize::try_from(a.int(&MAX_RESULTS)).unwrap_or(5),
                max_content: usize::try_from(a.int(&MAX_CONTENT_LENGTH)).unwrap_or(2000),
            };
            let rows = match mode.as_str() {
                "Web" => run.web(&query).await?,
                "News" => {
                    let params = [&HL, &GL, &CEID, &TOPIC, &LOCATION].map(|i| a.text(i).trim().to_owned());
                    run.news(&query, params).await?
                }
                "RSS" => {
                    let address = query.trim();
                    if address.is_empty() {
                        vec![error_row(&FEED_COLUMNS, "No RSS URL provided")]
                    } else {
                        match reqwest::Url::parse(&web::normalize_url(address)) {
                            Ok(u) => run.feed(u, "No articles found").await?,
                            Err(e) => vec![error_row(&FEED_COLUMNS, format!("Invalid RSS URL: {e}"))],
                        }
                    }
                }
                other => vec![error_row(
                    &WEB_COLUMNS,
                    format!("Invalid search mode: {other:?}. Choose one of: Web, News, RSS."),
                )],
            };
            Ok(Outputs::one(&RESULTS, Value::DataFrame(Arc::new(rows))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 3), "abc... [truncated]");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdef", 0), "abcdef");
    }

    #[test]
    fn duckduckgo_links_are_decoded() {
        let base = reqwest::Url::parse("https://html.duckduckgo.com/html/").unwrap_or_else(|_| unreachable!());
        assert_eq!(
            decode_ddg_link(&base, "//duckduckgo.com/l/?uddg=https%3A%2F%2Fexample.com%2Fa&rut=x"),
            "https://example.com/a"
        );
    }
}
