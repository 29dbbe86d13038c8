//! SMTP reply texts: defaults in Danish and English, operator overrides, and
//! the Postfix rules every text must satisfy (checked at load time, because a
//! bad reply makes Postfix answer `451 4.3.5` — a new silent failure).

use std::fmt;

/// Longest reply line on the wire, code and CRLF included (RFC 5321,
/// 4.5.3.1.5): longer lines are cut or refused by some clients and MTAs.
pub const MAX_WIRE_LINE: usize = 512;

/// Longest text of one line (after `550-5.7.1 `, before CRLF) for the
/// usual three-part enhanced code; [`ReplyTemplate`] computes the exact
/// budget for its own code.
pub const MAX_LINE: usize = MAX_WIRE_LINE - "550-5.7.1 ".len() - 2;

/// The text budget of one line under `xcode`.
fn text_budget(xcode: &str) -> usize {
    MAX_WIRE_LINE - 2 - (3 + 1 + xcode.len() + 1)
}

/// Recipients named in a reply line before "and N more".
const MAX_NAMED_RECIPIENTS: usize = 5;

/// A rendered reply, ready for the MTA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// `550`, `451` …
    pub code: String,
    /// Enhanced status code, `5.7.1` …
    pub xcode: String,
    /// Text lines, each sent as one reply line.
    pub lines: Vec<String>,
}

impl Reply {
    /// `550 5.7.1`, as it appears in audit lines.
    pub fn status(&self) -> String {
        format!("{} {}", self.code, self.xcode)
    }

    /// A 5xx reply.
    pub fn is_permanent(&self) -> bool {
        self.code.starts_with('5')
    }
}

impl fmt::Display for Reply {
    /// The reply as an SMTP client sees it, with `%%` shown as `%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.lines.len();
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 < n { '-' } else { ' ' };
            if i > 0 {
                f.write_str("\r\n")?;
            }
            write!(
                f,
                "{}{}{} {}",
                self.code,
                sep,
                self.xcode,
                line.replace("%%", "%")
            )?;
        }
        Ok(())
    }
}

/// A reply with `{placeholders}` that is validated once and rendered per use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTemplate {
    code: String,
    xcode: String,
    lines: Vec<String>,
}

const PLACEHOLDERS: &[&str] = &[
    "ref",
    "recipients",
    "domain",
    "suggestion",
    "address",
    "new_address",
    "reason",
];

impl ReplyTemplate {
    /// `code` is `"550 5.7.1"`. Fails with a message saying which rule is broken.
    pub fn new(code: &str, lines: Vec<String>) -> Result<Self, String> {
        let mut it = code.split_whitespace();
        let (Some(basic), Some(xcode), None) = (it.next(), it.next(), it.next()) else {
            return Err(format!(
                "code {code:?} must be a reply code and an enhanced code, e.g. \"550 5.7.1\""
            ));
        };
        let b = basic.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) || !(b[0] == b'4' || b[0] == b'5') {
            return Err(format!("reply code {basic:?} must be 4xx or 5xx"));
        }
        let parts: Vec<&str> = xcode.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()))
        {
            return Err(format!("enhanced code {xcode:?} must look like 5.7.1"));
        }
        if parts[0].as_bytes() != [b[0]] {
            return Err(format!("enhanced code {xcode} does not match reply code {basic} (Postfix would answer 451 4.3.5)"));
        }
        if lines.is_empty() {
            return Err("at least one text line is needed".into());
        }
        for line in &lines {
            check_line(line, text_budget(xcode))?;
            check_placeholders(line)?;
        }
        Ok(ReplyTemplate {
            code: basic.into(),
            xcode: xcode.into(),
            lines,
        })
    }

    /// `550 5.7.1`.
    pub fn code(&self) -> String {
        format!("{} {}", self.code, self.xcode)
    }

    /// The text lines, placeholders unfilled.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// A 5xx template.
    pub fn is_permanent(&self) -> bool {
        self.code.starts_with('5')
    }

    /// Fills in placeholders. Values are made safe for the wire: non-ASCII
    /// and control characters become `?`, `%` is doubled; lines are cut at
    /// the wire limit.
    pub fn render(&self, vars: &[(&str, &str)]) -> Reply {
        self.render_with_recipients(vars, &[])
    }

    /// As [`ReplyTemplate::render`], with `{recipients}` filled per line:
    /// as many `<address>` as fit in the line (at most five), then "and N
    /// more" in the line's own language (`og N flere` in a Danish line).
    pub fn render_with_recipients(&self, vars: &[(&str, &str)], recipients: &[&str]) -> Reply {
        let budget = text_budget(&self.xcode);
        let lines = self
            .lines
            .iter()
            .map(|line| {
                let list = if line.contains("{recipients}") {
                    recipient_list(line, vars, recipients, budget)
                } else {
                    String::new()
                };
                let mut all: Vec<(&str, &str)> = vars.to_vec();
                all.push(("recipients", &list));
                truncate_line(substitute(line, &all), budget)
            })
            .collect();
        Reply {
            code: self.code.clone(),
            xcode: self.xcode.clone(),
            lines,
        }
    }
}

/// Replaces `{name}` in one pass, so a value that itself contains `{ref}`
/// (an address can) is not expanded again. Unknown or unset names become `-`.
fn substitute(line: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if PLACEHOLDERS.contains(&&after[..close]) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(&wire_safe(v)),
                    None => out.push('-'),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn check_line(line: &str, budget: usize) -> Result<(), String> {
    if !line.is_ascii() {
        return Err(format!(
            "reply text must be ASCII (write ae/oe/aa for æ/ø/å): {line:?}"
        ));
    }
    if line.bytes().any(|c| c.is_ascii_control()) {
        return Err("reply text must not contain control characters or line breaks; use one list item per line".into());
    }
    if line.len() > budget {
        return Err(format!(
            "reply line is {} characters, the limit is {budget} (a reply line is at most {MAX_WIRE_LINE} octets with its code)",
            line.len()
        ));
    }
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1) != Some(&b'%') {
                return Err("a single % in a reply text must be written %%".into());
            }
            i += 1;
        }
        i += 1;
    }
    Ok(())
}

fn check_placeholders(line: &str) -> Result<(), String> {
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}}; known: {}",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[start + len + 1..];
    }
    Ok(())
}

fn wire_safe(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .replace('%', "%%")
}

/// Whether a template line is the Danish one (the built-in texts and the
/// documented overrides start Danish lines with "Afvist" or "Midlertidig").
fn is_danish(line: &str) -> bool {
    ["Afvist", "Midlertidig", " ikke ", " og ", " er "]
        .iter()
        .any(|w| line.contains(w))
}

/// The recipients for one line: named while they fit beside the rest of the
/// line, then counted.
fn recipient_list(line: &str, vars: &[(&str, &str)], recipients: &[&str], budget: usize) -> String {
    if recipients.is_empty() {
        return if is_danish(line) {
            "(ingen modtagere)".into()
        } else {
            "(no recipients)".into()
        };
    }
    let mut rest: Vec<(&str, &str)> = vars.to_vec();
    rest.push(("recipients", ""));
    let fixed = substitute(line, &rest).len();
    let more = |n: usize| {
        if is_danish(line) {
            format!("og {n} flere")
        } else {
            format!("and {n} more")
        }
    };
    let mut named: Vec<String> = Vec::new();
    for (i, r) in recipients.iter().enumerate() {
        let name = format!("<{}>", wire_safe(r));
        let left = recipients.len() - i - 1;
        let tail = if left > 0 { more(left).len() + 2 } else { 0 };
        let len: usize = named.iter().map(|n| n.len() + 2).sum::<usize>() + name.len();
        if i >= MAX_NAMED_RECIPIENTS || fixed + len + tail > budget {
            let unnamed = recipients.len() - i;
            if named.is_empty() {
                return if is_danish(line) {
                    format!("{unnamed} modtagere")
                } else {
                    format!("{unnamed} recipients")
                };
            }
            named.push(more(unnamed));
            break;
        }
        named.push(name);
    }
    // Already wire-safe: undo the doubling substitute() will apply again.
    named.join(", ").replace("%%", "%")
}

fn truncate_line(mut s: String, budget: usize) -> String {
    if s.len() > budget {
        let mut cut = budget - 3;
        // Do not split a doubled %.
        while s.as_bytes()[..cut]
            .iter()
            .rev()
            .take_while(|&&c| c == b'%')
            .count()
            % 2
            == 1
        {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// The replies the milter can send, one template each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReplyKind {
    /// A CPR number in the Subject, another header or a file name.
    CprHeader,
    /// A CPR number in body or attachments, to recipients that may not have it.
    CprBody,
    /// A recipient at a lookalike domain.
    Lookalike,
    /// A retired mailbox with a forwarding address.
    Retired,
    /// A retired mailbox without one.
    RetiredNoForward,
    /// Content that could not be inspected (under `unscannable: reject`).
    Unscannable,
    /// Any temporary failure.
    Tempfail,
}

impl ReplyKind {
    /// Every kind, in the order `check-config` lists them (by key).
    pub const ALL: [ReplyKind; 7] = [
        ReplyKind::CprBody,
        ReplyKind::CprHeader,
        ReplyKind::Lookalike,
        ReplyKind::Retired,
        ReplyKind::RetiredNoForward,
        ReplyKind::Tempfail,
        ReplyKind::Unscannable,
    ];

    /// The key under `replies:` in the configuration file.
    pub fn key(self) -> &'static str {
        match self {
            ReplyKind::CprHeader => "cpr_header",
            ReplyKind::CprBody => "cpr_body",
            ReplyKind::Lookalike => "lookalike",
            ReplyKind::Retired => "retired",
            ReplyKind::RetiredNoForward => "retired_no_forward",
            ReplyKind::Unscannable => "unscannable",
            ReplyKind::Tempfail => "tempfail",
        }
    }

    /// The kind configured under `key`.
    pub fn from_key(key: &str) -> Option<ReplyKind> {
        ReplyKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// One template per reply kind: a lookup cannot fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTexts {
    cpr_header: ReplyTemplate,
    cpr_body: ReplyTemplate,
    lookalike: ReplyTemplate,
    retired: ReplyTemplate,
    retired_no_forward: ReplyTemplate,
    unscannable: ReplyTemplate,
    tempfail: ReplyTemplate,
}

/// The keys operators can override under `replies:`.
pub const RULES: &[&str] = &[
    "cpr_header",
    "cpr_body",
    "lookalike",
    "retired",
    "retired_no_forward",
    "unscannable",
    "tempfail",
];

fn t(code: &str, lines: &[&str]) -> ReplyTemplate {
    ReplyTemplate::new(code, lines.iter().map(|s| s.to_string()).collect())
        .expect("built-in reply is valid")
}

// The last line of every reply says in short, in both languages, what is
// wrong, and carries the reference: mutt and neomutt show only the last
// line of a multi-line reply, so that line alone must tell the sender what
// to fix and what to quote to IT support.

impl Default for ReplyTexts {
    fn default() -> Self {
        ReplyTexts {
            cpr_header: t("550 5.7.1", &[
            "Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. Fjern nummeret fra emne og filnavne og send igen.",
            "Rejected: the subject or a file name contains a Danish CPR number. Remove the number from the subject and file names and send again.",
            "CPR-nummer i emne eller filnavn / CPR number in subject or file name - ref {ref}",
            ]),
            cpr_body: t("550 5.7.1", &[
            "Afvist: mailen indeholder et CPR-nummer, og {recipients} er ikke en sikker modtager. Brug sikker mail eller fjern CPR-nummeret.",
            "Rejected: the message contains a Danish CPR number and {recipients} is not a secure destination. Use secure mail or remove the number.",
            "CPR-nummer til usikker modtager / CPR number to insecure recipient - ref {ref}",
            ]),
            lookalike: t("550 5.1.2", &[
            "Afvist: domaenet {domain} ligner {suggestion}. Mente du {suggestion}? Ret adressen og send igen.",
            "Rejected: the domain {domain} looks like {suggestion}. Did you mean {suggestion}? Correct the address and send again.",
            "Mente du {suggestion}? / Did you mean {suggestion}? - ref {ref}",
            ]),
            retired: t("550 5.1.6", &[
            "Afvist: postkassen {address} er nedlagt. Skriv i stedet til {new_address}.",
            "Rejected: the mailbox {address} has been retired. Write to {new_address} instead.",
            "Postkassen er nedlagt, skriv til {new_address} / Mailbox retired, write to {new_address} - ref {ref}",
            ]),
            retired_no_forward: t("550 5.1.6", &[
            "Afvist: postkassen {address} er nedlagt og har ingen ny adresse. Find den rette modtager og send igen.",
            "Rejected: the mailbox {address} has been retired and has no forwarding address. Find the right recipient and send again.",
            "Postkassen er nedlagt / Mailbox retired - ref {ref}",
            ]),
            unscannable: t("550 5.7.1", &[
            "Afvist: en del af mailen kunne ikke kontrolleres for CPR-numre ({reason}). Send indholdet som almindelig tekst eller via sikker mail.",
            "Rejected: part of the message could not be checked for CPR numbers ({reason}). Send the content unencrypted and unpacked, or use secure mail.",
            "Indhold kunne ikke kontrolleres / Content could not be checked - ref {ref}",
            ]),
            tempfail: t("451 4.7.1", &[
            "Midlertidig fejl i mailfilteret. Din mailserver proever automatisk igen.",
            "Temporary failure in the mail filter. Your mail server will retry automatically.",
            "Midlertidig fejl, proeves igen / Temporary failure, will be retried - ref {ref}",
            ]),
        }
    }
}

impl ReplyTexts {
    /// The template for `kind`.
    pub fn get(&self, kind: ReplyKind) -> &ReplyTemplate {
        match kind {
            ReplyKind::CprHeader => &self.cpr_header,
            ReplyKind::CprBody => &self.cpr_body,
            ReplyKind::Lookalike => &self.lookalike,
            ReplyKind::Retired => &self.retired,
            ReplyKind::RetiredNoForward => &self.retired_no_forward,
            ReplyKind::Unscannable => &self.unscannable,
            ReplyKind::Tempfail => &self.tempfail,
        }
    }

    fn slot(&mut self, kind: ReplyKind) -> &mut ReplyTemplate {
        match kind {
            ReplyKind::CprHeader => &mut self.cpr_header,
            ReplyKind::CprBody => &mut self.cpr_body,
            ReplyKind::Lookalike => &mut self.lookalike,
            ReplyKind::Retired => &mut self.retired,
            ReplyKind::RetiredNoForward => &mut self.retired_no_forward,
            ReplyKind::Unscannable => &mut self.unscannable,
            ReplyKind::Tempfail => &mut self.tempfail,
        }
    }

    /// Overrides the template configured under `key`; the class must stay
    /// what the reply means (a reject stays a reject, a tempfail a tempfail).
    pub fn set(&mut self, key: &str, tpl: ReplyTemplate) -> Result<(), String> {
        let Some(kind) = ReplyKind::from_key(key) else {
            return Err(format!("unknown reply rule {key:?}"));
        };
        let old = self.slot(kind);
        if old.is_permanent() != tpl.is_permanent() {
            return Err(format!(
                "reply for {key} must stay a {}xx code",
                if old.is_permanent() { 5 } else { 4 }
            ));
        }
        *old = tpl;
        Ok(())
    }

    /// Every (key, template), in the order of [`ReplyKind::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &ReplyTemplate)> {
        ReplyKind::ALL.into_iter().map(|k| (k.key(), self.get(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_render_multiline() {
        let r = ReplyTexts::default()
            .get(ReplyKind::CprHeader)
            .render(&[("ref", "4F1A2B3C")]);
        let wire = r.to_string();
        assert!(wire.starts_with("550-5.7.1 Afvist"), "{wire}");
        assert!(
            wire.ends_with(
                "\r\n550 5.7.1 CPR-nummer i emne eller filnavn / CPR number in subject or file name - ref 4F1A2B3C"
            ),
            "{wire}"
        );
        for name in RULES {
            let kind = ReplyKind::from_key(name).expect("every key has a kind");
            assert_eq!(kind.key(), *name);
        }
    }

    #[test]
    fn the_last_line_alone_tells_what_is_wrong() {
        let vars = [
            ("ref", "4F1A2B3C"),
            ("domain", "fred.dk"),
            ("suggestion", "fredericia.dk"),
            ("address", "gammel@nyborg.dk"),
            ("new_address", "ny@nyborg.dk"),
            ("reason", "encrypted"),
        ];
        let texts = ReplyTexts::default();
        for kind in ReplyKind::ALL {
            let reason = match kind {
                ReplyKind::CprHeader => "CPR number in subject or file name",
                ReplyKind::CprBody => "CPR number to insecure recipient",
                ReplyKind::Lookalike => "Did you mean fredericia.dk?",
                ReplyKind::Retired => "write to ny@nyborg.dk",
                ReplyKind::RetiredNoForward => "Mailbox retired",
                ReplyKind::Unscannable => "Content could not be checked",
                ReplyKind::Tempfail => "Temporary failure",
            };
            let reply = texts
                .get(kind)
                .render_with_recipients(&vars, &["b@gmail.com"]);
            let last = reply.lines.last().expect("reply has lines");
            let (danish, english) = last.split_once(" / ").expect("both languages");
            assert!(
                !danish.is_empty() && english.contains(reason),
                "{kind:?}: {last}"
            );
            assert!(last.ends_with(" - ref 4F1A2B3C"), "{kind:?}: {last}");
        }
    }

    #[test]
    fn class_mismatch_and_bad_text_are_refused() {
        assert!(ReplyTemplate::new("550 4.7.1", vec!["x".into()])
            .unwrap_err()
            .contains("4.3.5"));
        assert!(ReplyTemplate::new("250 2.0.0", vec!["x".into()]).is_err());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["100% sikker".into()])
            .unwrap_err()
            .contains("%%"));
        assert!(ReplyTemplate::new("550 5.7.1", vec!["100%% sikker".into()]).is_ok());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["blåbær".into()]).is_err());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["a\r\nb".into()]).is_err());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["{cpr}".into()]).is_err());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["x".repeat(981)]).is_err());
        assert!(ReplyTemplate::new("550 5.7.1", vec!["x".repeat(MAX_LINE)]).is_ok());
        let e = ReplyTemplate::new("550 5.7.1", vec!["x".repeat(MAX_LINE + 1)]).unwrap_err();
        assert!(e.contains("512 octets"), "{e}");
    }

    #[test]
    fn values_are_made_wire_safe() {
        let tpl = ReplyTemplate::new("550 5.1.6", vec!["{address}".into()]).unwrap();
        assert_eq!(tpl.render(&[("address", "a%b@æ.dk")]).lines[0], "a%%b@?.dk");
        let tpl = ReplyTemplate::new("550 5.1.6", vec!["{address} ref {ref}".into()]).unwrap();
        assert_eq!(
            tpl.render(&[("address", "{ref}@x.dk"), ("ref", "Q1")])
                .lines[0],
            "{ref}@x.dk ref Q1"
        );
        let long = "x".repeat(2000);
        assert_eq!(tpl.render(&[("address", &long)]).lines[0].len(), MAX_LINE);
        let wire = tpl.render(&[("address", &long)]).to_string();
        assert_eq!(
            wire.len() + 2,
            MAX_WIRE_LINE,
            "the line with its code and CRLF"
        );
    }

    #[test]
    fn overrides_keep_their_class() {
        let mut r = ReplyTexts::default();
        assert!(r
            .set(
                "tempfail",
                ReplyTemplate::new("550 5.7.1", vec!["x".into()]).unwrap()
            )
            .is_err());
        assert!(r
            .set(
                "cpr_body",
                ReplyTemplate::new("554 5.7.1", vec!["x".into()]).unwrap()
            )
            .is_ok());
        assert!(r
            .set(
                "nope",
                ReplyTemplate::new("554 5.7.1", vec!["x".into()]).unwrap()
            )
            .is_err());
    }

    #[test]
    fn eight_long_recipients_fit_every_line_in_its_own_language() {
        let names: Vec<String> = (0..8)
            .map(|i| format!("{}{i}@{}.example.com", "m".repeat(32), "d".repeat(14)))
            .collect();
        assert!(names.iter().all(|n| n.len() == 60));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let r = ReplyTexts::default()
            .get(ReplyKind::CprBody)
            .render_with_recipients(&[("ref", "4F1A2B3C")], &names);
        let wire = r.to_string();
        for line in wire.split("\r\n") {
            assert!(
                line.len() + 2 <= MAX_WIRE_LINE,
                "{} octets: {line}",
                line.len() + 2
            );
        }
        assert!(
            r.lines[0].contains("flere") && !r.lines[0].contains(" more"),
            "{wire}"
        );
        assert!(
            r.lines[1].contains(" more") && !r.lines[1].contains("flere"),
            "{wire}"
        );
        assert!(r.lines[1].contains(&format!("<{}>", names[0])), "{wire}");
    }

    #[test]
    fn a_few_recipients_are_all_named() {
        let r = ReplyTexts::default()
            .get(ReplyKind::CprBody)
            .render_with_recipients(&[("ref", "Q1")], &["a@x.dk", "b%c@y.dk"]);
        assert!(
            r.lines[1].contains("and <a@x.dk>, <b%%c@y.dk> is not"),
            "{:?}",
            r.lines
        );
    }
}
