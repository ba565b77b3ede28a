//! The Python renderings Langflow's tool results reach the model in: `json.dumps` (", " and
//! ": " separators, non-ASCII kept), `repr` of argument dicts (in validation errors) and
//! pandas' `DataFrame.__repr__` for tables (80 columns, middle columns elided, footer).

use serde_json::Value as Json;

/// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
#[must_use]
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // `{:e}` gives the shortest round-trip digits: "2.4825e2".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        let zeros = "0".repeat(usize::try_from(-point).unwrap_or(0));
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = usize::try_from(point).unwrap_or(0);
    if digits.len() <= point {
        let zeros = "0".repeat(point - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

fn py_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        py_float(n.as_f64().unwrap_or(0.0))
    } else {
        n.to_string()
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn dumps_into(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                out.push_str(&if f.is_nan() {
                    "NaN".into()
                } else if f.is_infinite() {
                    if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
                } else {
                    py_float(f)
                });
            } else {
                out.push_str(&n.to_string());
            }
        }
        Json::String(s) => json_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_into(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(out, k);
                out.push_str(": ");
                dumps_into(out, item);
            }
            out.push('}');
        }
    }
}

/// `json.dumps(v, ensure_ascii=False)`.
#[must_use]
pub fn dumps(v: &Json) -> String {
    let mut out = String::new();
    dumps_into(&mut out, v);
    out
}

/// A JSON text re-written as Python writes the value it decodes to, keys in the order the
/// text has them (a dict keeps insertion order): `json.dumps` style or `repr` style.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Dumps,
    Repr,
}

struct Writer<'a> {
    out: &'a mut String,
    style: Style,
}

impl<'de> serde::de::DeserializeSeed<'de> for Writer<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Writer<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        let text = match (self.style, v) {
            (Style::Dumps, true) => "true",
            (Style::Dumps, false) => "false",
            (Style::Repr, true) => "True",
            (Style::Repr, false) => "False",
        };
        self.out.push_str(text);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.out.push_str(&v.to_string());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.out.push_str(&v.to_string());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        dumps_into(self.out, &Json::from(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        match self.style {
            Style::Dumps => json_string(self.out, v),
            Style::Repr => self.out.push_str(&py_str_repr(v)),
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.push_str(if self.style == Style::Dumps { "null" } else { "None" });
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (out, style) = (self.out, self.style);
        out.push('[');
        let mut first = true;
        loop {
            let mark = out.len();
            if !first {
                out.push_str(", ");
            }
            if seq.next_element_seed(Writer { out: &mut *out, style })?.is_none() {
                out.truncate(mark);
                break;
            }
            first = false;
        }
        out.push(']');
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (out, style) = (self.out, self.style);
        out.push('{');
        let mut first = true;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if !first {
                out.push_str(", ");
            }
            first = false;
            match style {
                Style::Dumps => json_string(out, &key),
                Style::Repr => out.push_str(&py_str_repr(&key)),
            }
            out.push_str(": ");
            map.next_value_seed(Writer { out: &mut *out, style })?;
        }
        out.push('}');
        Ok(())
    }
}

fn rewrite(text: &str, style: Style) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut de = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(Writer { out: &mut out, style }, &mut de).ok()?;
    de.end().ok()?;
    Some(out)
}

/// `json.dumps(json.loads(text))`, keys in the text's order.
#[must_use]
pub fn redump(text: &str) -> Option<String> {
    rewrite(text, Style::Dumps)
}

/// `repr(json.loads(text))`, keys in the text's order.
#[must_use]
pub fn repr_of_text(text: &str) -> Option<String> {
    rewrite(text, Style::Repr)
}

/// Python's `repr(str)`.
#[must_use]
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of the value a JSON document decodes to.
#[must_use]
pub fn py_repr(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(b) => if *b { "True" } else { "False" }.into(),
        Json::Number(n) => py_number(n),
        Json::String(s) => py_str_repr(s),
        Json::Array(items) => format!("[{}]", items.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter().map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The Python type name of a decoded JSON value.
#[must_use]
pub fn py_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

// ---- pandas DataFrame repr ------------------------------------------------------------------

/// Terminal width pandas falls back to outside a terminal.
const WIDTH: usize = 80;
/// Terminal height fallback: longer frames show `MIN_ROWS` rows.
const HEIGHT: usize = 24;
const MIN_ROWS: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dtype {
    Int,
    Float,
    Bool,
    Object,
}

fn dtype(rows: &[Vec<Json>], col: usize) -> Dtype {
    let mut cells = rows.iter().map(|r| r.get(col).unwrap_or(&Json::Null)).peekable();
    if cells.peek().is_none() {
        return Dtype::Object;
    }
    let cells: Vec<&Json> = cells.collect();
    if cells.iter().all(|c| c.is_boolean()) {
        Dtype::Bool
    } else if cells.iter().all(|c| c.is_i64() || c.is_u64()) {
        Dtype::Int
    } else if cells.iter().all(|c| c.is_number()) {
        Dtype::Float
    } else {
        Dtype::Object
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn object_cell(v: &Json) -> String {
    let text = match v {
        Json::String(s) => s.clone(),
        Json::Null => "None".into(),
        other => py_repr(other),
    };
    format!(" {}", text.replace('\t', "\\t").replace('\r', "\\r").replace('\n', "\\n"))
}

/// The formatted cells of one column (header first), right-justified to a common width.
fn column(name: &str, dtype: Dtype, cells: &[&Json]) -> Vec<String> {
    let mut values: Vec<String> = match dtype {
        Dtype::Int | Dtype::Bool => cells.iter().map(|c| format!(" {}", py_repr(c))).collect(),
        Dtype::Float => {
            let mut v: Vec<String> = cells.iter().map(|c| format!("{:.6}", c.as_f64().unwrap_or(0.0))).collect();
            // Trim zeros common to every value, keeping one decimal.
            while v.iter().all(|s| s.ends_with('0') && !s.ends_with(".0")) {
                for s in &mut v {
                    s.pop();
                }
            }
            v.into_iter().map(|s| if s.starts_with('-') { s } else { format!(" {s}") }).collect()
        }
        Dtype::Object => cells.iter().map(|c| object_cell(c)).collect(),
    };
    let header = if dtype == Dtype::Object { name.to_owned() } else { format!(" {name}") };
    let width = values.iter().map(|s| chars(s)).chain([chars(&header)]).max().unwrap_or(0);
    let rjust = |s: &str| format!("{}{s}", " ".repeat(width - chars(s)));
    for v in &mut values {
        *v = rjust(v);
    }
    let mut out = vec![rjust(&header)];
    out.extend(values);
    out
}

fn adjoin(cols: &[Vec<String>]) -> String {
    let n = cols.len();
    let height = cols.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| c.iter().map(|s| chars(s)).max().unwrap_or(0) + usize::from(i + 1 < n))
        .collect();
    let mut lines = Vec::with_capacity(height);
    for row in 0..height {
        let mut line = String::new();
        for (c, w) in cols.iter().zip(&widths) {
            let cell = c.get(row).map_or("", String::as_str);
            line.push_str(cell);
            line.push_str(&" ".repeat(w.saturating_sub(chars(cell))));
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// Python's `round` (half to even) of `n / 2`.
fn half_round(n: usize) -> usize {
    if n % 4 == 1 {
        n / 2 // x.5 with an even x
    } else {
        n.div_ceil(2)
    }
}

struct Layout<'a> {
    columns: &'a [String],
    rows: &'a [Vec<Json>],
    dtypes: Vec<Dtype>,
    /// Shown row positions; `None` marks the `...` row.
    row_slots: Vec<Option<usize>>,
    row_truncated: bool,
}

impl Layout<'_> {
    /// The string columns (index first) for the shown data columns; `dots_after` inserts the
    /// `...` column after that many data columns.
    fn strcols(&self, shown: &[usize], dots_after: Option<usize>) -> Vec<Vec<String>> {
        let data_rows: Vec<usize> = self.row_slots.iter().filter_map(|s| *s).collect();
        let dot_pos = self.row_slots.iter().position(Option::is_none);
        let mut index: Vec<String> = vec![String::new()];
        index.extend(data_rows.iter().map(usize::to_string));
        let mut cols = vec![index];
        for &c in shown {
            let cells: Vec<&Json> = data_rows.iter().map(|&r| self.rows[r].get(c).unwrap_or(&Json::Null)).collect();
            cols.push(column(&self.columns[c], self.dtypes[c], &cells));
        }
        let n_index = data_rows.len() + 1;
        if let Some(after) = dots_after {
            cols.insert(after + 1, vec![" ...".to_owned(); n_index]);
        }
        if let Some(row_num) = dot_pos {
            for (ix, col) in cols.iter_mut().enumerate() {
                let is_dot_col = dots_after.is_some_and(|a| ix == a + 1);
                let cwidth = if is_dot_col { 4 } else { col.get(row_num).map_or(0, |s| chars(s)) };
                let dots = if cwidth > 3 || is_dot_col { "..." } else { ".." };
                let pad = " ".repeat(cwidth.saturating_sub(dots.len()));
                let cell = if ix == 0 { format!("{dots}{pad}") } else { format!("{pad}{dots}") };
                col.insert(row_num + 1, cell);
            }
        }
        cols
    }
}

/// `repr(pandas.DataFrame(rows, columns=columns))` as a plain (non-IPython) Python process
/// prints it with `display.max_colwidth = None`.
#[must_use]
pub fn dataframe_repr(columns: &[String], rows: &[Vec<Json>]) -> String {
    if rows.is_empty() || columns.is_empty() {
        let cols = columns.join(", ");
        let index =
            if rows.is_empty() { "[]".to_owned() } else { format!("RangeIndex(start=0, stop={}, step=1)", rows.len()) };
        return format!("Empty DataFrame\nColumns: [{cols}]\nIndex: {index}");
    }
    let n = rows.len();
    let (row_slots, row_truncated) = if n > HEIGHT {
        let half = MIN_ROWS / 2;
        let mut slots: Vec<Option<usize>> = (0..half).map(Some).collect();
        slots.push(None);
        slots.extend((n - half..n).map(Some));
        (slots, true)
    } else {
        ((0..n).map(Some).collect(), false)
    };
    let layout = Layout {
        columns,
        rows,
        dtypes: (0..columns.len()).map(|c| dtype(rows, c)).collect(),
        row_slots,
        row_truncated,
    };
    let all: Vec<usize> = (0..columns.len()).collect();
    let full = layout.strcols(&all, None);
    let text = adjoin(&full);
    let max_len = text.lines().map(chars).max().unwrap_or(0);
    let mut col_truncated = false;
    let mut out = text;
    if max_len + 1 > WIDTH {
        let mut adj_dif = (max_len + 1 - WIDTH) as i64;
        let mut lens: Vec<usize> = full.iter().map(|c| c.iter().map(|s| chars(s)).max().unwrap_or(0)).collect();
        while adj_dif > 0 && lens.len() > 1 {
            let mid = half_round(lens.len());
            let removed = lens.remove(mid.min(lens.len() - 1));
            adj_dif -= removed as i64 + 1;
        }
        let fitted = lens.len().saturating_sub(1).max(2);
        if fitted < columns.len() {
            col_truncated = true;
            let half = fitted / 2;
            let shown: Vec<usize> = (0..half).chain(columns.len() - half..columns.len()).collect();
            out = adjoin(&layout.strcols(&shown, Some(half)));
        }
    }
    if col_truncated || layout.row_truncated {
        out.push_str(&format!("\n\n[{} rows x {} columns]", n, columns.len()));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_python_does() {
        for (f, s) in [
            (248.25, "248.25"),
            (1.0, "1.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (1e300, "1e+300"),
        ] {
            assert_eq!(py_float(f), s, "{f}");
        }
    }

    #[test]
    fn dumps_and_repr_follow_python() {
        let v = json!({"result": "248.25", "n": 5, "f": 1.0, "ok": true, "none": null, "l": ["é", 2]});
        // Keys keep their order, as in a Python dict.
        assert_eq!(dumps(&v), r#"{"result": "248.25", "n": 5, "f": 1.0, "ok": true, "none": null, "l": ["é", 2]}"#);
        assert_eq!(py_repr(&v), "{'result': '248.25', 'n': 5, 'f': 1.0, 'ok': True, 'none': None, 'l': ['é', 2]}");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a\n'\""), "'a\\n\\'\"'");
    }

    #[test]
    fn rewritten_texts_keep_the_key_order() {
        let text = r#"{"zeta": [1, 2.50, {"b": null, "a": true}], "alpha":"é\n"}"#;
        assert_eq!(redump(text).unwrap(), r#"{"zeta": [1, 2.5, {"b": null, "a": true}], "alpha": "é\n"}"#);
        assert_eq!(repr_of_text(text).unwrap(), r"{'zeta': [1, 2.5, {'b': None, 'a': True}], 'alpha': 'é\n'}");
        assert_eq!(redump("[]").unwrap(), "[]");
        assert_eq!(redump("{} x"), None);
    }

    #[test]
    fn a_narrow_table_is_shown_whole() {
        let cols = vec!["a".to_owned(), "bb".to_owned()];
        let rows = vec![vec![json!("x"), json!(1)], vec![json!("yyy"), json!(22)]];
        assert_eq!(dataframe_repr(&cols, &rows), "     a  bb\n0    x   1\n1  yyy  22");
    }

    #[test]
    fn a_wide_table_elides_the_middle_columns() {
        let cols: Vec<String> = ["title", "link", "snippet", "content"].iter().map(|s| (*s).to_owned()).collect();
        let rows = vec![vec![
            json!("Error"),
            json!(""),
            json!("HTTPSConnectionPool(host='html.duckduckgo.com', port=443): Max retries exceeded"),
            json!(""),
        ]];
        assert_eq!(
            dataframe_repr(&cols, &rows),
            "   title  ... content\n0  Error  ...        \n\n[1 rows x 4 columns]"
        );
    }
}
