//! arXiv: Langflow's `ArXivComponent` (bundle `lfx_arxiv`), with a configurable endpoint.
//!
//! `GET <FLOWACTOR_ARXIV_URL>?search_query=<prefix:query>&max_results=N` (arXiv's query API;
//! `search_type` picks the field prefix: none for `all`, `ti`, `abs`, `au`, `cat`), through the
//! outbound address policy with Langflow's 10-second timeout. The Atom answer becomes one row
//! per entry, with Langflow's fields: `id`, `title`, `summary`, `published`, `updated`,
//! `authors`, `arxiv_url` (the `alternate` link), `pdf_url` (the `related` link), `comment`,
//! `journal_ref`, `primary_category`, `categories`; a missing one is `null`. A request failure
//! is one `{"error": "Request error: …"}` row, as in Langflow; an answer that is not a feed
//! fails the component.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::Regex;
use serde_json::{Map, Value as Json};

use super::web;
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::tools::arxiv::{DATAFRAME, MAX_RESULTS, SEARCH_QUERY, SEARCH_TYPE};

pub struct ArXiv;

/// Langflow's request timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

static ENTRY: LazyLock<Regex> = LazyLock::new(|| regex(r"(?s)<entry[\s>].*?</entry>"));
static COMMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?s)<arxiv:comment\b[^>]*>(.*?)</arxiv:comment>"));
static JOURNAL_REF: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?s)<arxiv:journal_ref\b[^>]*>(.*?)</arxiv:journal_ref>"));
static PRIMARY_CATEGORY: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"<arxiv:primary_category\b[^>]*?\bterm\s*=\s*["']([^"']*)["']"#));

fn regex(s: &str) -> Regex {
    Regex::new(s).unwrap_or_else(|_| unreachable!("a valid pattern"))
}

/// The `search_query` parameter: the field prefix arXiv expects, none for `all`.
fn search_query(search_type: &str, query: &str) -> String {
    let prefix = match search_type {
        "all" => return query.to_owned(),
        "title" => "ti",
        "abstract" => "abs",
        "author" => "au",
        "cat" => "cat",
        _ => "",
    };
    format!("{prefix}:{query}")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn text_or_null(s: Option<String>) -> Json {
    s.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).map_or(Json::Null, Json::String)
}

/// arXiv's own elements (`arxiv:comment`, `arxiv:journal_ref`, `arxiv:primary_category`) of
/// each entry, in document order; the feed parser keeps only Atom's.
fn arxiv_fields(xml: &str) -> Vec<[Json; 3]> {
    ENTRY
        .find_iter(xml)
        .map(|m| {
            let entry = m.as_str();
            let capture = |re: &Regex| re.captures(entry).and_then(|c| c.get(1)).map(|g| unescape(g.as_str()));
            [
                text_or_null(capture(&COMMENT)),
                text_or_null(capture(&JOURNAL_REF)),
                text_or_null(capture(&PRIMARY_CATEGORY)),
            ]
        })
        .collect()
}

fn timestamp(d: Option<chrono::DateTime<chrono::Utc>>) -> Json {
    d.map_or(Json::Null, |d| Json::String(d.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

/// The rows of an arXiv Atom answer.
fn parse(body: &[u8]) -> Result<Vec<Map<String, Json>>, String> {
    let feed = feed_rs::parser::parse(body).map_err(|e| format!("Could not parse the arXiv response: {e}"))?;
    let extras = arxiv_fields(&String::from_utf8_lossy(body));
    Ok(feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let link = |rel: &str| {
                e.links
                    .iter()
                    .find(|l| l.rel.as_deref() == Some(rel))
                    .map_or(Json::Null, |l| Json::String(l.href.clone()))
            };
            let [comment, journal_ref, primary_category] =
                extras.get(i).cloned().unwrap_or([Json::Null, Json::Null, Json::Null]);
            let mut row = Map::new();
            row.insert("id".into(), text_or_null(Some(e.id.clone())));
            row.insert("title".into(), text_or_null(e.title.as_ref().map(|t| t.content.clone())));
            row.insert("summary".into(), text_or_null(e.summary.as_ref().map(|t| t.content.clone())));
            row.insert("published".into(), timestamp(e.published));
            row.insert("updated".into(), timestamp(e.updated));
            row.insert(
                "authors".into(),
                Json::Array(
                    e.authors
                        .iter()
                        .map(|a| Json::String(a.name.as_deref().unwrap_or_default().trim().to_owned()))
                        .collect(),
                ),
            );
            row.insert("arxiv_url".into(), link("alternate"));
            row.insert("pdf_url".into(), link("related"));
            row.insert("comment".into(), comment);
            row.insert("journal_ref".into(), journal_ref);
            row.insert("primary_category".into(), primary_category);
            row.insert(
                "categories".into(),
                Json::Array(e.categories.iter().map(|c| Json::String(c.term.clone())).collect()),
            );
            row
        })
        .collect())
}

fn error_row(text: impl std::fmt::Display) -> Map<String, Json> {
    let mut row = Map::new();
    row.insert("error".into(), Json::String(format!("Request error: {text}")));
    row
}

impl Component for ArXiv {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let query = search_query(a.text_or_default(&SEARCH_TYPE).trim(), &a.text(&SEARCH_QUERY));
            let max_results = a.int(&MAX_RESULTS);
            let rows = match reqwest::Url::parse(&ctx.tools().arxiv_url) {
                Err(e) => vec![error_row(format!("Invalid arXiv endpoint: {e}"))],
                Ok(mut url) => {
                    url.query_pairs_mut()
                        .append_pair("search_query", &query)
                        .append_pair("max_results", &max_results.to_string());
                    match web::get(ctx, url, &[], TIMEOUT, true, ctx.tools().max_page_bytes).await? {
                        Ok(p) if p.status.is_success() => parse(&p.body).map_err(ComponentError::Failed)?,
                        Ok(p) => vec![error_row(format!(
                            "HTTP Error {}: {}",
                            p.status.as_u16(),
                            p.status.canonical_reason().unwrap_or_default()
                        ))],
                        Err(e) => vec![error_row(e.text())],
                    }
                }
            };
            Ok(Outputs::one(&DATAFRAME, Value::DataFrame(Arc::new(rows))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_field_is_arxivs_prefix() {
        assert_eq!(search_query("all", "quantum"), "quantum");
        assert_eq!(search_query("title", "quantum"), "ti:quantum");
        assert_eq!(search_query("abstract", "q"), "abs:q");
        assert_eq!(search_query("author", "q"), "au:q");
        assert_eq!(search_query("cat", "cs.AI"), "cat:cs.AI");
    }
}
