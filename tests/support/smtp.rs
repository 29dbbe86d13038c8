//! A small blocking SMTP client over `std::net::TcpStream`, for tests.
//!
//! Every reply is kept whole — all lines of a multi-line reply, exactly as the
//! server sent them (minus CRLF) — so tests can assert what a real client
//! would show its user at each step.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Longer than every Postfix milter timeout configured by the harness, so a
/// slow milter shows up as Postfix's own reply rather than a client timeout.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REPLY_LINES: usize = 100;
const MAX_LINE_BYTES: usize = 4096;

/// One SMTP reply, possibly multi-line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The raw lines, e.g. `["550-5.7.1 Afvist ...", "550 5.7.1 Reference ..."]`.
    pub lines: Vec<String>,
}

impl Reply {
    /// The reference (queue id, or the milter's own before the MTA has one)
    /// at the end of a cpr-milter reply's last line: `... - ref ID`.
    pub fn reference(&self) -> String {
        let last = self.lines.last().expect("reply has lines");
        let (_, id) = last
            .rsplit_once(" - ref ")
            .unwrap_or_else(|| panic!("no reference in the last line of:\n{}", self.text()));
        id.split_whitespace().next().unwrap_or("").to_string()
    }

    /// All lines joined with CRLF, as on the wire (without the final CRLF).
    pub fn text(&self) -> String {
        self.lines.join("\r\n")
    }

    /// The lines without the `ddd-`/`ddd ` prefix.
    pub fn messages(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(|l| l.get(4..).unwrap_or(""))
            .collect()
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// True when 127.0.0.1:`port` answers with a 220 greeting that holds
/// `token` (the instance's own banner, not another process on the port).
pub fn greets_with(port: u16, token: &str) -> bool {
    match Client::connect_with_timeout(port, Duration::from_secs(2)) {
        Ok(c) => {
            let ours = c.banner.code == 220 && c.banner.text().contains(token);
            let _ = c.quit();
            ours
        }
        Err(_) => false,
    }
}

/// A connected SMTP session. Every command and reply is recorded in
/// `transcript` (`C: ...` / `S: ...`), which assertion messages can show.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    pub banner: Reply,
    pub transcript: Vec<String>,
}

impl Client {
    /// Connects to 127.0.0.1:`port` and reads the greeting.
    pub fn connect(port: u16) -> io::Result<Client> {
        Client::connect_with_timeout(port, READ_TIMEOUT)
    }

    /// Like `connect`, with another read/write timeout (e.g. for a probe).
    pub fn connect_with_timeout(port: u16, timeout: Duration) -> io::Result<Client> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT.min(timeout))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
            banner: Reply {
                code: 0,
                lines: Vec::new(),
            },
            transcript: Vec::new(),
        };
        client.banner = client.read_reply()?;
        Ok(client)
    }

    /// Sets a shorter read timeout (e.g. for a readiness probe).
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.writer.set_read_timeout(Some(timeout))
    }

    /// Reads one complete reply (all continuation lines).
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut buf = Vec::new();
            let n = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64)
                .read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed; reply so far: {lines:?}"),
                ));
            }
            if !buf.ends_with(b"\n") {
                return Err(bad(format!("reply line too long or unterminated: {buf:?}")));
            }
            let line = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            self.transcript.push(format!("S: {line}"));
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(bad(format!("malformed reply line {line:?}")));
            }
            let last = match bytes.get(3) {
                None | Some(b' ') => true,
                Some(b'-') => false,
                Some(_) => return Err(bad(format!("malformed reply line {line:?}"))),
            };
            let code: u16 = line[..3].parse().expect("three digits");
            if let Some(first) = lines.first() {
                let first: &String = first;
                if first[..3] != line[..3] {
                    return Err(bad(format!("reply code changed inside a reply: {line:?}")));
                }
            }
            lines.push(line);
            if last {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(bad("too many reply lines".into()));
            }
        }
    }

    /// Sends one command line (CRLF added) and reads its reply.
    pub fn command(&mut self, line: &str) -> io::Result<Reply> {
        assert!(
            !line.contains(['\r', '\n']),
            "command must be one line: {line:?}"
        );
        self.transcript.push(format!("C: {line}"));
        self.writer.write_all(format!("{line}\r\n").as_bytes())?;
        self.writer.flush()?;
        self.read_reply()
    }

    pub fn ehlo(&mut self, name: &str) -> io::Result<Reply> {
        self.command(&format!("EHLO {name}"))
    }

    pub fn mail_from(&mut self, addr: &str) -> io::Result<Reply> {
        self.command(&format!("MAIL FROM:<{addr}>"))
    }

    pub fn rcpt_to(&mut self, addr: &str) -> io::Result<Reply> {
        self.command(&format!("RCPT TO:<{addr}>"))
    }

    /// Sends `DATA`; the reply is 354 when the server wants the message.
    pub fn data(&mut self) -> io::Result<Reply> {
        self.command("DATA")
    }

    /// Sends the message (line ends normalised to CRLF, dot-stuffed) and the
    /// terminating `.`, and returns the server's verdict on it.
    pub fn send_message(&mut self, message: &[u8]) -> io::Result<Reply> {
        self.transcript
            .push(format!("C: <message, {} bytes>", message.len()));
        self.writer.write_all(&encode_message(message))?;
        self.writer.flush()?;
        self.read_reply()
    }

    /// Sends `QUIT` and reads the reply; errors (server already gone) are
    /// ignored because the transaction is over either way.
    pub fn quit(mut self) -> Option<Reply> {
        self.command("QUIT").ok()
    }

    pub fn transcript_text(&self) -> String {
        self.transcript.join("\n")
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// CRLF line ends, dot-stuffing, final CRLF and the `.` terminator.
pub fn encode_message(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut at_line_start = true;
    let mut prev = 0u8;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        at_line_start = b == b'\n';
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        if out.ends_with(b"\r") {
            out.push(b'\n');
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// What the client saw during one complete mail transaction.
#[derive(Debug)]
pub struct Outcome {
    pub banner: Reply,
    pub ehlo: Reply,
    pub mail: Reply,
    /// Each recipient with the reply to its `RCPT TO`.
    pub rcpts: Vec<(String, Reply)>,
    /// Reply to `DATA` (None when no recipient was accepted).
    pub data: Option<Reply>,
    /// Reply after the message's final `.` (None when DATA was refused).
    pub message: Option<Reply>,
    pub transcript: String,
}

impl Outcome {
    /// The reply that decided the transaction: the first negative one, or
    /// the reply to the message when everything went through.
    pub fn decisive(&self) -> &Reply {
        if !self.ehlo.is_positive() {
            return &self.ehlo;
        }
        if !self.mail.is_positive() {
            return &self.mail;
        }
        if let Some(r) = &self.message {
            return r;
        }
        if let Some(r) = self.data.as_ref().filter(|r| !r.is_positive()) {
            return r;
        }
        self.rcpts
            .iter()
            .map(|(_, r)| r)
            .find(|r| !r.is_positive())
            .unwrap_or(&self.mail)
    }

    /// True when the server accepted the message (250 after the final dot).
    pub fn accepted(&self) -> bool {
        self.message.as_ref().is_some_and(|r| r.code == 250)
    }

    /// Every reply the client saw, in order.
    pub fn replies(&self) -> Vec<&Reply> {
        let mut v = vec![&self.banner, &self.ehlo, &self.mail];
        v.extend(self.rcpts.iter().map(|(_, r)| r));
        v.extend(self.data.iter());
        v.extend(self.message.iter());
        v
    }

    /// The queue id from Postfix's `250 2.0.0 Ok: queued as ID`.
    pub fn queued_as(&self) -> Option<String> {
        let r = self.message.as_ref().filter(|r| r.code == 250)?;
        let text = r.text();
        let i = text.find("queued as ")?;
        Some(
            text[i + "queued as ".len()..]
                .split_whitespace()
                .next()?
                .to_string(),
        )
    }
}

/// Runs one transaction the way a well-behaved client does: EHLO, MAIL,
/// every RCPT, and DATA + message only if a recipient was accepted and the
/// server is still willing; QUIT at the end. Stops at the first refusal of
/// EHLO, MAIL or DATA. Panics on I/O errors (a test failure).
pub fn send_mail(port: u16, from: &str, rcpts: &[&str], message: &[u8]) -> Outcome {
    try_send_mail(port, from, rcpts, message).unwrap_or_else(|e| panic!("{e}"))
}

/// A transaction that failed below SMTP (connect error, I/O error,
/// timeout, connection closed): the error and the transcript so far.
#[derive(Debug)]
pub struct SendError {
    pub error: io::Error,
    pub transcript: String,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SMTP I/O error: {}\ntranscript:\n{}",
            self.error, self.transcript
        )
    }
}

/// Like `send_mail`, but returns connection and I/O errors instead of
/// panicking, for tests that count them (e.g. from several threads).
pub fn try_send_mail(
    port: u16,
    from: &str,
    rcpts: &[&str],
    message: &[u8],
) -> Result<Outcome, SendError> {
    let mut c = Client::connect(port).map_err(|e| SendError {
        error: io::Error::new(e.kind(), format!("connect to 127.0.0.1:{port}: {e}")),
        transcript: String::new(),
    })?;
    let run = |c: &mut Client| -> io::Result<Outcome> {
        let ehlo = c.ehlo("client.e2e.test")?;
        let none = Reply {
            code: 0,
            lines: Vec::new(),
        };
        let mut outcome = Outcome {
            banner: c.banner.clone(),
            ehlo: ehlo.clone(),
            mail: none,
            rcpts: Vec::new(),
            data: None,
            message: None,
            transcript: String::new(),
        };
        if !ehlo.is_positive() {
            return Ok(outcome);
        }
        outcome.mail = c.mail_from(from)?;
        if !outcome.mail.is_positive() {
            return Ok(outcome);
        }
        for rcpt in rcpts {
            let r = c.rcpt_to(rcpt)?;
            outcome.rcpts.push((rcpt.to_string(), r));
        }
        if !outcome.rcpts.iter().any(|(_, r)| r.is_positive()) {
            return Ok(outcome);
        }
        let data = c.data()?;
        let go = data.code == 354;
        outcome.data = Some(data);
        if go {
            outcome.message = Some(c.send_message(message)?);
        }
        Ok(outcome)
    };
    let mut outcome = match run(&mut c) {
        Ok(o) => o,
        Err(error) => {
            return Err(SendError {
                error,
                transcript: c.transcript_text(),
            })
        }
    };
    let _ = c.command("QUIT");
    outcome.transcript = c.transcript_text();
    Ok(outcome)
}

/// The last line of a cpr-milter reply: the reason in short in both
/// languages and the reference, so a client that shows only the last line
/// still tells the sender what to fix.
pub fn last_line(summary: &str, reference: &str) -> String {
    format!("{summary} - ref {reference}")
}

#[cfg(test)]
mod tests {
    use super::encode_message;

    #[test]
    fn message_encoding() {
        assert_eq!(encode_message(b"a\n.b\nc"), b"a\r\n..b\r\nc\r\n.\r\n");
        assert_eq!(encode_message(b"a\r\n"), b"a\r\n.\r\n");
        assert_eq!(encode_message(b".\r\n"), b"..\r\n.\r\n");
    }
}
