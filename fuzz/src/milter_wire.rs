//! The MTA's side of the milter protocol (version 6), enough to drive the
//! daemon's real callbacks over a socket from arbitrary command sequences.

use arbitrary::Arbitrary;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cpr_milter_core::Inspector;

/// One thing the MTA can send.
#[derive(Arbitrary, Debug)]
pub enum Op {
    Connect {
        host: Vec<u8>,
        addr: Addr,
        port: u16,
    },
    Helo(Vec<u8>),
    /// Macros for the command `stage` ('C', 'H', 'M', 'R', 'T', 'L', 'N', 'E').
    Macros {
        stage: u8,
        pairs: Vec<(MacroName, Vec<u8>)>,
    },
    Mail(Vec<Vec<u8>>),
    Rcpt(Vec<Vec<u8>>),
    Data,
    Header(Vec<u8>, Vec<u8>),
    Eoh,
    Body(Vec<u8>),
    Eom,
    Abort,
    Quit,
    /// Any command byte with any payload: the session may end here.
    Raw(u8, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
pub enum Addr {
    V4([u8; 4]),
    V6([u16; 8]),
    Unix(Vec<u8>),
    Unknown,
}

/// The macros the daemon reads, or any other name.
#[derive(Arbitrary, Debug)]
pub enum MacroName {
    QueueId,
    AuthAuthen,
    MailAddr,
    RcptAddr,
    Other(Vec<u8>),
}

impl MacroName {
    fn bytes(&self) -> Vec<u8> {
        match self {
            MacroName::QueueId => b"i".to_vec(),
            MacroName::AuthAuthen => b"{auth_authen}".to_vec(),
            MacroName::MailAddr => b"{mail_addr}".to_vec(),
            MacroName::RcptAddr => b"{rcpt_addr}".to_vec(),
            MacroName::Other(n) => n.clone(),
        }
    }
}

/// A milter protocol string: NUL-terminated, so it cannot hold a NUL.
fn cstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend(s.iter().copied().filter(|&b| b != 0));
    out.push(0);
}

fn packet(cmd: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(payload.len() + 5);
    p.extend_from_slice(&(payload.len() as u32 + 1).to_be_bytes());
    p.push(cmd);
    p.extend_from_slice(payload);
    p
}

/// The packet for `op`, and whether the milter answers it.
fn encode(op: &Op) -> (Vec<u8>, bool) {
    let mut d = Vec::new();
    let (cmd, answered) = match op {
        Op::Connect { host, addr, port } => {
            cstr(&mut d, host);
            match addr {
                Addr::V4(a) => {
                    d.push(b'4');
                    d.extend_from_slice(&port.to_be_bytes());
                    cstr(&mut d, std::net::Ipv4Addr::from(*a).to_string().as_bytes());
                }
                Addr::V6(a) => {
                    d.push(b'6');
                    d.extend_from_slice(&port.to_be_bytes());
                    cstr(&mut d, std::net::Ipv6Addr::from(*a).to_string().as_bytes());
                }
                Addr::Unix(p) => {
                    d.push(b'L');
                    d.extend_from_slice(&0u16.to_be_bytes());
                    cstr(&mut d, p);
                }
                Addr::Unknown => d.push(b'U'),
            }
            (b'C', true)
        }
        Op::Helo(h) => {
            cstr(&mut d, h);
            (b'H', true)
        }
        Op::Macros { stage, pairs } => {
            d.push(*stage);
            for (name, value) in pairs {
                cstr(&mut d, &name.bytes());
                cstr(&mut d, value);
            }
            (b'D', false)
        }
        Op::Mail(args) => {
            args.iter().for_each(|a| cstr(&mut d, a));
            (b'M', true)
        }
        Op::Rcpt(args) => {
            args.iter().for_each(|a| cstr(&mut d, a));
            (b'R', true)
        }
        Op::Data => (b'T', true),
        Op::Header(n, v) => {
            cstr(&mut d, n);
            cstr(&mut d, v);
            (b'L', true)
        }
        Op::Eoh => (b'N', true),
        Op::Body(b) => {
            d.extend_from_slice(&b[..b.len().min(65535)]);
            (b'B', true)
        }
        Op::Eom => (b'E', true),
        Op::Abort => (b'A', false),
        Op::Quit => (b'Q', false),
        Op::Raw(c, p) => {
            d.extend_from_slice(p);
            (*c, false)
        }
    };
    (packet(cmd, &d), answered)
}

/// How a command's answer ended.
enum Answer {
    /// A final reply (its command byte); the session may go on.
    Reply(u8),
    /// The milter closed the connection.
    Closed,
}

fn read_packet(s: &mut UnixStream) -> Option<(u8, Vec<u8>)> {
    let mut len = [0u8; 4];
    match s.read_exact(&mut len) {
        Ok(()) => {}
        Err(e)
            if e.kind() == ErrorKind::UnexpectedEof || e.kind() == ErrorKind::ConnectionReset =>
        {
            return None
        }
        Err(e) => panic!("the milter did not answer: {e}"),
    }
    let len = u32::from_be_bytes(len) as usize;
    assert!(len >= 1 && len <= 1 << 20, "reply packet of {len} bytes");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    let cmd = body.remove(0);
    Some((cmd, body))
}

/// Reads until the final reply to one command (skipping progress and
/// modification packets at end of message).
fn answer(s: &mut UnixStream) -> Answer {
    loop {
        match read_packet(s) {
            None => return Answer::Closed,
            Some((c @ (b'c' | b'a' | b'r' | b't' | b'y' | b'd' | b's' | b'4' | b'f'), _)) => {
                return Answer::Reply(c)
            }
            Some(_) => continue,
        }
    }
}

/// The daemon under test: the real milter callbacks, with the fuzz policy,
/// served on a unix socket by a runtime that lives as long as the process.
pub fn daemon_socket() -> &'static Path {
    static SOCKET: OnceLock<PathBuf> = OnceLock::new();
    SOCKET.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("cpr-fuzz-milter.")
            .tempdir()
            .expect("tempdir")
            .keep();
        let path = dir.join("milter.sock");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::UnixListener::bind(&p).expect("bind");
                let shared = cpr_milter::Shared::new(Inspector::clone(crate::inspector()));
                ready_tx.send(()).expect("ready");
                let _ = cpr_milter::run(listener, shared, std::future::pending::<()>()).await;
            });
        });
        ready_rx.recv().expect("daemon started");
        path
    })
}

/// What the MTA offers at negotiation, then what it sends.
#[derive(Arbitrary, Debug)]
pub struct Session {
    /// Offer the "no reply" options (Postfix does), so the milter may skip
    /// its answers to the collecting steps; otherwise every step is answered.
    pub offer_no_reply: bool,
    pub ops: Vec<Op>,
}

/// Every action of milter protocol 6, as Postfix offers them.
const ALL_ACTIONS: u32 = 0x1FF;
/// The protocol options without and with the "no reply" ones (SMFIP_NR_*).
const OPTS_ANSWERED: u32 = 0x17F;
const OPTS_ALL: u32 = 0x1F_FFFF;

/// The "no reply" option bit for the step `op` sends, if it has one.
fn no_reply_bit(op: &Op) -> u32 {
    match op {
        Op::Connect { .. } => 0x1000,
        Op::Helo(_) => 0x2000,
        Op::Mail(_) => 0x4000,
        Op::Rcpt(_) => 0x8000,
        Op::Data => 0x1_0000,
        Op::Header(..) => 0x80,
        Op::Eoh => 0x4_0000,
        Op::Body(_) => 0x8_0000,
        _ => 0,
    }
}

/// Where the MTA is in the protocol, to send only commands an MTA sends in
/// that order: the milter library ignores out-of-order commands without an
/// answer (as libmilter does), which is not the daemon's to fix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Connected,
    /// After HELO, or after a finished or aborted transaction.
    Idle,
    Mail,
    Rcpt,
    Data,
    Headers,
    Eoh,
    Body,
}

impl Stage {
    /// Where the MTA is after the milter answered `code` to `op`, as the
    /// MTA acts on it: an accept, reject or tempfail of the connection ends
    /// the session (`None`); of the transaction (at MAIL, or an accept at
    /// any later step) it ends the transaction, and the MTA sends nothing
    /// more for it; a rejected recipient leaves the transaction going.
    fn after_answer(self, op: &Op, code: u8) -> Option<Stage> {
        let final_answer = matches!(code, b'a' | b'r' | b't' | b'y' | b'd' | b'4' | b'f');
        if !final_answer {
            return Some(self);
        }
        match op {
            Op::Connect { .. } | Op::Helo(_) => None,
            Op::Rcpt(_) if code != b'a' => Some(self),
            _ => Some(Stage::Idle),
        }
    }

    /// The stage after `op`, or `None` when an MTA would not send it now.
    fn after(self, op: &Op) -> Option<Stage> {
        use Stage::*;
        let ok = |allowed: &[Stage], next: Stage| allowed.contains(&self).then_some(next);
        match op {
            Op::Connect { .. } => ok(&[Start], Connected),
            Op::Helo(_) => ok(&[Connected, Idle], Idle),
            Op::Mail(_) => ok(&[Connected, Idle], Mail),
            Op::Rcpt(_) => ok(&[Mail, Rcpt], Rcpt),
            Op::Data => ok(&[Rcpt], Data),
            Op::Header(..) => ok(&[Rcpt, Data, Headers], Headers),
            Op::Eoh => ok(&[Rcpt, Data, Headers], Eoh),
            Op::Body(_) => ok(&[Eoh, Body], Body),
            Op::Eom => ok(&[Eoh, Body], Idle),
            Op::Abort => {
                (self != Start).then_some(if self == Connected { Connected } else { Idle })
            }
            Op::Macros { .. } | Op::Quit | Op::Raw(..) => Some(self),
        }
    }
}

/// Runs one session: negotiation, then `ops` in order (those an MTA would
/// send at that point), until the milter closes the connection or a
/// command ends the session.
pub fn run_session(session: &Session) {
    let ops = &session.ops;
    let mut s = UnixStream::connect(daemon_socket()).expect("connect to the milter");
    // Well above the policy's scan timeout: no answer by then is a hang.
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut neg = Vec::new();
    let offered = if session.offer_no_reply {
        OPTS_ALL
    } else {
        OPTS_ANSWERED
    };
    neg.extend_from_slice(&6u32.to_be_bytes());
    neg.extend_from_slice(&ALL_ACTIONS.to_be_bytes());
    neg.extend_from_slice(&offered.to_be_bytes());
    s.write_all(&packet(b'O', &neg)).expect("negotiate");
    let agreed = match read_packet(&mut s) {
        Some((b'O', p)) if p.len() >= 12 => u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        other => panic!("negotiation answered {:?}", other.map(|(c, _)| c as char)),
    };
    assert_eq!(
        agreed & !offered,
        0,
        "the milter asked for options not offered"
    );
    let mut stage = Stage::Start;
    for op in ops {
        let Some(next) = stage.after(op) else {
            continue;
        };
        stage = next;
        let (bytes, answered) = encode(op);
        if s.write_all(&bytes).is_err() {
            return;
        }
        match op {
            Op::Quit => return,
            Op::Raw(..) => {
                // The milter may wait for more bytes or close: both are fine,
                // but it must not crash. Give up the session either way.
                let _ = s.shutdown(std::net::Shutdown::Write);
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
                return;
            }
            _ => {}
        }
        if answered && agreed & no_reply_bit(op) == 0 {
            match answer(&mut s) {
                Answer::Closed => return,
                Answer::Reply(code) => match stage.after_answer(op, code) {
                    Some(next) => stage = next,
                    None => return,
                },
            }
        }
    }
}
