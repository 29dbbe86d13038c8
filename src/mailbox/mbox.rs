//! Streaming mbox reader: one message at a time, so an archive of any size
//! is read in bounded memory.
//!
//! A message starts at a `From ` line that follows an empty line (or opens
//! the file). Quoted lines (`>From `, `>>From ` …) lose one `>`: that undoes
//! mboxrd quoting exactly and mboxo quoting as well as it can be undone.
//! When a message's headers carry `Content-Length`, a `From ` line inside
//! that many body bytes belongs to the body (the mboxcl convention, which
//! does not quote); a Content-Length that disagrees with the message's
//! actual length is counted, and the message ends at the `From ` line.

use std::io::{self, BufRead};

/// Bytes of each line kept aside to recognise separators and headers.
const HEAD_BYTES: usize = 256;

/// One message out of an mbox.
#[derive(Debug, Default)]
pub struct MboxMessage {
    /// The message, without its `From ` line, unquoted, at most the reader's cap.
    pub bytes: Vec<u8>,
    /// The message's full length (more than `bytes.len()` when capped).
    pub size: u64,
    /// The separator line (its first bytes), which carries the delivery date.
    pub from_line: Vec<u8>,
}

pub struct MboxReader<R> {
    input: R,
    cap: usize,
    /// The separator line that opens the next message, once read.
    next_from: Option<Vec<u8>>,
    done: bool,
    /// Messages whose Content-Length header did not match their length.
    pub content_length_mismatches: u64,
}

impl<R: BufRead> MboxReader<R> {
    /// Reads messages from `input`, keeping at most `cap` bytes of each (the
    /// rest is read past, and `size` says how long it was).
    pub fn new(input: R, cap: usize) -> Self {
        MboxReader {
            input,
            cap,
            next_from: None,
            done: false,
            content_length_mismatches: 0,
        }
    }

    /// The next message, `None` at the end of the input.
    pub fn next_message(&mut self) -> io::Result<Option<MboxMessage>> {
        if self.done {
            return Ok(None);
        }
        let mut scratch = Vec::new();
        let from_line = match self.next_from.take() {
            Some(l) => l,
            None => {
                let mut head = Vec::new();
                if read_line(&mut self.input, &mut scratch, 0, &mut head)?.is_none() {
                    self.done = true;
                    return Ok(None);
                }
                if !head.starts_with(b"From ") {
                    self.done = true;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "not an mbox: the first line is not a From line",
                    ));
                }
                head
            }
        };
        let mut msg = MboxMessage {
            from_line,
            ..Default::default()
        };
        let mut in_headers = true;
        let mut content_length: Option<u64> = None;
        let mut body_len: u64 = 0;
        let mut prev_blank_len: Option<usize> = None;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        loop {
            let line_start = msg.bytes.len();
            head.clear();
            let Some(mut n) = read_line(&mut self.input, &mut msg.bytes, self.cap, &mut head)?
            else {
                self.done = true;
                break;
            };
            if let (Some(blank), true) = (prev_blank_len, head.starts_with(b"From ")) {
                let body_before = body_len.saturating_sub(blank as u64);
                if content_length.is_none_or(|cl| body_before >= cl) {
                    self.next_from = Some(std::mem::take(&mut head));
                    // The empty line before a separator belongs to the mbox
                    // (unless the message was capped: its bytes stay as cut).
                    let whole = msg.size == line_start as u64;
                    msg.bytes.truncate(if whole {
                        line_start - blank
                    } else {
                        line_start
                    });
                    msg.size -= blank as u64;
                    body_len = body_before;
                    break;
                }
            }
            if is_quoted_from(&head) {
                if line_start < msg.bytes.len() {
                    msg.bytes.remove(line_start);
                }
                n -= 1;
            }
            msg.size += n as u64;
            let blank = head == b"\n" || head == b"\r\n";
            if in_headers {
                if blank {
                    in_headers = false;
                } else if let Some(v) = header_value(&head, b"content-length") {
                    content_length = std::str::from_utf8(v.trim_ascii())
                        .ok()
                        .and_then(|t| t.parse().ok());
                }
            } else {
                body_len += n as u64;
            }
            prev_blank_len = blank.then_some(n);
        }
        if let Some(cl) = content_length {
            // Writers differ on counting the final newline.
            if body_len.abs_diff(cl) > 2 {
                self.content_length_mismatches += 1;
            }
        }
        Ok(Some(msg))
    }
}

fn is_quoted_from(head: &[u8]) -> bool {
    let unquoted = head.iter().position(|&b| b != b'>').unwrap_or(head.len());
    unquoted > 0 && head[unquoted..].starts_with(b"From ")
}

/// The value of header `name` (lower case) if `line` is that header.
pub fn header_value<'l>(line: &'l [u8], name: &[u8]) -> Option<&'l [u8]> {
    let rest = line.get(name.len()..)?;
    (line[..name.len()].eq_ignore_ascii_case(name) && rest.first() == Some(&b':'))
        .then(|| &rest[1..])
}

/// Reads one line (through its `\n`, or to the end of input): appends it to
/// `sink` while `sink` is shorter than `cap`, and its first bytes to `head`.
/// Returns the line's length, `None` at the end of input. A line of any
/// length costs no more memory than `cap`.
pub fn read_line(
    input: &mut impl BufRead,
    sink: &mut Vec<u8>,
    cap: usize,
    head: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    let mut n = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((n > 0).then_some(n));
        }
        let (take, ends) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let chunk = &buf[..take];
        if head.len() < HEAD_BYTES {
            head.extend_from_slice(&chunk[..(HEAD_BYTES - head.len()).min(take)]);
        }
        if sink.len() < cap {
            sink.extend_from_slice(&chunk[..(cap - sink.len()).min(take)]);
        }
        input.consume(take);
        n += take;
        if ends {
            return Ok(Some(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], cap: usize) -> (Vec<MboxMessage>, u64) {
        let mut r = MboxReader::new(io::BufReader::with_capacity(7, data), cap);
        let mut out = Vec::new();
        while let Some(m) = r.next_message().unwrap() {
            out.push(m);
        }
        (out, r.content_length_mismatches)
    }

    #[test]
    fn messages_split_at_separators_and_quoting_is_undone() {
        let data = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: 1\n\n>From here\n>>From there\nFrom inside\n\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: 2\n\nx\n";
        let (m, _) = read_all(data, 1 << 20);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].bytes,
            b"Subject: 1\n\nFrom here\n>From there\nFrom inside\n"
        );
        assert_eq!(m[0].size, m[0].bytes.len() as u64);
        assert!(m[0].from_line.starts_with(b"From a@b"));
        assert_eq!(m[1].bytes, b"Subject: 2\n\nx\n");
    }

    #[test]
    fn content_length_keeps_an_unquoted_from_line_in_the_body() {
        let body = b"line\n\nFrom the body\n";
        let data = [
            b"From a@b Mon Jan  1 00:00:00 2024\nSubject: 1\nContent-Length: ".as_slice(),
            body.len().to_string().as_bytes(),
            b"\n\n",
            body,
            b"\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: 2\nContent-Length: 999\n\nx\n",
        ]
        .concat();
        let (m, mismatches) = read_all(&data, 1 << 20);
        assert_eq!(m.len(), 2);
        assert!(
            m[0].bytes.ends_with(b"\n\nFrom the body\n"),
            "{:?}",
            String::from_utf8_lossy(&m[0].bytes)
        );
        assert_eq!(
            mismatches, 1,
            "the second message's Content-Length is wrong"
        );
    }

    #[test]
    fn capped_messages_keep_their_size_and_the_next_separator() {
        let mut data = b"From a@b x\nSubject: big\n\n".to_vec();
        data.extend(std::iter::repeat_n(b'a', 100_000));
        data.extend(b"\n\nFrom c@d y\nSubject: 2\n\nx\n");
        let (m, _) = read_all(&data, 1000);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].bytes.len(), 1000);
        assert_eq!(m[0].size, "Subject: big\n\n".len() as u64 + 100_001);
        assert_eq!(m[1].bytes, b"Subject: 2\n\nx\n");
    }

    #[test]
    fn a_file_without_a_from_line_is_refused() {
        let mut r = MboxReader::new(&b"Subject: x\n\nbody\n"[..], 100);
        assert!(r.next_message().is_err());
        assert!(r.next_message().unwrap().is_none());
    }
}
