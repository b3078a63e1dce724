//! Just enough of SQLite's SQL to read the CHECK expressions and UNIQUE indexes of the local
//! schema and write them for PostgreSQL. The translator knows a fixed list of constructs and
//! fails on anything else, so a new CHECK can never be dropped or mistranslated silently.
//!
//! What it translates (SQLite → PostgreSQL), and why each is exact:
//! - columns, `AND` `OR` `NOT` `IS [NOT] NULL` `IN (…)` `BETWEEN`, `=` `==` `<>` `!=` `<` `<=`
//!   `>` `>=`, string and number literals: the same. Text comparisons match SQLite's BINARY
//!   collation because every mirrored text column is `COLLATE "C"` (byte order of UTF-8).
//! - `length(x)` → `char_length(x)` (characters, as SQLite counts text).
//! - `trim(x)` → `btrim(x)` (spaces only, in both).
//! - `json_valid(x)` → `sync.json_valid(x)`; `json_type(x)` → `sync.json_type(x)` (SQLite's
//!   type names; malformed JSON raises, as in SQLite).
//! - `date(x) = x` → `sync.is_date(x)` (a real calendar date written `YYYY-MM-DD`); `date()`
//!   in any other shape is refused.
//! - `x GLOB 'p'` → `(x ~ '^…$')` (case-sensitive; `*` `?` `[…]`).
//! - `x LIKE 'p'` → `(x ~ '^…$')` with ASCII letters matched in either case (SQLite's LIKE is
//!   case-insensitive for ASCII only, so PostgreSQL's `ILIKE` would not be exact); `%` `_`.

use crate::{Result, ServerError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(String),
}

/// A token and where it starts and ends in the source text.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
    pub(crate) fn is_where(&self) -> bool {
        self.is_kw("WHERE")
    }
    fn is(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(s) if s == p)
    }
}

/// Split SQLite SQL into tokens (comments and whitespace dropped). Characters it does not
/// know become one-character punctuation, which the translator refuses.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Tok::Ident(sql[start..i].to_string())
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            Tok::Num(sql[start..i].to_string())
        } else if c == b'\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match sql[i..].find('\'') {
                    None => {
                        return Err(ServerError::Schema(format!("unterminated string in {sql}")))
                    }
                    Some(at) => {
                        s.push_str(&sql[i..i + at]);
                        i += at + 1;
                        if b.get(i) == Some(&b'\'') {
                            s.push('\'');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            Tok::Str(s)
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            if ["<>", "!=", "<=", ">=", "==", "||"].contains(&two) {
                i += 2;
                Tok::Punct(two.to_string())
            } else {
                let ch = sql[i..].chars().next().unwrap_or(' ');
                i += ch.len_utf8();
                Tok::Punct(ch.to_string())
            }
        };
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

/// The index of the `)` that closes the `(` at `open`.
pub(crate) fn closing(tokens: &[Token], open: usize) -> Result<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.tok.is("(") {
            depth += 1;
        } else if t.tok.is(")") {
            depth -= 1;
            if depth == 0 {
                return Ok(i);
            }
        }
    }
    Err(ServerError::Schema("unbalanced parentheses".into()))
}

/// One CHECK of a table: its SQLite text and the columns it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The expression inside `CHECK ( … )`, as SQLite has it.
    pub sqlite: String,
    /// The PostgreSQL expression.
    pub pg: String,
    /// The table's columns it reads, in order of appearance, without repeats.
    pub columns: Vec<String>,
}

/// The CHECK expressions of a `CREATE TABLE` statement (column and table constraints, in the
/// order they are written), translated.
pub(crate) fn checks(table: &str, create_sql: &str, columns: &[String]) -> Result<Vec<Check>> {
    let tokens = tokenize(create_sql)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].tok.is_kw("CHECK") && tokens.get(i + 1).is_some_and(|t| t.tok.is("(")) {
            let close = closing(&tokens, i + 1)?;
            let inner = &tokens[i + 2..close];
            let sqlite = create_sql[tokens[i + 2].start..tokens[close - 1].end].to_string();
            let (pg, cols) = translate(inner, columns).map_err(|e| {
                ServerError::Schema(format!(
                    "cannot translate CHECK ({sqlite}) of table {table}: {e}"
                ))
            })?;
            out.push(Check {
                sqlite,
                pg,
                columns: cols,
            });
            i = close + 1;
        } else {
            i += 1;
        }
    }
    Ok(out)
}

const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN"];

/// Translate an expression (tokens without the surrounding parentheses); also returns the
/// columns it reads. The error names the construct that has no translation.
pub(crate) fn translate(
    tokens: &[Token],
    columns: &[String],
) -> std::result::Result<(String, Vec<String>), String> {
    let is_col = |t: &Tok| matches!(t, Tok::Ident(s) if columns.iter().any(|c| c == s));
    let mut out: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    let mut note = |c: &str| {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.to_string());
        }
    };
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i].tok;
        let next = tokens.get(i + 1).map(|t| &t.tok);
        match t {
            Tok::Ident(name) if is_col(t) => {
                note(name);
                match next {
                    Some(op) if op.is_kw("GLOB") || op.is_kw("LIKE") => {
                        let Some(Tok::Str(pattern)) = tokens.get(i + 2).map(|t| &t.tok) else {
                            return Err(format!("{name} {op:?} needs a string literal pattern"));
                        };
                        let regex = if op.is_kw("GLOB") {
                            glob_regex(pattern)?
                        } else {
                            like_regex(pattern)
                        };
                        out.push(format!("({name} ~ {})", quote(&regex)));
                        i += 3;
                        continue;
                    }
                    _ => out.push(name.clone()),
                }
            }
            Tok::Ident(kw) if KEYWORDS.iter().any(|k| kw.eq_ignore_ascii_case(k)) => {
                out.push(kw.to_ascii_uppercase())
            }
            Tok::Ident(f) if next.is_some_and(|n| n.is("(")) => {
                let close = closing(tokens, i + 1).map_err(|e| e.to_string())?;
                let args = &tokens[i + 2..close];
                let one_arg = !args.is_empty() && !args.iter().any(|a| a.tok.is(","));
                let f = f.to_ascii_lowercase();
                if f == "date" {
                    // Only `date(x) = x`: x is a calendar date in canonical form.
                    match (args, tokens.get(close + 1), tokens.get(close + 2)) {
                        ([a], Some(eq), Some(b))
                            if is_col(&a.tok)
                                && (eq.tok.is("=") || eq.tok.is("=="))
                                && a.tok == b.tok =>
                        {
                            let Tok::Ident(c) = &a.tok else {
                                unreachable!()
                            };
                            note(c);
                            out.push(format!("sync.is_date({c})"));
                            i = close + 3;
                            continue;
                        }
                        _ => return Err("date() is translated only as `date(x) = x`".into()),
                    }
                }
                let pg = match f.as_str() {
                    "length" => "char_length",
                    "trim" => "btrim",
                    "json_valid" => "sync.json_valid",
                    "json_type" => "sync.json_type",
                    other => return Err(format!("no translation for the function {other}()")),
                };
                if !one_arg {
                    return Err(format!("{f}() is translated with one argument only"));
                }
                out.push(format!("{pg}("));
                let (inner, inner_cols) = translate(args, columns)?;
                for c in &inner_cols {
                    note(c);
                }
                out.push(inner);
                out.push(")".into());
                i = close + 1;
                continue;
            }
            Tok::Ident(other) => return Err(format!("no translation for `{other}`")),
            Tok::Str(s) => out.push(quote(s)),
            Tok::Num(n) => out.push(n.clone()),
            Tok::Punct(p) => match p.as_str() {
                "(" | ")" | "," | "=" | "<>" | "<" | "<=" | ">" | ">=" => out.push(p.clone()),
                "==" => out.push("=".into()),
                "!=" => out.push("<>".into()),
                other => return Err(format!("no translation for `{other}`")),
            },
        }
        i += 1;
    }
    // Join without spaces inside parentheses: `f(x)`, `(a, b)`.
    let mut text = String::new();
    for part in out {
        let glue = !(text.is_empty() || text.ends_with('(') || part == ")" || part == ",");
        if glue {
            text.push(' ');
        }
        text.push_str(&part);
    }
    Ok((text, cols))
}

/// A SQL string literal.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

const REGEX_SPECIAL: &str = "\\.^$|()+*?{}[]";

fn escape_char(c: char, out: &mut String) {
    if REGEX_SPECIAL.contains(c) {
        out.push('\\');
    }
    out.push(c);
}

/// SQLite GLOB pattern → an anchored PostgreSQL regular expression (advanced syntax, where
/// `.` also matches a newline, like GLOB's `*`).
pub(crate) fn glob_regex(glob: &str) -> std::result::Result<String, String> {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                let mut empty = true;
                loop {
                    match chars.next() {
                        None => return Err(format!("unterminated [ in GLOB '{glob}'")),
                        Some(']') if !empty => break,
                        Some(k @ (']' | '[' | '\\')) => {
                            return Err(format!(
                                "`{k}` in a GLOB class ('{glob}') is not translated"
                            ))
                        }
                        Some(k) => out.push(k),
                    }
                    empty = false;
                }
                out.push(']');
            }
            other => escape_char(other, &mut out),
        }
    }
    out.push('$');
    Ok(out)
}

/// SQLite LIKE pattern (no ESCAPE) → an anchored regular expression; ASCII letters match in
/// either case, as in SQLite.
pub(crate) fn like_regex(like: &str) -> String {
    let mut out = String::from("^");
    for c in like.chars() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c if c.is_ascii_alphabetic() => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                out.push(']');
            }
            other => escape_char(other, &mut out),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        ["a", "b", "code", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn tr(sql: &str) -> std::result::Result<String, String> {
        translate(&tokenize(sql).unwrap(), &cols()).map(|(s, _)| s)
    }

    #[test]
    fn translates_the_known_constructs() {
        assert_eq!(
            tr("length(trim(a)) > 0").unwrap(),
            "char_length(btrim(a)) > 0"
        );
        assert_eq!(
            tr("code GLOB '[A-Z]*' AND length(code) BETWEEN 2 AND 6").unwrap(),
            "(code ~ '^[A-Z].*$') AND char_length(code) BETWEEN 2 AND 6"
        );
        assert_eq!(tr("a LIKE '$ar_%'").unwrap(), "(a ~ '^\\$[aA][rR]..*$')");
        assert_eq!(
            tr("d IS NULL OR date(d) = d").unwrap(),
            "d IS NULL OR sync.is_date(d)"
        );
        assert_eq!(
            tr("json_valid(a) AND json_type(a) = 'array'").unwrap(),
            "sync.json_valid(a) AND sync.json_type(a) = 'array'"
        );
        assert_eq!(tr("a IN (0, 1)").unwrap(), "a IN (0, 1)");
        assert_eq!(tr("a != 'it''s'").unwrap(), "a <> 'it''s'");
        let (_, c) = translate(&tokenize("b > a OR date(d) = d").unwrap(), &cols()).unwrap();
        assert_eq!(c, ["b", "a", "d"]);
    }

    #[test]
    fn refuses_what_it_cannot_translate() {
        for bad in [
            "lower(a) = a",
            "date(a) > '2020-01-01'",
            "date(a) = b",
            "a + 1 > b",
            "a NOT LIKE 'x%'",
            "a GLOB b",
            "nope > 1",
            "substr(a, 1) = 'x'",
            "a REGEXP 'x'",
            "a COLLATE NOCASE = 'x'",
            "CASE WHEN a THEN 1 END",
            "json_type(a, '$.x') = 'array'",
        ] {
            assert!(tr(bad).is_err(), "{bad} was translated: {:?}", tr(bad));
        }
    }

    #[test]
    fn checks_are_read_from_create_table() {
        let sql = "CREATE TABLE t (a TEXT NOT NULL CHECK (length(a) > 0), b INTEGER DEFAULT 1 CHECK (b IN (0, 1)), code TEXT, d TEXT, CHECK (b >= 0 AND (a <> 'x'))) STRICT";
        let c = checks("t", sql, &cols()).unwrap();
        let texts: Vec<_> = c.iter().map(|c| c.sqlite.as_str()).collect();
        assert_eq!(
            texts,
            ["length(a) > 0", "b IN (0, 1)", "b >= 0 AND (a <> 'x')"]
        );
        assert_eq!(c[2].pg, "b >= 0 AND (a <> 'x')");
        let err = checks("t", "CREATE TABLE t (a TEXT CHECK (upper(a) = a))", &cols()).unwrap_err();
        assert!(err.to_string().contains("upper"), "{err}");
    }
}
