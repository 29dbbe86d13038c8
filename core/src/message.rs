//! The message bytes handed to end of message, and whether they are all of
//! it.

/// The message as the milter received it. The daemon stops buffering at the
/// size limit; a value made with [`Message::truncated`] says so, and the
/// inspection then reads the headers only (a number there is still
/// rejected) and reports the size limit.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    bytes: &'a [u8],
    truncated: bool,
}

impl<'a> Message<'a> {
    /// A message received whole (it may still be larger than the limit,
    /// e.g. a file given to `scan`).
    pub fn whole(bytes: &'a [u8]) -> Self {
        Message {
            bytes,
            truncated: false,
        }
    }

    /// The first bytes of a message whose rest was not kept.
    pub fn truncated(prefix: &'a [u8]) -> Self {
        Message {
            bytes: prefix,
            truncated: true,
        }
    }

    /// The bytes that were kept.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether bytes were dropped past the size limit.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}
