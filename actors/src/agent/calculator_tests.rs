//! The calculator's grammar, quirks and output format.
#![allow(clippy::unwrap_used)]

use super::*;

fn result(e: &str) -> String {
    let m = evaluate(e);
    m.get("result").or_else(|| m.get("error")).and_then(Json::as_str).unwrap().to_owned()
}

#[test]
fn spec_examples() {
    for (e, r) in [
        ("3*(120+45.5)/2", "248.25"),
        ("2**10 - 7/2", "1020.5"),
        ("2 ** 3 ** 2", "512"),
        ("0x10 + 1", "17"),
        ("(1+2)*3", "9"),
        ("1e400", "inf"),
        ("1 < 2", "Invalid expression: Unsupported operation or expression type: Compare"),
        ("(1+2", "Invalid expression: '(' was never closed (<unknown>, line 1)"),
        ("1+2)", "Invalid expression: unmatched ')' (<unknown>, line 1)"),
        ("None", "Invalid expression: Unsupported constant type: NoneType"),
        ("1+2   ", "3"),
        ("3 % (1/0)", "Invalid expression: Unsupported binary operator: Mod"),
        ("1/0 + x", "Error: Division by zero"),
    ] {
        assert_eq!(result(e), r, "{e}");
    }
    assert_eq!(result("2**1000").len(), 302);
}
