//! What extraction produces: labelled texts, and what could not be read.

use std::borrow::Cow;
use std::fmt;

/// What a piece of text is, which decides the policy that applies to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// The Subject header.
    Subject,
    /// Another human-readable header, or an attachment file name.
    Header,
    /// A message body part (text/plain, text/html).
    Body,
    /// Text extracted from an attachment.
    Attachment,
}

impl SegmentKind {
    /// Headers and file names are visible everywhere the mail goes (lists,
    /// notifications, logs), so a number there is rejected whatever the
    /// recipients.
    pub fn is_header_like(self) -> bool {
        matches!(self, SegmentKind::Subject | SegmentKind::Header)
    }
}

/// One piece of decoded text.
#[derive(Clone, Debug)]
pub struct Segment<'r> {
    /// What the text is, which decides the rule that applies.
    pub kind: SegmentKind,
    /// `header:Subject`, `body:text/plain`, `message:1/body:text/plain`,
    /// `attachment:rapport.docx:word/document.xml` …
    pub location: String,
    /// Borrowed from the raw message where no decoding was needed (a plain
    /// UTF-8 body, an 8bit or 7bit text part), owned otherwise.
    pub text: Cow<'r, str>,
    /// Recognised in an image (OCR): letters may stand for digits.
    pub ocr: bool,
}

/// Why content that is present could not be read. The policy answers each
/// cause on its own: an encrypted attachment is the sender's right, a bomb
/// or a broken file is not an excuse to let its plaintext neighbours pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Encrypted or password-protected (S/MIME, PDF, ZIP, Office, ODF).
    Encrypted,
    /// A limit stopped the reader: size, count, nesting, ratio, operators,
    /// time.
    Limit,
    /// The structure is damaged or loops: the reader cannot find its way
    /// through (a parser error, a page tree with no reachable pages).
    Broken,
    /// A recognised format no reader handles (a `message/partial`
    /// fragment, S/MIME of an unknown CMS type, a JBIG2 page image).
    Unsupported,
}

impl Cause {
    /// The word used in audit lines and configuration keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Encrypted => "encrypted",
            Cause::Limit => "limit",
            Cause::Broken => "broken",
            Cause::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Cause {
    /// Every cause, in the order they are documented and printed.
    pub const ALL: [Cause; 4] = [
        Cause::Encrypted,
        Cause::Limit,
        Cause::Broken,
        Cause::Unsupported,
    ];
}

/// One value per [`Cause`]: what a policy does with each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PerCause<T> {
    /// For [`Cause::Encrypted`].
    pub encrypted: T,
    /// For [`Cause::Limit`].
    pub limit: T,
    /// For [`Cause::Broken`].
    pub broken: T,
    /// For [`Cause::Unsupported`].
    pub unsupported: T,
}

impl<T: Copy> PerCause<T> {
    /// The same value for every cause.
    pub fn all(value: T) -> Self {
        PerCause {
            encrypted: value,
            limit: value,
            broken: value,
            unsupported: value,
        }
    }
}

impl<T> PerCause<T> {
    /// The value for `cause`.
    pub fn get(&self, cause: Cause) -> &T {
        match cause {
            Cause::Encrypted => &self.encrypted,
            Cause::Limit => &self.limit,
            Cause::Broken => &self.broken,
            Cause::Unsupported => &self.unsupported,
        }
    }

    /// The value for `cause`, to change.
    pub fn get_mut(&mut self, cause: Cause) -> &mut T {
        match cause {
            Cause::Encrypted => &mut self.encrypted,
            Cause::Limit => &mut self.limit,
            Cause::Broken => &mut self.broken,
            Cause::Unsupported => &mut self.unsupported,
        }
    }
}

/// Content that could not be inspected, with where, why and the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unscannable {
    /// Where (as for [`Segment::location`]).
    pub location: String,
    /// Which kind of obstacle.
    pub cause: Cause,
    /// Why it could not be read.
    pub reason: String,
}

/// Everything extracted from one message.
#[derive(Clone, Debug, Default)]
pub struct Extracted<'r> {
    /// The texts to match, in message order.
    pub segments: Vec<Segment<'r>>,
    /// S/MIME enveloped-data or PGP/MIME encrypted content was present
    /// (checked by its bytes, not only by its label).
    pub encrypted: bool,
    /// What could not be read, with why.
    pub unscannable: Vec<Unscannable>,
    /// The extraction deadline cut the walk short: part of the message was
    /// never looked at. An `unscannable` entry says where; this flag lets
    /// the policy answer with a temporary failure instead of judging a
    /// half-read message.
    pub deadline_exceeded: bool,
}

impl Extracted<'_> {
    /// Detaches the result from the raw message (copies borrowed bodies).
    pub fn into_owned(self) -> Extracted<'static> {
        Extracted {
            segments: self.segments.into_iter().map(Segment::into_owned).collect(),
            encrypted: self.encrypted,
            unscannable: self.unscannable,
            deadline_exceeded: self.deadline_exceeded,
        }
    }

    /// True when some content was present but unread for `cause`.
    pub fn has_cause(&self, cause: Cause) -> bool {
        self.unscannable.iter().any(|u| u.cause == cause)
    }
}

impl Segment<'_> {
    /// The same segment with its text copied out of the raw message.
    pub fn into_owned(self) -> Segment<'static> {
        Segment {
            kind: self.kind,
            location: self.location,
            text: Cow::Owned(self.text.into_owned()),
            ocr: self.ocr,
        }
    }
}
