//! Reading mail archives: the layouts people keep mail in, turned into one
//! stream of messages in a stable order.
//!
//! - a single message (.eml; a Maildir or MH file) — one message;
//! - an mbox (mboxo, mboxrd, mboxcl with Content-Length) — see [`mbox`];
//! - a directory — walked in name order (numbers by value, for MH), which
//!   covers Maildir and Maildir++ (only `cur/` and `new/`: `tmp/` holds mail
//!   still being written), MH folders and folders of exports;
//! - `-` — standard input, an mbox or one message, told apart by its first line;
//! - any of these files gzip-, xz- or zstd-compressed.
//!
//! Every file is recognised by its content ([`sniff`]); a file that is not a
//! mail (Dovecot index files, `maildirfolder`, a script) is reported as
//! skipped, never judged. Memory: at most `cap` bytes per message, whatever
//! the size of the archive or of its lines.

pub mod decompress;
pub mod mbox;
pub mod sniff;
mod walk;

use decompress::{Compression, Counting};
use sniff::Kind;
use std::io::{self, BufRead, Read};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// One message read from an archive.
#[derive(Debug)]
pub struct Message {
    /// Where it came from: the file, `FILE#N` for the N-th message of an
    /// mbox, `-` or `-#N` for standard input.
    pub name: String,
    /// Its bytes, at most the reader's cap.
    pub bytes: Vec<u8>,
    /// Its full length.
    pub size: u64,
    /// For mbox messages: the separator line, which holds the delivery date.
    pub from_line: Option<Vec<u8>>,
}

/// What reading the archive turns up, in order.
#[derive(Debug)]
pub enum Event {
    Message(Message),
    /// A file that is not mail, and why.
    Skipped {
        path: String,
        why: &'static str,
    },
    /// A file or directory that could not be read (fully).
    Error {
        path: String,
        error: String,
    },
    /// Something the reader handled but the operator should know.
    Note {
        path: String,
        note: String,
    },
}

/// How archives are read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Bytes kept of each message: the daemon's limit plus one, so the core
    /// sees that a message passed it, exactly as when it arrives by SMTP.
    pub cap: usize,
    /// Bytes read from disk so far (compressed size), for progress.
    pub disk_bytes: Arc<AtomicU64>,
}

/// Reads every source in order, handing each event to `emit`; stops early
/// when `emit` returns false.
pub fn read_sources(sources: &[String], opts: &ReadOptions, emit: &mut dyn FnMut(Event) -> bool) {
    for source in sources {
        let go_on = if source == "-" {
            let stdin: Box<dyn Read + Send> =
                Box::new(Counting::new(io::stdin(), opts.disk_bytes.clone()));
            read_stream("-", stdin, 0, opts, emit)
        } else {
            walk::read_path(std::path::Path::new(source), opts, emit)
        };
        if !go_on {
            return;
        }
    }
}

/// Reads one file or stream: decompresses, recognises, and emits its
/// message(s). `len_hint` sizes the read buffer (0: unknown).
fn read_stream(
    name: &str,
    input: Box<dyn Read + Send>,
    len_hint: u64,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Event) -> bool,
) -> bool {
    let error = |e: String| Event::Error {
        path: name.to_string(),
        error: e,
    };
    let (compression, mut reader) = match decompress::open(input, len_hint) {
        Ok(r) => r,
        Err(e) => return emit(error(e.to_string())),
    };
    let mut prefix = Vec::new();
    if let Err(e) = reader
        .by_ref()
        .take(sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
    {
        return emit(error(read_error(compression, 0, &e)));
    }
    let kind = match sniff::classify(&prefix) {
        Ok(k) => k,
        Err(why) => {
            return emit(Event::Skipped {
                path: name.to_string(),
                why: why.as_str(),
            })
        }
    };
    let mut input = io::Cursor::new(prefix).chain(reader);
    match kind {
        Kind::Message => match read_capped(&mut input, opts.cap) {
            Ok((bytes, size)) => emit(Event::Message(Message {
                name: name.to_string(),
                bytes,
                size,
                from_line: None,
            })),
            Err(e) => emit(error(read_error(compression, 0, &e))),
        },
        Kind::Mbox => read_mbox(name, input, compression, opts, emit),
    }
}

fn read_mbox(
    name: &str,
    input: impl BufRead,
    compression: Compression,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Event) -> bool,
) -> bool {
    let mut reader = mbox::MboxReader::new(input, opts.cap);
    let mut n = 0;
    loop {
        match reader.next_message() {
            Ok(Some(m)) => {
                n += 1;
                let message = Message {
                    name: format!("{name}#{n}"),
                    bytes: m.bytes,
                    size: m.size,
                    from_line: Some(m.from_line),
                };
                if !emit(Event::Message(message)) {
                    return false;
                }
            }
            Ok(None) => break,
            Err(e) => {
                if !emit(Event::Error {
                    path: name.to_string(),
                    error: read_error(compression, n, &e),
                }) {
                    return false;
                }
                break;
            }
        }
    }
    if reader.content_length_mismatches > 0 {
        return emit(Event::Note {
            path: name.to_string(),
            note: format!(
                "{} message(s) with a Content-Length header that does not match; split at From lines",
                reader.content_length_mismatches
            ),
        });
    }
    true
}

fn read_error(compression: Compression, messages: usize, e: &io::Error) -> String {
    let what = match compression {
        Compression::None => String::new(),
        c => format!(" ({} data truncated or corrupt?)", c.as_str()),
    };
    if messages > 0 {
        format!("read error after {messages} message(s), the rest is not scanned: {e}{what}")
    } else {
        format!("read error: {e}{what}")
    }
}

/// Reads at most `cap` bytes and past the rest, counting it.
fn read_capped(input: &mut impl BufRead, cap: usize) -> io::Result<(Vec<u8>, u64)> {
    let mut bytes = Vec::new();
    input.by_ref().take(cap as u64).read_to_end(&mut bytes)?;
    let rest = io::copy(input, &mut io::sink())?;
    let size = bytes.len() as u64 + rest;
    Ok((bytes, size))
}
