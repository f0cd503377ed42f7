//! `--path` syntax, and map keys as the paths (and `check`'s problem reports) spell them.
//!
//! A path is `root` followed by steps: `.name` (a field, an element index, or a map key
//! written bare) and `[...]` (an index, or a key written as a Rust literal):
//!
//! ```text
//! root.accounts[7].owner      root.scores.bob.0      root.items[3]
//! root.by_name["ada"]         root.by_score[(187, 27)]   root.by_letter['λ']
//! ```
//!
//! Keys are integers, `bool`, `char`, strings, fieldless enum variants (by name) and
//! tuples of those. A path names a key the way `check` prints it, so a path from a
//! problem report can be pasted into `dump --path`.

use std::fmt;

type R<T> = Result<T, String>;

/// One step of a path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// `.name`: a field, an index, or a key written bare.
    Name(String),
    /// `[...]`: an index or a key literal, as written between the brackets.
    Bracket(String),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Name(n) => write!(f, ".{n}"),
            Step::Bracket(b) => write!(f, "[{b}]"),
        }
    }
}

/// A map key: read from the pool, or parsed from a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    /// An integer, in decimal.
    Num(String),
    Bool(bool),
    Char(char),
    Str(String),
    Tuple(Vec<Key>),
    /// A word: an enum variant's name as stored, or a bare key in a path (which matches
    /// a string, number, `bool`, `char` or variant of the same spelling).
    Word(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Num(n) => f.write_str(n),
            Key::Bool(b) => write!(f, "{b}"),
            Key::Char(c) => write!(f, "{c:?}"),
            Key::Str(s) => write!(f, "{s:?}"),
            Key::Word(w) => f.write_str(w),
            Key::Tuple(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str(if parts.len() == 1 { ",)" } else { ")" })
            }
        }
    }
}

impl Key {
    /// Whether this key, written in a path, names the stored key `stored`.
    pub(crate) fn names(&self, stored: &Key) -> bool {
        match (self, stored) {
            (Key::Word(w), Key::Str(s) | Key::Word(s)) => w == s,
            (Key::Word(w) | Key::Str(w), Key::Char(c)) => w.chars().eq(std::iter::once(*c)),
            (Key::Word(w), Key::Num(n)) => number(w).as_ref() == Some(n),
            (Key::Word(w), Key::Bool(b)) => *w == b.to_string(),
            // `[7]` names the string key "7" as it always did.
            (Key::Num(n), Key::Str(s)) => n == s,
            (Key::Tuple(a), Key::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.names(b))
            }
            (a, b) => a == b,
        }
    }

    /// The key written between brackets: a literal, or failing that a bare word.
    pub(crate) fn parse(text: &str) -> R<Key> {
        let t = text.trim();
        let mut p = Literal {
            s: t.as_bytes(),
            i: 0,
        };
        match p.value() {
            Ok(k) if p.at_end() => Ok(k),
            _ if t.starts_with(['"', '\'', '(']) => Err(format!(
                "[{text}] is not a key literal (\"text\", 'c', 7, true, (1, \"a\"))"
            )),
            _ => Ok(Key::Word(t.to_string())),
        }
    }
}

/// `w` as a canonical decimal integer, if it is one.
fn number(w: &str) -> Option<String> {
    let w = w.replace('_', "");
    if let Ok(u) = w.parse::<u128>() {
        return Some(u.to_string());
    }
    w.parse::<i128>().ok().map(|i| i.to_string())
}

/// A recursive-descent reader of key literals.
struct Literal<'a> {
    s: &'a [u8],
    i: usize,
}

impl Literal<'_> {
    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.i == self.s.len()
    }

    fn skip_space(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn rest(&self) -> &str {
        std::str::from_utf8(&self.s[self.i..]).unwrap_or("")
    }

    fn value(&mut self) -> R<Key> {
        self.skip_space();
        match self.s.get(self.i) {
            Some(b'"') => {
                self.i += 1;
                self.quoted(b'"').map(Key::Str)
            }
            Some(b'\'') => {
                self.i += 1;
                let s = self.quoted(b'\'')?;
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Ok(Key::Char(c)),
                    _ => Err(format!("'{s}' is not one character")),
                }
            }
            Some(b'(') => {
                self.i += 1;
                let mut parts = Vec::new();
                loop {
                    self.skip_space();
                    if self.s.get(self.i) == Some(&b')') {
                        self.i += 1;
                        return Ok(Key::Tuple(parts));
                    }
                    parts.push(self.value()?);
                    self.skip_space();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b')') => {}
                        _ => return Err("expected , or ) in a tuple".into()),
                    }
                }
            }
            Some(_) => {
                let word: String = self
                    .rest()
                    .chars()
                    .take_while(|c| {
                        !matches!(c, ',' | ')' | '(' | '"' | '\'') && !c.is_whitespace()
                    })
                    .collect();
                self.i += word.len();
                if word == "true" || word == "false" {
                    Ok(Key::Bool(word == "true"))
                } else if let Some(n) = number(&word) {
                    Ok(Key::Num(n))
                } else if word.is_empty() {
                    Err("expected a key".into())
                } else {
                    Ok(Key::Word(word))
                }
            }
            None => Err("expected a key".into()),
        }
    }

    /// The rest of a quoted literal, after its opening `end`.
    fn quoted(&mut self, end: u8) -> R<String> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                c if c == char::from(end) => {
                    self.i += at + 1;
                    return Ok(out);
                }
                '\\' => out.push(match chars.next().map(|(_, c)| c) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('0') => '\0',
                    Some(c @ ('\\' | '"' | '\'')) => c,
                    other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
                }),
                c => out.push(c),
            }
        }
        Err("unclosed quote".into())
    }
}

/// Splits `root.a[3]["x.y"].b` into its steps (a leading `root` is dropped).
pub(crate) fn split(path: &str) -> R<Vec<Step>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    let mut after_bracket = false;
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !after_bracket {
                    out.push(Step::Name(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() || (!after_bracket && out.is_empty()) {
                    out.push(Step::Name(std::mem::take(&mut cur)));
                }
                let mut inner = String::new();
                // The closing bracket is the first `]` outside quotes.
                let mut quote = None;
                loop {
                    let Some(c) = chars.next() else {
                        return Err("unclosed [".into());
                    };
                    match (quote, c) {
                        (None, ']') => break,
                        (None, '"' | '\'') => quote = Some(c),
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), '\\') => {
                            inner.push(c);
                            if let Some(n) = chars.next() {
                                inner.push(n);
                            }
                            continue;
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                if inner.trim().is_empty() {
                    return Err("empty []".into());
                }
                out.push(Step::Bracket(inner));
                after_bracket = true;
                continue;
            }
            c => {
                if after_bracket {
                    return Err(format!("expected . or [ after ], found {c:?}"));
                }
                cur.push(c);
            }
        }
        after_bracket = false;
    }
    if !after_bracket {
        out.push(Step::Name(cur));
    }
    if out
        .iter()
        .any(|s| matches!(s, Step::Name(n) if n.is_empty()))
    {
        return Err("a step is empty (two dots, or a dot at an end)".into());
    }
    if matches!(out.first(), Some(Step::Name(n)) if n == "root") {
        out.remove(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{split, Key, Step};

    fn names(path: &str) -> Vec<String> {
        split(path)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn paths_split_on_dots_and_brackets() {
        assert_eq!(
            names("root.accounts[7].owner"),
            [".accounts", "[7]", ".owner"]
        );
        assert_eq!(
            names("root.names[\"a.b]\"].x"),
            [".names", "[\"a.b]\"]", ".x"]
        );
        assert_eq!(
            names("root.by_score[(187, 27)]"),
            [".by_score", "[(187, 27)]"]
        );
        assert_eq!(
            names("root.m[(\"a)]\", ']')][1]"),
            [".m", "[(\"a)]\", ']')]", "[1]"]
        );
        assert_eq!(names("root"), Vec::<String>::new());
        assert_eq!(names("items.0"), [".items", ".0"]);
        assert_eq!(split("root[3]").unwrap(), [Step::Bracket("3".into())]);
        for bad in [
            "root..x",
            "root[3",
            "root.",
            "root[]",
            "root[1]x",
            "root[\"a]",
        ] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_parse_as_rust_literals_and_fall_back_to_words() {
        let tuple = |k: Vec<Key>| Key::Tuple(k);
        assert_eq!(Key::parse("187").unwrap(), Key::Num("187".into()));
        assert_eq!(Key::parse("-3").unwrap(), Key::Num("-3".into()));
        assert_eq!(Key::parse("\"a\\\"b\"").unwrap(), Key::Str("a\"b".into()));
        assert_eq!(Key::parse("'λ'").unwrap(), Key::Char('λ'));
        assert_eq!(
            Key::parse(" (187,27) ").unwrap(),
            tuple(vec![Key::Num("187".into()), Key::Num("27".into())])
        );
        assert_eq!(
            Key::parse("(1, (\"x\", true),)").unwrap(),
            tuple(vec![
                Key::Num("1".into()),
                tuple(vec![Key::Str("x".into()), Key::Bool(true)])
            ])
        );
        assert_eq!(
            Key::parse("ada lovelace").unwrap(),
            Key::Word("ada lovelace".into())
        );
        assert!(Key::parse("(1, 2").is_err());
        assert!(Key::parse("\"open").is_err());
        assert!(Key::parse("'ab'").is_err());
    }

    #[test]
    fn a_key_prints_as_a_path_names_it() {
        for k in [
            Key::Num("7".into()),
            Key::Str("a \"q\"".into()),
            Key::Char('\''),
            Key::Tuple(vec![Key::Num("187".into()), Key::Str("x".into())]),
            Key::Tuple(vec![Key::Bool(false)]),
        ] {
            assert!(Key::parse(&k.to_string()).unwrap().names(&k), "{k}");
        }
        assert!(Key::Word("bob".into()).names(&Key::Str("bob".into())));
        assert!(Key::Word("07".into()).names(&Key::Num("7".into())));
        assert!(!Key::Str("7".into()).names(&Key::Num("7".into())));
    }
}
