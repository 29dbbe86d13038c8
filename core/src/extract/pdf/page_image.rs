//! A PDF image XObject as a file an OCR engine reads: a DCTDecode stream is
//! a JPEG file and a JPXDecode stream a JPEG 2000 file as they stand, a
//! CCITT fax stream gets a TIFF header around it, and raw or Flate-packed
//! samples (what scanners and img2pdf write for black-and-white and
//! lossless scans) become a PNM image. Pure: bytes in, bytes out.

use lopdf::{Dictionary, Document, Object, Stream};

use super::super::image_text::ImageKind;

/// Why an image was not turned into a file.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NotRead {
    /// Its samples would take more than the bytes left for the message.
    TooLarge(u64),
    /// An encoding or colour layout no engine input is built for here.
    Unsupported(String),
    /// The stream does not decode.
    Broken(String),
}

/// The image in `stream` as a file of `ImageKind`, its samples at most
/// `limit` bytes.
pub(super) fn to_file(
    doc: &Document,
    stream: &Stream,
    limit: u64,
) -> Result<(Vec<u8>, ImageKind), NotRead> {
    let dict = &stream.dict;
    let filters = filters(dict);
    let width = positive(dict, b"Width")?;
    let height = positive(dict, b"Height")?;
    let unsupported = || {
        NotRead::Unsupported(format!(
            "image encoded with {}",
            filters
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
                .join(" + ")
        ))
    };
    // Transport filters (ASCII85, LZW, Flate ...) may wrap the image
    // coding, which is last: [/ASCII85Decode /DCTDecode] is a JPEG file
    // in ASCII85.
    let (transport, coding) = match filters.split_last() {
        Some((last, rest)) if IMAGE_CODINGS.contains(&last.as_slice()) => (rest, Some(last)),
        _ => (filters.as_slice(), None),
    };
    if !transport.iter().all(|f| TRANSPORT.contains(&f.as_slice())) {
        return Err(unsupported());
    }
    match coding.map(Vec::as_slice) {
        Some(b"DCTDecode") => as_is(&unwrap(stream, transport, limit)?, ImageKind::Jpeg),
        Some(b"JPXDecode") => as_is(&unwrap(stream, transport, limit)?, ImageKind::Jp2),
        Some(_) => {
            let parms = decode_parms(doc, dict, transport.len());
            let data = unwrap(stream, transport, limit)?;
            Ok((ccitt_tiff(&data, width, height, parms), ImageKind::Tiff))
        }
        None => {
            let layout = Layout::of(doc, dict)?;
            let row = (width * layout.bits_per_pixel()).div_ceil(8);
            let expected = row.saturating_mul(height);
            if expected > limit {
                return Err(NotRead::TooLarge(expected));
            }
            // PNG predictors add a tag byte per row before undoing.
            let packed = expected.saturating_add(height).saturating_add(64);
            let samples = unwrap(stream, transport, packed)?;
            if (samples.len() as u64) < expected {
                return Err(NotRead::Broken(format!(
                    "image stream holds {} of {expected} bytes",
                    samples.len()
                )));
            }
            Ok((pnm(&samples, width, height, row, &layout), ImageKind::Pnm))
        }
    }
}

/// Filters that only pack bytes, which lopdf undoes.
const TRANSPORT: &[&[u8]] = &[
    b"FlateDecode",
    b"LZWDecode",
    b"ASCII85Decode",
    b"ASCIIHexDecode",
    b"RunLengthDecode",
];
/// Filters whose output is an image file (or fax data) as OCR reads it.
const IMAGE_CODINGS: &[&[u8]] = &[b"DCTDecode", b"JPXDecode", b"CCITTFaxDecode"];

/// The stream's bytes with its `transport` filters undone (at most `limit`
/// bytes), the image coding after them left as it is.
fn unwrap(stream: &Stream, transport: &[Vec<u8>], limit: u64) -> Result<Vec<u8>, NotRead> {
    if transport.is_empty() {
        return Ok(stream.content.clone());
    }
    let mut dict = Dictionary::new();
    dict.set(
        "Filter",
        Object::Array(transport.iter().map(|f| Object::Name(f.clone())).collect()),
    );
    match stream.dict.get(b"DecodeParms") {
        Ok(Object::Array(p)) => {
            let p: Vec<Object> = p.iter().take(transport.len()).cloned().collect();
            dict.set("DecodeParms", Object::Array(p));
        }
        Ok(other) if transport.len() == 1 => dict.set("DecodeParms", other.clone()),
        _ => {}
    }
    Stream::new(dict, stream.content.clone())
        .with_compression(false)
        .decompressed_content_with_limit(usize::try_from(limit).unwrap_or(usize::MAX))
        .map_err(|e| NotRead::Broken(format!("image stream: {e}")))
}

/// A stream that is an image file as it stands, if its bytes say so.
fn as_is(content: &[u8], kind: ImageKind) -> Result<(Vec<u8>, ImageKind), NotRead> {
    if ImageKind::sniff(content) == Some(kind) {
        Ok((content.to_vec(), kind))
    } else {
        Err(NotRead::Broken(format!(
            "image stream is not a {} file",
            kind.as_str()
        )))
    }
}

fn filters(dict: &Dictionary) -> Vec<Vec<u8>> {
    match dict.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

/// A dimension: a positive integer of at most 2^20 (larger is no scan).
fn positive(dict: &Dictionary, key: &[u8]) -> Result<u64, NotRead> {
    match dict.get(key).and_then(Object::as_i64) {
        Ok(n) if (1..=1 << 20).contains(&n) => Ok(n as u64),
        _ => Err(NotRead::Broken(format!(
            "image without a valid /{}",
            String::from_utf8_lossy(key)
        ))),
    }
}

/// The decode parameters of the filter at `index` in the chain.
fn decode_parms<'d>(
    doc: &'d Document,
    dict: &'d Dictionary,
    index: usize,
) -> Option<&'d Dictionary> {
    match dict.get_deref(b"DecodeParms", doc).ok()? {
        Object::Dictionary(d) if index == 0 => Some(d),
        Object::Array(a) => a.get(index).and_then(|o| o.as_dict().ok()),
        _ => None,
    }
}

/// How the samples of a raw image are laid out.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    bits: u64,
    colours: Colours,
    /// `/Decode [1 0]` (or an image mask's default): sample 0 is white.
    inverted: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Colours {
    Gray,
    Rgb,
    Cmyk,
    /// Indexed into a palette of RGB triples.
    Palette(Vec<[u8; 3]>),
}

impl Colours {
    fn components(&self) -> u64 {
        match self {
            Colours::Gray | Colours::Palette(_) => 1,
            Colours::Rgb => 3,
            Colours::Cmyk => 4,
        }
    }
}

impl Layout {
    fn of(doc: &Document, dict: &Dictionary) -> Result<Self, NotRead> {
        let mask = dict
            .get(b"ImageMask")
            .and_then(Object::as_bool)
            .unwrap_or(false);
        let bits = if mask {
            1
        } else {
            match dict.get(b"BitsPerComponent").and_then(Object::as_i64) {
                Ok(b @ (1 | 2 | 4 | 8)) => b as u64,
                Ok(b) => {
                    return Err(NotRead::Unsupported(format!(
                        "image with {b} bits per component"
                    )))
                }
                Err(_) => return Err(NotRead::Broken("image without /BitsPerComponent".into())),
            }
        };
        let colours = if mask {
            Colours::Gray
        } else {
            match dict.get_deref(b"ColorSpace", doc) {
                Ok(cs) => colours(doc, cs, 0)?,
                Err(_) => return Err(NotRead::Broken("image without /ColorSpace".into())),
            }
        };
        if bits == 1 && colours != Colours::Gray {
            return Err(NotRead::Unsupported("1-bit colour image".into()));
        }
        if matches!(bits, 2 | 4) && !matches!(colours, Colours::Gray | Colours::Palette(_)) {
            return Err(NotRead::Unsupported(format!("{bits}-bit colour image")));
        }
        let decode_flipped = match dict.get(b"Decode").and_then(Object::as_array) {
            Ok(d) => d.first().and_then(|o| o.as_float().ok()) == Some(1.0),
            Err(_) => false,
        };
        // A stencil mask paints where its sample is 0; a gray image is black
        // at 0. Either way 0 is dark unless /Decode says otherwise.
        Ok(Layout {
            bits,
            colours,
            inverted: decode_flipped,
        })
    }

    fn bits_per_pixel(&self) -> u64 {
        self.bits * self.colours.components()
    }
}

fn colours(doc: &Document, cs: &Object, depth: u8) -> Result<Colours, NotRead> {
    let unsupported = |what: &[u8]| {
        NotRead::Unsupported(format!(
            "image in colour space {}",
            String::from_utf8_lossy(what)
        ))
    };
    match cs {
        Object::Name(n) => match n.as_slice() {
            b"DeviceGray" | b"CalGray" | b"G" => Ok(Colours::Gray),
            b"DeviceRGB" | b"CalRGB" | b"RGB" => Ok(Colours::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Colours::Cmyk),
            other => Err(unsupported(other)),
        },
        Object::Array(a) if depth < 2 => {
            let family = a.first().and_then(|o| o.as_name().ok()).unwrap_or(b"");
            match family {
                b"ICCBased" => {
                    let n = a
                        .get(1)
                        .and_then(|o| o.as_reference().ok())
                        .and_then(|id| doc.get_object(id).ok())
                        .and_then(|o| o.as_stream().ok())
                        .and_then(|s| s.dict.get(b"N").and_then(Object::as_i64).ok());
                    match n {
                        Some(1) => Ok(Colours::Gray),
                        Some(3) => Ok(Colours::Rgb),
                        Some(4) => Ok(Colours::Cmyk),
                        _ => Err(unsupported(b"ICCBased")),
                    }
                }
                b"CalGray" => Ok(Colours::Gray),
                b"CalRGB" => Ok(Colours::Rgb),
                b"Indexed" | b"I" => palette(doc, a, depth),
                other => Err(unsupported(other)),
            }
        }
        Object::Reference(id) if depth < 2 => match doc.get_object(*id) {
            Ok(o) => colours(doc, o, depth + 1),
            Err(_) => Err(NotRead::Broken("image colour space missing".into())),
        },
        _ => Err(NotRead::Broken("image colour space unreadable".into())),
    }
}

/// `[/Indexed base hival lookup]` as RGB triples.
fn palette(doc: &Document, a: &[Object], depth: u8) -> Result<Colours, NotRead> {
    let broken = || NotRead::Broken("indexed colour space unreadable".into());
    let deref = |o: &Object| -> Option<Object> {
        match o {
            Object::Reference(id) => doc.get_object(*id).ok().cloned(),
            other => Some(other.clone()),
        }
    };
    let base = deref(a.get(1).ok_or_else(broken)?).ok_or_else(broken)?;
    let base = colours(doc, &base, depth + 1)?;
    let lookup = match deref(a.get(3).ok_or_else(broken)?).ok_or_else(broken)? {
        Object::String(s, _) => s,
        Object::Stream(s) => s
            .decompressed_content_with_limit(256 * 4)
            .unwrap_or(s.content),
        _ => return Err(broken()),
    };
    let step = base.components() as usize;
    if matches!(base, Colours::Palette(_)) {
        return Err(broken());
    }
    let entries = lookup
        .chunks_exact(step)
        .map(|c| match base {
            Colours::Gray => [c[0]; 3],
            Colours::Cmyk => cmyk_to_rgb(c),
            _ => [c[0], c[1], c[2]],
        })
        .collect();
    Ok(Colours::Palette(entries))
}

fn cmyk_to_rgb(c: &[u8]) -> [u8; 3] {
    let k = 255 - c[3] as u16;
    let ch = |x: u8| ((255 - x as u16) * k / 255) as u8;
    [ch(c[0]), ch(c[1]), ch(c[2])]
}

/// Samples (rows of `row` bytes) as a PBM (1 bit), PGM or PPM file.
fn pnm(samples: &[u8], width: u64, height: u64, row: u64, layout: &Layout) -> Vec<u8> {
    let rows = samples.chunks_exact(row as usize).take(height as usize);
    if layout.bits == 1 {
        // PBM stores 1 for black; PDF gray stores 0 for black.
        let mut out = format!("P4\n{width} {height}\n").into_bytes();
        for r in rows {
            out.extend(r.iter().map(|b| if layout.inverted { *b } else { !*b }));
        }
        return out;
    }
    let gray = layout.colours == Colours::Gray;
    let mut out = format!(
        "{}\n{width} {height}\n255\n",
        if gray { "P5" } else { "P6" }
    )
    .into_bytes();
    let flip = |b: u8| if layout.inverted { 255 - b } else { b };
    let mut unpacked = Vec::new();
    for r in rows {
        // 2- and 4-bit samples, one per pixel: gray scaled up to 8 bits,
        // palette indexes as they are.
        let r = if layout.bits < 8 {
            let bits = layout.bits as usize;
            let max = (1u16 << bits) - 1;
            let scale = !matches!(layout.colours, Colours::Palette(_));
            unpacked.clear();
            unpacked.extend(
                r.iter()
                    .flat_map(|b| {
                        (0..8 / bits).map(move |k| (b >> (8 - bits * (k + 1))) & max as u8)
                    })
                    .take(width as usize)
                    .map(|v| {
                        if scale {
                            (u16::from(v) * 255 / max) as u8
                        } else {
                            v
                        }
                    }),
            );
            &unpacked[..]
        } else {
            r
        };
        match &layout.colours {
            Colours::Gray | Colours::Rgb => out.extend(r.iter().map(|b| flip(*b))),
            Colours::Cmyk => {
                for px in r.chunks_exact(4) {
                    out.extend(cmyk_to_rgb(px).map(flip));
                }
            }
            Colours::Palette(p) => {
                for i in r {
                    out.extend(p.get(*i as usize).copied().unwrap_or([255; 3]));
                }
            }
        }
    }
    out
}

/// A one-strip little-endian TIFF around CCITT fax data: Group 4 when
/// `/K` is negative, Group 3 (1-D or 2-D) otherwise.
fn ccitt_tiff(data: &[u8], width: u64, height: u64, parms: Option<&Dictionary>) -> Vec<u8> {
    let int = |key: &[u8], default: i64| {
        parms
            .and_then(|p| p.get(key).and_then(Object::as_i64).ok())
            .unwrap_or(default)
    };
    let k = int(b"K", 0);
    let columns = int(b"Columns", width as i64).clamp(1, 1 << 20) as u32;
    let rows = match int(b"Rows", 0) {
        r if r > 0 => r.min(1 << 20) as u32,
        _ => height as u32,
    };
    let black_is_1 = parms
        .and_then(|p| p.get(b"BlackIs1").and_then(Object::as_bool).ok())
        .unwrap_or(false);
    let (compression, t4_options) = match k {
        k if k < 0 => (4u32, None),
        0 => (3, Some(0u32)),
        _ => (3, Some(1)),
    };
    // (tag, type, value); type 3 = SHORT, 4 = LONG.
    let mut entries: Vec<(u16, u16, u32)> = vec![
        (256, 4, columns),
        (257, 4, rows),
        (258, 3, 1),
        (259, 3, compression),
        // WhiteIsZero (fax convention) unless the stream says 1 is black.
        (262, 3, u32::from(black_is_1)),
        (273, 4, 0), // strip offset, filled in below
        (277, 3, 1),
        (278, 4, rows),
        (279, 4, data.len() as u32),
    ];
    if let Some(opts) = t4_options {
        entries.push((292, 4, opts));
    }
    let ifd_len = 2 + entries.len() * 12 + 4;
    let data_at = (8 + ifd_len) as u32;
    let mut out = Vec::with_capacity(data_at as usize + data.len());
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, ty, value) in entries {
        let value = if tag == 273 { data_at } else { value };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        if ty == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn image(dict: Dictionary, content: Vec<u8>) -> Stream {
        Stream::new(dict, content)
    }

    #[test]
    fn one_bit_gray_becomes_pbm_with_black_as_one() {
        let doc = Document::with_version("1.5");
        let s = image(
            dictionary! {"Width" => 8, "Height" => 2, "BitsPerComponent" => 1, "ColorSpace" => "DeviceGray"},
            vec![0b0000_1111, 0xFF],
        );
        let (file, kind) = to_file(&doc, &s, 1 << 20).unwrap();
        assert_eq!(kind, ImageKind::Pnm);
        assert_eq!(file, b"P4\n8 2\n\xF0\x00");
    }

    #[test]
    fn rgb_palette_and_cmyk_become_ppm() {
        let doc = Document::with_version("1.5");
        let s = image(
            dictionary! {"Width" => 1, "Height" => 1, "BitsPerComponent" => 8, "ColorSpace" => "DeviceRGB"},
            vec![1, 2, 3],
        );
        assert_eq!(
            to_file(&doc, &s, 100).unwrap().0,
            b"P6\n1 1\n255\n\x01\x02\x03"
        );
        let indexed = Object::Array(vec![
            Object::Name(b"Indexed".to_vec()),
            Object::Name(b"DeviceRGB".to_vec()),
            Object::Integer(1),
            Object::string_literal(vec![0u8, 0, 0, 255, 255, 255]),
        ]);
        let s = image(
            dictionary! {"Width" => 2, "Height" => 1, "BitsPerComponent" => 8, "ColorSpace" => indexed},
            vec![1, 0],
        );
        assert_eq!(
            to_file(&doc, &s, 100).unwrap().0,
            b"P6\n2 1\n255\n\xFF\xFF\xFF\x00\x00\x00"
        );
        let s = image(
            dictionary! {"Width" => 1, "Height" => 1, "BitsPerComponent" => 8, "ColorSpace" => "DeviceCMYK"},
            vec![0, 0, 0, 255],
        );
        assert_eq!(
            to_file(&doc, &s, 100).unwrap().0,
            b"P6\n1 1\n255\n\x00\x00\x00"
        );
    }

    #[test]
    fn short_huge_and_unknown_images_are_refused_with_a_reason() {
        let doc = Document::with_version("1.5");
        let gray = |w: i64, h: i64| {
            dictionary! {"Width" => w, "Height" => h, "BitsPerComponent" => 8, "ColorSpace" => "DeviceGray"}
        };
        let short = image(gray(4, 4), vec![0; 3]);
        assert!(matches!(
            to_file(&doc, &short, 100),
            Err(NotRead::Broken(_))
        ));
        let huge = image(gray(1 << 20, 1 << 20), vec![]);
        assert_eq!(
            to_file(&doc, &huge, 1 << 26),
            Err(NotRead::TooLarge(1 << 40))
        );
        let mut d = gray(4, 4);
        d.set("Filter", "JBIG2Decode");
        let jbig2 = image(d, vec![0; 16]);
        assert_eq!(
            to_file(&doc, &jbig2, 100),
            Err(NotRead::Unsupported(
                "image encoded with JBIG2Decode".into()
            ))
        );
        let no_size = image(
            dictionary! {"Filter" => "DCTDecode"},
            vec![0xFF, 0xD8, 0xFF],
        );
        assert!(matches!(
            to_file(&doc, &no_size, 100),
            Err(NotRead::Broken(_))
        ));
        let mut d = gray(4, 4);
        d.set("Filter", "DCTDecode");
        let not_jpeg = image(d, b"garbage".to_vec());
        assert_eq!(
            to_file(&doc, &not_jpeg, 100),
            Err(NotRead::Broken("image stream is not a jpeg file".into()))
        );
    }

    #[test]
    fn four_bit_gray_is_scaled_to_eight() {
        let doc = Document::with_version("1.5");
        let s = image(
            dictionary! {"Width" => 3, "Height" => 1, "BitsPerComponent" => 4, "ColorSpace" => "DeviceGray"},
            vec![0x0F, 0x80],
        );
        assert_eq!(
            to_file(&doc, &s, 100).unwrap().0,
            b"P5\n3 1\n255\n\x00\xFF\x88"
        );
    }

    #[test]
    fn transport_filters_before_the_image_coding_are_undone() {
        let doc = Document::with_version("1.5");
        let hex = |b: &[u8]| -> Vec<u8> {
            let mut h: Vec<u8> = b
                .iter()
                .flat_map(|x| format!("{x:02X}").into_bytes())
                .collect();
            h.push(b'>');
            h
        };
        let jpeg = b"\xFF\xD8\xFF\xE0 jpeg data".to_vec();
        let s = image(
            dictionary! {
                "Width" => 2, "Height" => 2,
                "Filter" => vec![Object::Name(b"ASCIIHexDecode".to_vec()), Object::Name(b"DCTDecode".to_vec())],
            },
            hex(&jpeg),
        );
        assert_eq!(to_file(&doc, &s, 100), Ok((jpeg, ImageKind::Jpeg)));
        let s = image(
            dictionary! {
                "Width" => 2, "Height" => 1, "BitsPerComponent" => 8, "ColorSpace" => "DeviceGray",
                "Filter" => "ASCIIHexDecode",
            },
            hex(&[0, 255]),
        );
        assert_eq!(to_file(&doc, &s, 100).unwrap().0, b"P5\n2 1\n255\n\x00\xFF");
    }

    #[test]
    fn ccitt_gets_a_tiff_header_naming_group_4() {
        let doc = Document::with_version("1.5");
        let s = image(
            dictionary! {
                "Width" => 1728, "Height" => 100, "Filter" => "CCITTFaxDecode",
                "DecodeParms" => dictionary! {"K" => -1, "Columns" => 1728},
            },
            vec![0xAA; 10],
        );
        let (tiff, kind) = to_file(&doc, &s, 100).unwrap();
        assert_eq!(kind, ImageKind::Tiff);
        assert_eq!(ImageKind::sniff(&tiff), Some(ImageKind::Tiff));
        assert!(tiff.ends_with(&[0xAA; 10]));
        // Compression tag (259) holds 4.
        let at = tiff
            .windows(4)
            .position(|w| w == [0x03, 0x01, 0x03, 0x00])
            .unwrap();
        assert_eq!(tiff[at + 8], 4);
    }
}
