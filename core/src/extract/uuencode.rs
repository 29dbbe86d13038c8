//! uuencoded files inside a text body (`begin 644 name` … `end`): what old
//! clients, scripts and some scanners' mail-out send instead of a MIME
//! attachment. The recipient's client shows them as attachments, so they are
//! decoded and read like one.

/// One decoded block.
pub struct Block {
    pub name: String,
    pub bytes: Vec<u8>,
    /// The `end` line was missing or a line was malformed: what was decoded
    /// up to there is kept.
    pub truncated: bool,
}

/// A cheap test for the fast paths: does the text have a `begin` line at all?
pub fn may_contain(text: &str) -> bool {
    text.starts_with("begin ") || text.contains("\nbegin ")
}

/// `begin <octal mode> <name>`
fn begin_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("begin ")?;
    let (mode, name) = rest.split_once(' ')?;
    let octal = (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b));
    let name = name.trim();
    (octal && !name.is_empty()).then_some(name)
}

fn value(c: u8) -> Option<u8> {
    // '`' stands for 0 as well as ' '.
    (b' '..=b'`').contains(&c).then(|| (c - b' ') & 0x3F)
}

/// Decodes one data line into `out`; false when it is not a valid line.
fn decode_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    let Some((&first, rest)) = line.split_first() else {
        return false;
    };
    let Some(n) = value(first) else {
        return false;
    };
    let n = n as usize;
    // Some encoders drop trailing blanks: pad the groups.
    let needed = n.div_ceil(3) * 4;
    if rest.len() + 2 < needed {
        return false;
    }
    let mut produced = 0;
    for group in 0..n.div_ceil(3) {
        let mut v = [0u8; 4];
        for (k, slot) in v.iter_mut().enumerate() {
            let c = rest.get(group * 4 + k).copied().unwrap_or(b' ');
            match value(c) {
                Some(x) => *slot = x,
                None => return false,
            }
        }
        let bytes = [
            (v[0] << 2) | (v[1] >> 4),
            (v[1] << 4) | (v[2] >> 2),
            (v[2] << 6) | v[3],
        ];
        for b in bytes {
            if produced < n {
                out.push(b);
                produced += 1;
            }
        }
    }
    true
}

/// Every uuencoded block in `text`, decoding at most `budget` bytes in all
/// (the rest of a block past it is dropped and the block marked truncated).
pub fn blocks(text: &str, budget: u64) -> Vec<Block> {
    let mut found = Vec::new();
    let mut left = budget;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(name) = begin_line(line) else {
            continue;
        };
        let mut block = Block {
            name: name.to_string(),
            bytes: Vec::new(),
            truncated: true,
        };
        for data in lines.by_ref() {
            let data = data.trim_end_matches('\r');
            if data == "end" {
                block.truncated = false;
                break;
            }
            if data == "`" || data.is_empty() {
                continue;
            }
            let before = block.bytes.len();
            if !decode_line(data.as_bytes(), &mut block.bytes) {
                break;
            }
            let got = (block.bytes.len() - before) as u64;
            if got > left {
                block.bytes.truncate(before + left as usize);
                left = 0;
                break;
            }
            left -= got;
        }
        found.push(block);
        if left == 0 {
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic encoder, written out here so the test does not depend on
    /// a tool.
    fn encode(name: &str, data: &[u8]) -> String {
        let ch = |v: u8| if v == 0 { '`' } else { (v + b' ') as char };
        let mut s = format!("begin 644 {name}\n");
        for chunk in data.chunks(45) {
            s.push(ch(chunk.len() as u8));
            for g in chunk.chunks(3) {
                let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
                s.push(ch(b[0] >> 2));
                s.push(ch(((b[0] << 4) | (b[1] >> 4)) & 0x3F));
                s.push(ch(((b[1] << 2) | (b[2] >> 6)) & 0x3F));
                s.push(ch(b[2] & 0x3F));
            }
            s.push('\n');
        }
        s.push_str("`\nend\n");
        s
    }

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = format!("Hej\r\n\r\n{}\r\nMvh\r\n", encode("liste.csv", &data));
        assert!(may_contain(&text));
        let b = blocks(&text, u64::MAX);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].name, "liste.csv");
        assert_eq!(b[0].bytes, data);
        assert!(!b[0].truncated);
    }

    #[test]
    fn budget_and_broken_blocks() {
        let text = encode("a.txt", &[b'x'; 500]);
        let b = blocks(&text, 100);
        assert_eq!(b[0].bytes.len(), 100);
        let cut = &text[..text.len() / 2];
        let b = blocks(cut, u64::MAX);
        assert!(b[0].truncated && !b[0].bytes.is_empty());
        assert!(blocks("begin here\nbegin 644\nbegin 99 x\n", u64::MAX).is_empty());
        let b = blocks("begin 644 x\n\u{7f}\u{7f}\nend\n", u64::MAX);
        assert!(b[0].truncated && b[0].bytes.is_empty());
    }
}
