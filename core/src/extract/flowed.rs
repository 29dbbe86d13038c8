//! `format=flowed` (RFC 3676): a line ending in a space is soft-wrapped and
//! continues on the next line. Mail clients (Thunderbird, Apple Mail, mutt)
//! wrap long lines this way, so a number can be split over two lines in the
//! raw body although the recipient sees it whole. Unflowing joins what the
//! recipient's client joins, before matching.
//!
//! With `delsp=yes` the space before the soft break was inserted by the
//! wrapper and is deleted when joining; without it the space belongs to the
//! text. Quote depth (leading `>`) is kept: lines of different depth are
//! never joined, and space-stuffing (one leading space) is removed.

use mail_parser::ContentType;

/// The `format=flowed` parameters of a text/plain part, if it has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flowed {
    pub delsp: bool,
}

impl Flowed {
    pub fn of(ct: Option<&ContentType<'_>>) -> Option<Flowed> {
        let ct = ct?;
        let flowed = ct
            .attribute("format")
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("flowed"));
        flowed.then(|| Flowed {
            delsp: ct
                .attribute("delsp")
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("yes")),
        })
    }
}

/// The text as the recipient's client shows it: soft-wrapped lines joined.
pub fn unflow(text: &str, how: Flowed) -> String {
    let mut out = String::with_capacity(text.len());
    // Quote depth of the paragraph being joined, if the last line was soft.
    let mut open: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let line = line.trim_end_matches(['\r', '\n']);
        let depth = line.bytes().take_while(|&b| b == b'>').count();
        let mut content = &line[depth..];
        content = content.strip_prefix(' ').unwrap_or(content);
        match open {
            Some(d) if d == depth => {}
            Some(_) => {
                // A soft break into a different quote depth is a hard one.
                out.push('\n');
                push_quote(&mut out, depth);
            }
            None => push_quote(&mut out, depth),
        }
        let soft = content.ends_with(' ') && content != "-- ";
        if soft && how.delsp {
            out.push_str(&content[..content.len() - 1]);
        } else {
            out.push_str(content);
        }
        if soft {
            open = Some(depth);
        } else {
            out.push('\n');
            open = None;
        }
    }
    out
}

fn push_quote(out: &mut String, depth: usize) {
    if depth > 0 {
        out.extend(std::iter::repeat_n('>', depth));
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Flowed = Flowed { delsp: false };
    const DELSP: Flowed = Flowed { delsp: true };

    #[test]
    fn soft_breaks_are_joined_hard_ones_kept() {
        let t = "Borgerens CPR er \r\n241085-1337 og \r\nmere.\r\nNy linje\r\n";
        assert_eq!(
            unflow(t, PLAIN),
            "Borgerens CPR er 241085-1337 og mere.\nNy linje\n"
        );
    }

    #[test]
    fn delsp_deletes_the_wrapping_space() {
        // Clients with delsp=yes may break inside a word or number.
        let t = "CPR 241085 \r\n-1337\r\n";
        assert_eq!(unflow(t, DELSP), "CPR 241085-1337\n");
        assert_eq!(unflow(t, PLAIN), "CPR 241085 -1337\n");
    }

    #[test]
    fn quotes_stuffing_and_signature() {
        let t = "> citat \r\n> fortsat\r\n>> dybere \r\nikke citeret\r\n -- \r\n-- \r\nJens\r\n";
        assert_eq!(
            unflow(t, PLAIN),
            "> citat fortsat\n>> dybere \nikke citeret\n-- \n-- \nJens\n"
        );
    }

    #[test]
    fn a_last_soft_line_is_kept() {
        assert_eq!(unflow("slut ", PLAIN), "slut ");
        assert_eq!(unflow("", PLAIN), "");
    }
}
