//! The one CSV writer of every export (RFC 4180, CRLF line ends).
//!
//! Text cells a spreadsheet would run as a formula (starting with `=`, `+`,
//! `-`, `@`, tab or carriage return) get a leading `'`; a cell is quoted
//! whenever its content (after that prefix) holds a comma, a quote or a line
//! break. Numeric cells are written as numbers and never neutralised, so a
//! spreadsheet can still sum `-1`.

use std::fmt::Write as _;

/// One cell of a row.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Num(i64),
    /// A number that may be missing (an empty cell).
    OptNum(Option<i64>),
}

/// Appends a text cell.
pub fn text(out: &mut String, text: &str) {
    let neutralise = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if quote {
        out.push('"');
    }
    if neutralise {
        out.push('\'');
    }
    if quote {
        // Whole runs between quotes at once; each quote doubled.
        let mut parts = text.split('"');
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for part in parts {
            out.push_str("\"\"");
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// Appends a numeric cell in base 10 (nothing for `None`).
pub fn num(out: &mut String, n: Option<i64>) {
    if let Some(n) = n {
        let _ = write!(out, "{n}");
    }
}

/// Appends one cell.
pub fn cell(out: &mut String, c: Cell<'_>) {
    match c {
        Cell::Text(t) => text(out, t),
        Cell::Num(n) => num(out, Some(n)),
        Cell::OptNum(n) => num(out, n),
    }
}

/// Appends a row of cells and its CRLF.
pub fn row(out: &mut String, cells: &[Cell<'_>]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        cell(out, *c);
    }
    out.push_str("\r\n");
}

/// Appends a header row (column names are text cells).
pub fn header(out: &mut String, columns: &[&str]) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        text(out, c);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        let mut out = String::new();
        text(&mut out, s);
        out
    }

    #[test]
    fn text_cells_starting_like_formulas_are_neutralised() {
        for (input, want) in [
            ("=1+1", "'=1+1"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2", "'-2"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(t(input), want, "{input:?}");
        }
    }

    #[test]
    fn cells_are_quoted_when_needed_also_after_neutralising() {
        assert_eq!(t("a,b"), "\"a,b\"");
        assert_eq!(t("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(t("two\nlines"), "\"two\nlines\"");
        assert_eq!(t("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(t("\rx"), "\"'\rx\"");
        assert_eq!(t("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn numbers_are_written_as_numbers() {
        let mut out = String::new();
        row(
            &mut out,
            &[
                Cell::Num(-1),
                Cell::OptNum(None),
                Cell::OptNum(Some(-42)),
                Cell::Text("-1"),
            ],
        );
        assert_eq!(out, "-1,,-42,'-1\r\n");
    }
}
