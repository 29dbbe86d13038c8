//! Writes the cpr-milter(8) manual page, generated from the command line's
//! own definitions (src/cli.rs) so it cannot drift from `--help`, into the
//! directory given as the only argument. `scripts/build-deb.sh` runs it; the
//! cpr-milter.yaml(5) page is written by hand (docs/man/).
//!
//! Usage: cargo run --example man-pages -- OUT_DIR

use clap::CommandFactory;
use cpr_milter::cli::Cli;
use std::io::Write;
use std::path::PathBuf;

/// Text for roff: backslashes escaped, lines that roff would take as
/// requests protected, blank lines as paragraph breaks, "  * " items as
/// bullets (their indented continuation lines are filled into the item).
fn roff_text(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            out.push_str(".PP\n");
            continue;
        }
        let body = trimmed.replace('\\', "\\e");
        let body = if body.starts_with('.') || body.starts_with('\'') {
            format!("\\&{body}")
        } else {
            body
        };
        if let Some(item) = body.strip_prefix("* ") {
            out.push_str(&format!(".IP \\(bu 2\n{item}\n"));
        } else {
            out.push_str(&body);
            out.push('\n');
        }
    }
    out
}

/// One argument as a tagged paragraph: its flags (or value name) and help.
fn render_arg(arg: &clap::Arg, out: &mut String) {
    let value = arg
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|n| format!(" \\fI{n}\\fR"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let takes_value = arg.get_action().takes_values();
    let mut tag = Vec::new();
    if let Some(s) = arg.get_short() {
        tag.push(format!("\\fB\\-{s}\\fR"));
    }
    if let Some(l) = arg.get_long() {
        tag.push(format!("\\fB\\-\\-{l}\\fR"));
    }
    let tag = if tag.is_empty() {
        format!("\\fI{}\\fR", arg.get_id().as_str().to_uppercase())
    } else if takes_value {
        format!("{}{value}", tag.join(", "))
    } else {
        tag.join(", ")
    };
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    out.push_str(&format!(".TP\n{tag}\n{}", roff_text(&help)));
}

/// COMMANDS: every subcommand with its usage, long description and options.
fn commands_section(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let usage = sub
            .clone()
            .bin_name(format!("cpr-milter {name}"))
            .render_usage()
            .to_string();
        let usage = usage.trim_start_matches("Usage: ").replace('-', "\\-");
        out.push_str(&format!(".SS \"{name}\"\n.B {usage}\n.PP\n"));
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        out.push_str(&roff_text(&about));
        for arg in sub.get_arguments() {
            if !matches!(arg.get_id().as_str(), "help" | "version") {
                render_arg(arg, &mut out);
            }
        }
    }
    out
}

/// What the clap definitions do not hold: signals, exit codes, files,
/// examples.
const TAIL: &str = r#".SH SIGNALS
.TP
.B SIGHUP
Re-read the configuration file. A file with errors is refused and logged
with its line and column; the running configuration stays in force. Changes
to \fBlisten\fR and \fBlog.*\fR take effect only at restart.
.TP
.BR SIGTERM ", " SIGINT
Stop accepting connections, let inspections in flight finish, and exit 0.
.SH "EXIT STATUS"
.TP
.B 0
\fBrun\fR stopped on a signal; \fBcheck\-config\fR found the file valid;
\fBscan\fR accepted every message.
.TP
.B 1
\fBrun\fR could not start or stopped on an error (the reason is written to
syslog and to standard error); \fBcheck\-config\fR found an error;
\fBscan\fR rejected or tempfailed at least one message.
.TP
.B 2
\fBscan\fR could not read its input or its configuration.
.SH LOGGING
Every decision that is not a plain accept (reject, would\-reject, tempfail,
unscannable) is one syslog line, facility \fBmail\fR by default, of
key=value pairs. CPR numbers appear only masked (2410XX\-XXXX). When syslog
cannot be reached the milter says why on standard error and logs there,
trying syslog again at every line; under systemd standard error reaches the
journal.
.SH FILES
.TP
.I /etc/cpr\-milter/cpr\-milter.yaml
The configuration; see \fBcpr\-milter.yaml\fR(5). The Debian package
installs it in monitor mode.
.TP
.I /var/spool/postfix/cpr\-milter/cpr\-milter.sock
The packaged socket, inside the chroot of Debian's Postfix smtpd (which
reaches it as \fIunix:/cpr\-milter/cpr\-milter.sock\fR). The directory is
owned by user and group \fBcpr\-milter\fR, mode 0750; the \fBpostfix\fR user
is a member of the group.
.TP
.I /lib/systemd/system/cpr\-milter.service
The systemd unit: runs \fBcpr\-milter run\fR as user \fBcpr\-milter\fR;
\fBsystemctl reload cpr\-milter\fR checks the file, then sends SIGHUP.
.TP
.I /usr/share/doc/cpr\-milter/
README.Debian (the Postfix settings), the design and operations guides, and
an example configuration with every key.
.SH EXAMPLES
Check the configuration and see the mode in force:
.PP
.RS 4
.nf
cpr\-milter check\-config \-\-config /etc/cpr\-milter/cpr\-milter.yaml
.fi
.RE
.PP
Point Debian's chrooted Postfix at the packaged socket:
.PP
.RS 4
.nf
postconf \-e 'smtpd_milters = unix:/cpr\-milter/cpr\-milter.sock'
postconf \-e 'non_smtpd_milters = $smtpd_milters'
postconf \-e 'milter_protocol = 6'
postconf \-e 'milter_default_action = tempfail'
systemctl reload postfix
.fi
.RE
.PP
Find past incidents in a Maildir, one JSON object per message:
.PP
.RS 4
.nf
cpr\-milter scan \-\-config /etc/cpr\-milter/cpr\-milter.yaml \-\-json ~/Maildir
.fi
.RE
.SH "SEE ALSO"
.BR cpr\-milter.yaml (5),
.BR postconf (5),
.BR postfix (1)
"#;

fn main() {
    let out_dir = match std::env::args_os().nth(1) {
        Some(d) => PathBuf::from(d),
        None => {
            eprintln!("usage: man-pages OUT_DIR");
            std::process::exit(2);
        }
    };
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .manual("System Manager's Manual")
        .source(format!("cpr-milter {}", env!("CARGO_PKG_VERSION")));
    let mut page: Vec<u8> = Vec::new();
    let rendered = (|| -> std::io::Result<()> {
        man.render_title(&mut page)?;
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        // Our own rendering: clap_mangen keeps the hard line breaks of the
        // bulleted list.
        let about = cmd.get_long_about().map(ToString::to_string);
        page.write_all(
            format!(".SH DESCRIPTION\n{}", roff_text(&about.unwrap_or_default())).as_bytes(),
        )?;
        page.write_all(commands_section(&cmd).as_bytes())?;
        page.write_all(TAIL.as_bytes())?;
        man.render_version_section(&mut page)
    })();
    let path = out_dir.join("cpr-milter.8");
    if let Err(e) = rendered
        .and_then(|()| std::fs::create_dir_all(&out_dir))
        .and_then(|()| std::fs::write(&path, &page))
    {
        eprintln!("{}: {e}", path.display());
        std::process::exit(1);
    }
    println!("{}", path.display());
}
