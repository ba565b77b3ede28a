//! Langflow's Calculator (`evaluate_expression`): a Python expression made only of numbers,
//! `+ - * / **` and parentheses, evaluated in floats. Anything else is refused with the text
//! Python's `ast` walk gives (`Unsupported operation or expression type: Call`, …). The input
//! is parsed by a small recursive-descent parser with Python's precedence; nothing is ever
//! executed.

use serde_json::{json, Map, Value as Json};

/// A node of the parsed expression, named as Python's `ast` names it.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    /// A constant that is not a number: its Python type name (`str`, `NoneType`, `complex`).
    OtherConst(&'static str),
    /// An integer literal too large for a float.
    HugeInt,
    Bin(Op, Box<Node>, Box<Node>),
    /// Any other expression: its `ast` class name.
    Other(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mult,
    Div,
    Pow,
    Mod,
    FloorDiv,
    MatMult,
    BitOr,
    BitXor,
    BitAnd,
    LShift,
    RShift,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Self::Add => "Add",
            Self::Sub => "Sub",
            Self::Mult => "Mult",
            Self::Div => "Div",
            Self::Pow => "Pow",
            Self::Mod => "Mod",
            Self::FloorDiv => "FloorDiv",
            Self::MatMult => "MatMult",
            Self::BitOr => "BitOr",
            Self::BitXor => "BitXor",
            Self::BitAnd => "BitAnd",
            Self::LShift => "LShift",
            Self::RShift => "RShift",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    HugeInt,
    Imag,
    Str,
    Name(String),
    Sym(&'static str),
}

const SYMBOLS: [&str; 30] = [
    "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", ":=", "+", "-", "*", "/", "%", "@", "|", "^", "&", "~", "(",
    ")", "[", "]", "{", "}", ",", ".", "<", ">",
];

fn syntax() -> String {
    "invalid syntax (<unknown>, line 1)".to_owned()
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut depth: Vec<u8> = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' || c == b'\x0c' {
            i += 1;
            continue;
        }
        if c == b'\n' || c == b'\r' {
            if depth.is_empty() {
                // A second logical line in `eval` mode.
                if src[i..].trim().is_empty() {
                    break;
                }
                return Err(syntax());
            }
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            let radix = if c == b'0' { b.get(i + 1).map(u8::to_ascii_lowercase) } else { None };
            if let Some(r @ (b'x' | b'o' | b'b')) = radix {
                i += 2;
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let digits: String = src[s..i].chars().filter(|&c| c != '_').collect();
                let base = match r {
                    b'x' => 16,
                    b'o' => 8,
                    _ => 2,
                };
                let v = u128::from_str_radix(&digits, base).map_err(|_| syntax())?;
                #[allow(clippy::cast_precision_loss)]
                out.push(Tok::Num(v as f64));
                continue;
            }
            let mut is_float = false;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && b[i] == b'.' {
                is_float = true;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let save = i;
                i += 1;
                if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                if i < b.len() && b[i].is_ascii_digit() {
                    is_float = true;
                    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                        i += 1;
                    }
                } else {
                    i = save;
                }
            }
            let text = &src[start..i];
            if text.contains("__") || text.ends_with('_') || text.contains("_.") || text.contains("._") {
                return Err(syntax());
            }
            if i < b.len() && (b[i] == b'j' || b[i] == b'J') {
                i += 1;
                out.push(Tok::Imag);
                continue;
            }
            if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                return Err(syntax());
            }
            let clean: String = text.chars().filter(|&c| c != '_').collect();
            if !is_float && clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
                return Err("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers (<unknown>, line 1)".to_owned());
            }
            let v: f64 = clean.parse().map_err(|_| syntax())?;
            if !is_float && v.is_infinite() {
                out.push(Tok::HugeInt);
            } else {
                out.push(Tok::Num(v));
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            let word = &src[start..i];
            // String prefixes: r'', b'', f'' …
            if i < b.len()
                && (b[i] == b'\'' || b[i] == b'"')
                && word.len() <= 2
                && word.chars().all(|c| "rRbBfFuU".contains(c))
            {
                continue;
            }
            out.push(Tok::Name(word.to_owned()));
            continue;
        }
        if c == b'\'' || c == b'"' {
            let q = c;
            i += 1;
            loop {
                match b.get(i) {
                    None | Some(b'\n') => {
                        return Err("unterminated string literal (detected at line 1) (<unknown>, line 1)".to_owned())
                    }
                    Some(b'\\') => i += 2,
                    Some(&x) if x == q => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            out.push(Tok::Str);
            continue;
        }
        let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) else { return Err(syntax()) };
        match *sym {
            "(" | "[" | "{" => depth.push(sym.as_bytes()[0]),
            ")" | "]" | "}" => {
                let open = match *sym {
                    ")" => b'(',
                    "]" => b'[',
                    _ => b'{',
                };
                match depth.pop() {
                    Some(o) if o == open => {}
                    Some(o) => {
                        return Err(format!(
                            "closing parenthesis '{sym}' does not match opening parenthesis '{}' (<unknown>, line 1)",
                            o as char
                        ))
                    }
                    None => return Err(format!("unmatched '{sym}' (<unknown>, line 1)")),
                }
            }
            _ => {}
        }
        out.push(Tok::Sym(sym));
        i += sym.len();
    }
    if let Some(o) = depth.last() {
        return Err(format!("'{}' was never closed (<unknown>, line 1)", *o as char));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn sym(&self) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Sym(s)) => Some(s),
            _ => None,
        }
    }

    fn name_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == w)
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    fn expr(&mut self) -> Result<Node, String> {
        let n = self.or_test()?;
        if self.name_is("if") {
            self.bump();
            self.or_test()?;
            if !self.name_is("else") {
                return Err(syntax());
            }
            self.bump();
            self.expr()?;
            return Ok(Node::Other("IfExp"));
        }
        Ok(n)
    }

    fn or_test(&mut self) -> Result<Node, String> {
        let mut n = self.and_test()?;
        while self.name_is("or") {
            self.bump();
            self.and_test()?;
            n = Node::Other("BoolOp");
        }
        Ok(n)
    }

    fn and_test(&mut self) -> Result<Node, String> {
        let mut n = self.not_test()?;
        while self.name_is("and") {
            self.bump();
            self.not_test()?;
            n = Node::Other("BoolOp");
        }
        Ok(n)
    }

    fn not_test(&mut self) -> Result<Node, String> {
        if self.name_is("not") {
            self.bump();
            self.not_test()?;
            return Ok(Node::Other("UnaryOp"));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, String> {
        let mut n = self.binary(0)?;
        loop {
            let is_cmp = matches!(self.sym(), Some("<" | ">" | "<=" | ">=" | "==" | "!="))
                || self.name_is("in")
                || self.name_is("is");
            if self.name_is("not") {
                self.bump();
                if !self.name_is("in") {
                    return Err(syntax());
                }
            } else if !is_cmp {
                return Ok(n);
            }
            self.bump();
            if self.name_is("not") {
                self.bump();
            }
            self.binary(0)?;
            n = Node::Other("Compare");
        }
    }

    /// Binary operator levels, loosest first: `|`, `^`, `&`, shifts, `+ -`, `* / // % @`.
    fn binary(&mut self, level: usize) -> Result<Node, String> {
        const LEVELS: [&[(&str, Op)]; 6] = [
            &[("|", Op::BitOr)],
            &[("^", Op::BitXor)],
            &[("&", Op::BitAnd)],
            &[("<<", Op::LShift), (">>", Op::RShift)],
            &[("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mult), ("/", Op::Div), ("//", Op::FloorDiv), ("%", Op::Mod), ("@", Op::MatMult)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut n = self.binary(level + 1)?;
        while let Some(op) = self.sym().and_then(|s| LEVELS[level].iter().find(|(t, _)| *t == s)).map(|(_, op)| *op) {
            self.bump();
            let rhs = self.binary(level + 1)?;
            n = Node::Bin(op, Box::new(n), Box::new(rhs));
        }
        Ok(n)
    }

    fn unary(&mut self) -> Result<Node, String> {
        if matches!(self.sym(), Some("-" | "+" | "~")) {
            self.bump();
            self.unary()?;
            return Ok(Node::Other("UnaryOp"));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, String> {
        let base = self.primary()?;
        if self.sym() == Some("**") {
            self.bump();
            let exp = self.unary()?;
            return Ok(Node::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Node, String> {
        let mut n = self.atom()?;
        loop {
            match self.sym() {
                Some("(") => {
                    self.bump();
                    self.list_until(")")?;
                    n = Node::Other("Call");
                }
                Some("[") => {
                    self.bump();
                    self.list_until("]")?;
                    n = Node::Other("Subscript");
                }
                Some(".") => {
                    self.bump();
                    if !matches!(self.peek(), Some(Tok::Name(_))) {
                        return Err(syntax());
                    }
                    self.bump();
                    n = Node::Other("Attribute");
                }
                _ => return Ok(n),
            }
        }
    }

    /// Comma-separated expressions up to the closing symbol (call arguments, list items, …).
    fn list_until(&mut self, close: &str) -> Result<usize, String> {
        let mut count = 0;
        loop {
            if self.sym() == Some(close) {
                self.bump();
                return Ok(count);
            }
            if self.sym() == Some("*") || self.sym() == Some("**") {
                self.bump();
            }
            self.expr()?;
            // Keyword arguments and dict entries.
            if matches!(self.sym(), Some(":")) || (close == ")" && self.toks.get(self.pos) == Some(&Tok::Sym("="))) {
                self.bump();
                self.expr()?;
            }
            count += 1;
            match self.sym() {
                Some(",") => self.bump(),
                Some(s) if s == close => {}
                _ => return Err(syntax()),
            }
        }
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(tok) = self.peek().cloned() else { return Err(syntax()) };
        self.bump();
        Ok(match tok {
            Tok::Num(v) => Node::Num(v),
            Tok::HugeInt => Node::HugeInt,
            Tok::Imag => Node::OtherConst("complex"),
            Tok::Str => {
                while self.peek() == Some(&Tok::Str) {
                    self.bump();
                }
                Node::OtherConst("str")
            }
            Tok::Name(w) => match w.as_str() {
                "True" => Node::Num(1.0),
                "False" => Node::Num(0.0),
                "None" => Node::OtherConst("NoneType"),
                "lambda" | "if" | "else" | "or" | "and" | "not" | "in" | "is" | "for" | "import" | "def" | "class"
                | "return" | "yield" | "await" | "pass" | "del" | "global" | "while" | "with" | "try" | "raise"
                | "from" | "as" | "assert" | "break" | "continue" | "elif" | "except" | "finally" | "nonlocal" => {
                    return Err(syntax())
                }
                _ => Node::Other("Name"),
            },
            Tok::Sym("(") => {
                if self.sym() == Some(")") {
                    self.bump();
                    return Ok(Node::Other("Tuple"));
                }
                let inner = self.expr()?;
                match self.sym() {
                    Some(")") => {
                        self.bump();
                        inner
                    }
                    Some(",") => {
                        self.bump();
                        self.list_until(")")?;
                        Node::Other("Tuple")
                    }
                    _ => return Err(syntax()),
                }
            }
            Tok::Sym("[") => {
                self.list_until("]")?;
                Node::Other("List")
            }
            Tok::Sym("{") => {
                self.list_until("}")?;
                Node::Other("Dict")
            }
            Tok::Sym(_) => return Err(syntax()),
        })
    }
}

enum EvalError {
    ZeroDivision,
    Invalid(String),
}

fn eval(n: &Node) -> Result<f64, EvalError> {
    match n {
        Node::Num(v) => Ok(*v),
        Node::HugeInt => Err(EvalError::Invalid("int too large to convert to float".into())),
        Node::OtherConst(t) => Err(EvalError::Invalid(format!("Unsupported constant type: {t}"))),
        Node::Other(kind) => Err(EvalError::Invalid(format!("Unsupported operation or expression type: {kind}"))),
        Node::Bin(op, l, r) => {
            if !matches!(op, Op::Add | Op::Sub | Op::Mult | Op::Div | Op::Pow) {
                return Err(EvalError::Invalid(format!("Unsupported binary operator: {}", op.name())));
            }
            let a = eval(l)?;
            let b = eval(r)?;
            match op {
                Op::Add => Ok(a + b),
                Op::Sub => Ok(a - b),
                Op::Mult => Ok(a * b),
                Op::Div => {
                    if b == 0.0 {
                        Err(EvalError::ZeroDivision)
                    } else {
                        Ok(a / b)
                    }
                }
                _ => {
                    if a == 0.0 && b < 0.0 {
                        return Err(EvalError::ZeroDivision);
                    }
                    let v = a.powf(b);
                    if v.is_infinite() && a.is_finite() && b.is_finite() {
                        return Err(EvalError::Invalid("(34, 'Numerical result out of range')".into()));
                    }
                    Ok(v)
                }
            }
        }
    }
}

/// `f"{x:.6f}".rstrip("0").rstrip(".")`.
fn format_result(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Evaluates as Langflow's Calculator: `{"result": "<value>"}` or
/// `{"error": "<text>", "input": "<expression>"}`.
#[must_use]
pub fn evaluate(expression: &str) -> Map<String, Json> {
    let result = (|| {
        if expression.trim().is_empty() {
            return Err(EvalError::Invalid(if expression.is_empty() || !expression.starts_with([' ', '\t']) {
                "invalid syntax (<unknown>, line 0)".into()
            } else {
                "invalid syntax (<unknown>, line 1)".into()
            }));
        }
        if expression.starts_with([' ', '\t', '\x0c']) {
            return Err(EvalError::Invalid("unexpected indent (<unknown>, line 1)".into()));
        }
        let toks = tokenize(expression).map_err(EvalError::Invalid)?;
        let mut p = Parser { toks, pos: 0 };
        let node = p.expr().map_err(EvalError::Invalid)?;
        if p.pos != p.toks.len() {
            return Err(EvalError::Invalid(syntax()));
        }
        eval(&node)
    })();
    let value = match result {
        Ok(v) => json!({"result": format_result(v)}),
        Err(EvalError::ZeroDivision) => json!({"error": "Error: Division by zero", "input": expression}),
        Err(EvalError::Invalid(e)) => json!({"error": format!("Invalid expression: {e}"), "input": expression}),
    };
    match value {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
#[path = "calculator_tests.rs"]
mod tests;
