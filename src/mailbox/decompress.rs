//! Archives are stored compressed: gzip, xz and zstd are recognised by their
//! magic bytes (not by the file name) and decoded as a stream, so a 50 GB
//! `.mbox.xz` is never held in memory.

use std::io::{self, BufRead, BufReader, Read};

/// The compression a stream starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
}

impl Compression {
    /// Recognises the format from the first bytes of a stream.
    pub fn sniff(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// Read buffer for files and decoders: large enough that line scanning
/// rarely straddles a refill.
pub const BUFFER_BYTES: usize = 256 * 1024;

/// Wraps `input` in the decoder its first bytes call for. Multi-member gzip
/// (what `cat a.gz b.gz` and some log rotators write) is read to its end.
/// `len_hint` (0: unknown) keeps the buffer small for small files.
pub fn open(
    input: Box<dyn Read + Send>,
    len_hint: u64,
) -> io::Result<(Compression, Box<dyn BufRead + Send>)> {
    let capacity = match len_hint {
        0 => BUFFER_BYTES,
        n => (n as usize + 1).clamp(8 * 1024, BUFFER_BYTES),
    };
    let mut buffered = BufReader::with_capacity(capacity, input);
    let kind = Compression::sniff(buffered.fill_buf()?);
    let reader: Box<dyn BufRead + Send> = match kind {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Xz => Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            xz2::bufread::XzDecoder::new_multi_decoder(buffered),
        )),
        Compression::Zstd => {
            let decoder = ZstdDecoder::new(buffered).map_err(zstd_error)?;
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                ZstdFrames(Some(decoder)),
            ))
        }
    };
    Ok((kind, reader))
}

/// ruzstd's decoder reads one frame; `zstd` concatenates frames for joined
/// files, so read on while the source has more.
struct ZstdFrames<R: BufRead>(Option<ZstdDecoder<R>>);

type ZstdDecoder<R> = ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>;

fn zstd_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.0.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let (mut source, frame) = self.0.take().expect("checked above").into_parts();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.0 = Some(ZstdDecoder::new_with_decoder(source, frame).map_err(zstd_error)?);
        }
    }
}

/// Counts the bytes read from the underlying file, for progress: on-disk
/// (compressed) bytes, which is what the archive's size on disk measures.
pub struct Counting<R> {
    inner: R,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R> Counting<R> {
    pub fn new(inner: R, counter: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Self {
        Counting { inner, counter }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(compressed: Vec<u8>, expect: Compression) -> Vec<u8> {
        let (kind, mut r) = open(Box::new(io::Cursor::new(compressed)), 0).unwrap();
        assert_eq!(kind, expect);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn gzip_members_are_read_to_the_end() {
        let mut all = Vec::new();
        for part in [&b"first\n"[..], b"second\n"] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part).unwrap();
            all.extend(e.finish().unwrap());
        }
        assert_eq!(roundtrip(all, Compression::Gzip), b"first\nsecond\n");
    }

    #[test]
    fn xz_is_decoded() {
        let mut e = xz2::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(b"hello xz\n").unwrap();
        assert_eq!(
            roundtrip(e.finish().unwrap(), Compression::Xz),
            b"hello xz\n"
        );
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_short_read() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&b"x".repeat(100_000)).unwrap();
        let mut gz = e.finish().unwrap();
        gz.truncate(gz.len() / 2);
        let (_, mut r) = open(Box::new(io::Cursor::new(gz)), 0).unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(
            roundtrip(b"plain\n".to_vec(), Compression::None),
            b"plain\n"
        );
    }
}
