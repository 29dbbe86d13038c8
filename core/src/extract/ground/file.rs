//! A file handed to a reader: an attachment, an archive entry, an object
//! embedded in a document.

/// A file to read.
pub(crate) struct File<'a> {
    pub bytes: &'a [u8],
    /// File name (or archive entry path), used for sniffing.
    pub name: &'a str,
    /// Declared content type, lower case ("" inside archives).
    pub ctype: &'a str,
    pub charset: Option<&'a str>,
}

impl<'a> File<'a> {
    /// A file found inside a container, known by its name only.
    pub fn entry(bytes: &'a [u8], name: &'a str) -> Self {
        File {
            bytes,
            name,
            ctype: "",
            charset: None,
        }
    }
}
