//! Page content streams to text, one token at a time.
//!
//! Only text state is kept: the current font, the last line position and
//! the operands of the operator being read. A content stream of tens of MiB
//! (vector maps and plans, or a crafted repetition of operators) costs its
//! bytes and one pass, never an object tree. Every operator is counted
//! against the document's budget, and the caller's `stop` is asked after
//! each one (it checks the budget and the deadline).
//!
//! Text-showing operators: `Tj`, `'`, `"` and `TJ`. In a `TJ` array the
//! numbers are kerning: small ones (a number typeset with tight spacing)
//! join, large negative ones are word gaps and become a space. Line moves
//! become line breaks only when the line actually changes, so a number drawn
//! in two pieces on the same line stays whole.

use std::collections::BTreeMap;

use lopdf::{Document, Encoding};

/// A `TJ` displacement (thousandths of an em) below this is a word gap.
const WORD_GAP: f32 = -180.0;
/// Operands kept before an operator: real operators take at most six, so
/// more is junk and the oldest are dropped (memory stays bounded).
const MAX_OPERANDS: usize = 64;
/// Distinct XObjects one content stream may draw that are remembered.
const MAX_DRAWN: usize = 256;

/// One operand; only what text operators need is kept.
#[derive(Debug, PartialEq)]
enum Operand {
    Number(f32),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    /// Booleans, null, dictionaries: not needed for text.
    Other,
}

/// Why reading stopped early.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stopped {
    /// The caller's `stop` said so (budget or deadline).
    Asked,
}

/// The text of one page whose content streams are fed in order.
pub(super) struct PageText<'f, 'd> {
    fonts: &'f BTreeMap<Vec<u8>, Encoding<'d>>,
    font: Option<&'f Encoding<'d>>,
    line_y: Option<f32>,
    operands: Vec<Operand>,
    pub text: String,
    /// Names of the XObjects drawn (`Do`), in first-drawn order: forms among
    /// them hold text of their own.
    pub drawn: Vec<Vec<u8>>,
}

impl<'f, 'd> PageText<'f, 'd> {
    pub fn new(fonts: &'f BTreeMap<Vec<u8>, Encoding<'d>>) -> Self {
        PageText {
            fonts,
            font: None,
            line_y: None,
            operands: Vec::new(),
            text: String::new(),
            drawn: Vec::new(),
        }
    }

    /// Reads one content stream; `stop` is called after every operator.
    pub fn feed(&mut self, data: &[u8], stop: &mut dyn FnMut() -> bool) -> Result<(), Stopped> {
        let mut lexer = Lexer { data, pos: 0 };
        while let Some(token) = lexer.next_token() {
            match token {
                Token::Operand(o) => {
                    if self.operands.len() == MAX_OPERANDS {
                        self.operands.remove(0);
                    }
                    self.operands.push(o);
                }
                Token::Operator(op) => {
                    if op == b"BI" {
                        lexer.skip_inline_image();
                    } else {
                        self.operator(op);
                    }
                    self.operands.clear();
                    if stop() {
                        return Err(Stopped::Asked);
                    }
                }
            }
        }
        self.operands.clear();
        Ok(())
    }

    fn operator(&mut self, op: &[u8]) {
        match op {
            b"Tf" => {
                self.font = match self.operands.first() {
                    Some(Operand::Name(n)) => self.fonts.get(n),
                    _ => None,
                };
            }
            b"BT" => self.line_y = None,
            b"ET" | b"T*" => self.newline(),
            b"Td" | b"TD" => {
                if matches!(self.operands.get(1), Some(Operand::Number(dy)) if dy.abs() > 0.01) {
                    self.newline();
                }
            }
            b"Tm" => {
                let y = match self.operands.get(5) {
                    Some(Operand::Number(y)) => Some(*y),
                    _ => None,
                };
                if self.line_y.is_some() && y.is_some() && y != self.line_y {
                    self.newline();
                }
                self.line_y = y;
            }
            b"Do" => {
                if let Some(Operand::Name(n)) = self.operands.first() {
                    if self.drawn.len() < MAX_DRAWN && !self.drawn.contains(n) {
                        self.drawn.push(n.clone());
                    }
                }
            }
            b"Tj" => self.show_operand(0),
            b"'" => {
                self.newline();
                self.show_operand(0);
            }
            b"\"" => {
                self.newline();
                self.show_operand(2);
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = self.operands.first() {
                    for item in items {
                        match item {
                            Operand::Number(n) if *n < WORD_GAP => self.text.push(' '),
                            Operand::Str(s) => show(&mut self.text, self.font, s),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn show_operand(&mut self, i: usize) {
        if let Some(Operand::Str(s)) = self.operands.get(i) {
            show(&mut self.text, self.font, s);
        }
    }

    fn newline(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

fn show(out: &mut String, font: Option<&Encoding<'_>>, bytes: &[u8]) {
    match font.map(|enc| Document::decode_text(enc, bytes)) {
        Some(Ok(s)) => out.push_str(&s),
        // No usable font encoding: most simple fonts keep ASCII digits where
        // they are, so Latin-1 is the best guess.
        _ => out.extend(bytes.iter().map(|&b| b as char)),
    }
}

enum Token<'a> {
    Operand(Operand),
    Operator(&'a [u8]),
}

/// The PDF content-stream lexer (ISO 32000-1 §7.2, §7.3), tolerant of junk:
/// anything it cannot read is skipped a byte at a time, never an error.
struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_space(b) && !is_delimiter(b)
}

/// Arrays nest at most this deep in what is kept (deeper is skipped).
const MAX_ARRAY_DEPTH: usize = 8;

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_space_and_comments(&mut self) {
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(b) = self.peek() {
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            self.skip_space_and_comments();
            let b = self.peek()?;
            match b {
                b'[' => {
                    self.pos += 1;
                    return Some(Token::Operand(self.array(1)));
                }
                // A stray closer or brace: skip it.
                b']' | b')' | b'{' | b'}' => self.pos += 1,
                b'>' => {
                    self.pos += 1;
                    if self.peek() == Some(b'>') {
                        self.pos += 1;
                    }
                }
                _ => {
                    if let Some(o) = self.operand() {
                        return Some(Token::Operand(o));
                    }
                    let start = self.pos;
                    while self.peek().is_some_and(is_regular) {
                        self.pos += 1;
                    }
                    let word = &self.data[start..self.pos];
                    match word {
                        b"true" | b"false" | b"null" => {
                            return Some(Token::Operand(Operand::Other))
                        }
                        _ => return Some(Token::Operator(word)),
                    }
                }
            }
        }
    }

    /// A number, string, name or dictionary opener at `pos`; `None` (with
    /// nothing consumed) for an operator word.
    fn operand(&mut self) -> Option<Operand> {
        let b = self.peek()?;
        match b {
            b'(' => {
                self.pos += 1;
                Some(Operand::Str(self.literal_string()))
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                // Dictionaries (marked-content properties) are not text:
                // the opener is an operand, its keys and values follow as
                // names and numbers that the next operator discards.
                self.pos += 2;
                Some(Operand::Other)
            }
            b'<' => {
                self.pos += 1;
                Some(Operand::Str(self.hex_string()))
            }
            b'/' => {
                self.pos += 1;
                Some(Operand::Name(self.name()))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| matches!(c, b'+' | b'-' | b'.' | b'0'..=b'9'))
                {
                    self.pos += 1;
                }
                let n = std::str::from_utf8(&self.data[start..self.pos])
                    .ok()
                    .and_then(|s| s.parse::<f32>().ok());
                Some(n.map_or(Operand::Other, Operand::Number))
            }
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Operand {
        let mut items = Vec::new();
        loop {
            self.skip_space_and_comments();
            match self.peek() {
                None => break,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                Some(b'[') => {
                    self.pos += 1;
                    let inner = self.array(depth + 1);
                    if depth < MAX_ARRAY_DEPTH {
                        items.push(inner);
                    }
                }
                Some(_) => match self.operand() {
                    Some(o) => items.push(o),
                    // An operator word inside an array is junk: skip it.
                    None => {
                        let start = self.pos;
                        while self.peek().is_some_and(is_regular) {
                            self.pos += 1;
                        }
                        if self.pos == start {
                            self.pos += 1;
                        }
                    }
                },
            }
        }
        Operand::Array(items)
    }

    /// After `(`: up to the balancing `)`, escapes decoded.
    fn literal_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => self.escape(&mut out),
                _ => out.push(b),
            }
        }
        out
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(b) = self.peek() else {
            return;
        };
        self.pos += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut v = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            // A backslash at the end of a line continues the string.
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }

    /// After `<`: hex digits up to `>`, whitespace ignored, an odd final
    /// digit padded with 0.
    fn hex_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.pos += 1;
            let v = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => continue,
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    /// After `/`: regular characters, `#xx` escapes decoded.
    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.peek().filter(|&b| is_regular(b)) {
            self.pos += 1;
            if b == b'#' {
                let hex = self.data.get(self.pos..self.pos + 2);
                if let Some(v) = hex
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(v);
                    self.pos += 2;
                    continue;
                }
            }
            out.push(b);
        }
        out
    }

    /// After `BI`: the image dictionary, `ID`, the binary data up to `EI`
    /// (preceded by whitespace, followed by whitespace or the end).
    fn skip_inline_image(&mut self) {
        let Some(id) = find(&self.data[self.pos..], b"ID") else {
            self.pos = self.data.len();
            return;
        };
        let mut at = self.pos + id + 2;
        loop {
            let Some(ei) = find(&self.data[at..], b"EI") else {
                self.pos = self.data.len();
                return;
            };
            let start = at + ei;
            let end = start + 2;
            let before = start > 0 && is_space(self.data[start - 1]);
            let after = self.data.get(end).is_none_or(|&b| !is_regular(b));
            if before && after {
                self.pos = end;
                return;
            }
            at = end;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(content: &[u8]) -> String {
        let fonts = BTreeMap::new();
        let mut page = PageText::new(&fonts);
        page.feed(content, &mut || false).unwrap();
        page.text
    }

    #[test]
    fn show_operators_and_kerning() {
        let t = text_of(b"BT /F1 12 Tf 72 700 Td (CPR 2410) Tj [(85) 20 (-1337)] TJ ET");
        assert_eq!(t, "CPR 241085-1337\n");
        let t = text_of(b"BT [(Navn) -300 (Jens)] TJ 0 -14 Td (linje\\0502\\051) Tj ET");
        assert_eq!(t, "Navn Jens\nlinje(2)\n");
    }

    #[test]
    fn strings_hex_names_comments_and_inline_images() {
        let t = text_of(
            b"% comment (not text) Tj\nBT <3234313038352d31333337> Tj ET \
BI /W 2 /H 2 /BPC 8 ID \x00(junk) Tj EI Q BT (a\\\nb) ' /Na#6De 1 0 0 1 0 0 cm <</MCID 0>> BDC (x) Tj EMC ET",
        );
        assert_eq!(t, "241085-1337\nabx\n");
    }

    #[test]
    fn junk_never_fails_and_stop_is_obeyed() {
        let _ = text_of(b")))]]]>>>{{}}<<<((\\");
        let _ = text_of(b"[[[[[[[[[[[[[[(a) Tj");
        let _ = text_of(b"BI ID no end");
        let fonts = BTreeMap::new();
        let mut page = PageText::new(&fonts);
        let mut ops = 0;
        let r = page.feed(b"q Q q Q q Q (a) Tj", &mut || {
            ops += 1;
            ops == 3
        });
        assert_eq!(r, Err(Stopped::Asked));
        assert_eq!(ops, 3);
        assert!(page.text.is_empty());
    }
}
