//! Split Text: LangChain's `CharacterTextSplitter` — split on `separator`, then merge pieces
//! into chunks of at most `chunk_size` characters overlapping by up to `chunk_overlap`. One row
//! per chunk.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::processing::split_text::{
    CHUNKS, CHUNK_OVERLAP, CHUNK_SIZE, DATAFRAME, DATA_INPUTS, SEPARATOR, TEXT_KEY,
};

pub struct SplitText;

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// LangChain's `_merge_splits`.
pub(crate) fn merge_splits(splits: &[&str], sep: &str, chunk_size: usize, overlap: usize) -> Vec<String> {
    let sep_len = char_len(sep);
    let mut docs = Vec::new();
    let mut current: std::collections::VecDeque<&str> = std::collections::VecDeque::new();
    let mut total = 0usize;
    for &piece in splits {
        let len = char_len(piece);
        let joiner = if current.is_empty() { 0 } else { sep_len };
        if total + len + joiner > chunk_size && !current.is_empty() {
            let doc = current.iter().copied().collect::<Vec<_>>().join(sep).trim().to_owned();
            if !doc.is_empty() {
                docs.push(doc);
            }
            while total > overlap
                || (total + len + if current.is_empty() { 0 } else { sep_len } > chunk_size && total > 0)
            {
                let Some(first) = current.pop_front() else { break };
                total = total.saturating_sub(char_len(first) + if current.is_empty() { 0 } else { sep_len });
            }
        }
        current.push_back(piece);
        total += len + if current.len() > 1 { sep_len } else { 0 };
    }
    let doc = current.iter().copied().collect::<Vec<_>>().join(sep).trim().to_owned();
    if !doc.is_empty() {
        docs.push(doc);
    }
    docs
}

impl Component for SplitText {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let chunk_size = usize::try_from(a.int(&CHUNK_SIZE))
            .unwrap_or(usize::try_from(CHUNK_SIZE.default_int()).unwrap_or(1))
            .max(1);
        let overlap = usize::try_from(a.int(&CHUNK_OVERLAP)).unwrap_or(0);
        let sep = match a.param(&SEPARATOR) {
            None => SEPARATOR.default_text().to_owned(),
            Some(_) => a.param_text(&SEPARATOR).replace("\\n", "\n").replace("\\t", "\t"),
        };
        let text_key = a.param_text(&TEXT_KEY);
        let text_key = if text_key.is_empty() { TEXT_KEY.default_text().to_owned() } else { text_key.into_owned() };
        let mut rows = Vec::new();
        for v in a.values(&DATA_INPUTS) {
            for source in v.rows() {
                let text = match source.get(&text_key) {
                    Some(Json::String(s)) => s.clone(),
                    _ => v.text().into_owned(),
                };
                let splits: Vec<&str> = if sep.is_empty() {
                    vec![text.as_str()]
                } else {
                    text.split(sep.as_str()).filter(|s| !s.is_empty()).collect()
                };
                for chunk in merge_splits(&splits, &sep, chunk_size, overlap) {
                    let mut row: Map<String, Json> = source.clone();
                    row.insert(text_key.clone(), Json::String(chunk));
                    rows.push(row);
                }
            }
        }
        let table = Value::DataFrame(Arc::new(rows));
        let mut out = Outputs::one(&DATAFRAME, table.clone());
        if ctx.wants(&CHUNKS) {
            out.set(&CHUNKS, table);
        }
        ready(Ok(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::components::testing::Harness;
    use crate::components::Message;
    use serde_json::json;

    #[test]
    fn merges_with_overlap() {
        let splits = ["aaaa", "bbbb", "cccc", "dddd"];
        assert_eq!(merge_splits(&splits, " ", 9, 4), ["aaaa bbbb", "bbbb cccc", "cccc dddd"]);
        assert_eq!(merge_splits(&splits, " ", 100, 0), ["aaaa bbbb cccc dddd"]);
    }

    #[actix_rt::test]
    async fn one_row_per_chunk() {
        let mut h = Harness::single(
            "SplitText",
            json!({"chunk_size": 5, "chunk_overlap": 0, "separator": "\\n", "text_key": "text"}),
        );
        let v = Value::message(Message::text("ab\ncd\nefgh", 0));
        let out = h.run("SplitText-1", vec![("data_inputs", v)]).await.unwrap();
        let Some(Value::DataFrame(rows)) = out.get("dataframe") else { panic!("no table") };
        let texts: Vec<_> = rows.iter().map(|r| r["text"].as_str().unwrap().to_owned()).collect();
        assert_eq!(texts, ["ab\ncd", "efgh"]);
    }
}
