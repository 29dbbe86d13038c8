//! A private Postfix instance per test: its own config directory, queue,
//! data directory, `maillog_file` and Maildir in a temporary directory, smtpd
//! on a free port of 127.0.0.1, stopped (and any leftover process killed)
//! when the guard is dropped.
//!
//! Needs root and Debian's `postfix` package (`scripts/test.sh` installs it).
//! Instances are independent, so tests may run in parallel. The facts this
//! relies on are in docs/operations.md and this module's comments.

use super::{keep_tempdirs, pid_alive, poll, read_lossy, running_as_root, signal, smtp};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tempfile::TempDir;

/// Mail to this domain is delivered into the instance's Maildir.
pub const INBOX_DOMAIN: &str = "inbox.test";
/// How long to wait for asynchronous delivery.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 3;
const SENDMAIL_TIMEOUT: Duration = Duration::from_secs(20);

/// How to configure the instance.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Value of `smtpd_milters`, e.g. `inet:127.0.0.1:8899`; `None` for none.
    pub smtpd_milters: Option<String>,
    /// Extra or overriding main.cf parameters.
    pub main_cf: Vec<(String, String)>,
}

impl Options {
    pub fn without_milter() -> Options {
        Options::default()
    }

    /// Postfix consults the milter on 127.0.0.1:`port`.
    pub fn with_milter_port(port: u16) -> Options {
        Options {
            smtpd_milters: Some(format!("inet:127.0.0.1:{port}")),
            main_cf: Vec::new(),
        }
    }

    pub fn set(mut self, name: &str, value: &str) -> Options {
        self.main_cf.push((name.to_string(), value.to_string()));
        self
    }
}

pub struct Postfix {
    /// `None` once kept (CPR_E2E_KEEP=1) or when cleanup is done.
    tempdir: Option<TempDir>,
    root: PathBuf,
    port: u16,
    token: String,
    running: bool,
}

impl Postfix {
    /// Creates, checks and starts a private instance; panics with the
    /// reason (postfix check output, maillog) when it cannot.
    pub fn start(options: &Options) -> Postfix {
        assert!(
            running_as_root(),
            "the Postfix end-to-end tests must run as root (Postfix's master \
             needs it); run ./scripts/test.sh as root"
        );
        let mut last_error = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match Postfix::try_start(options) {
                Ok(p) => return p,
                Err(e) => {
                    eprintln!("postfix start attempt {attempt} failed: {e}");
                    last_error = e;
                }
            }
        }
        panic!("could not start a private Postfix: {last_error}");
    }

    fn try_start(options: &Options) -> Result<Postfix, String> {
        // Not $TMPDIR: it may sit under a directory (e.g. /root) that the
        // unprivileged Postfix daemons cannot traverse.
        let tempdir = tempfile::Builder::new()
            .prefix("cpr-e2e-postfix.")
            .tempdir_in(super::shared_tmp())
            .map_err(|e| format!("tempdir: {e}"))?;
        let root = tempdir.path().to_path_buf();
        let token = root
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit('.').next())
            .unwrap_or("x")
            .to_string();
        let port = super::free_port();
        // From here on, Drop cleans up whatever was started.
        let mut pf = Postfix {
            tempdir: Some(tempdir),
            root,
            port,
            token,
            running: false,
        };
        pf.configure(options)?;
        let check = pf.postfix(&["check"]);
        if !check.0 {
            return Err(format!(
                "postfix check failed:\n{}\nmaillog:\n{}",
                check.1,
                pf.maillog()
            ));
        }
        let start = pf.postfix(&["start"]);
        pf.running = true;
        if !start.0 {
            return Err(format!(
                "postfix start failed:\n{}\nmaillog:\n{}",
                start.1,
                pf.maillog()
            ));
        }
        if poll(START_TIMEOUT, || pf.banner_is_ours().then_some(())).is_none() {
            return Err(format!(
                "smtpd did not answer with our banner on 127.0.0.1:{} within {:?}\nmaillog:\n{}",
                pf.port,
                START_TIMEOUT,
                pf.maillog()
            ));
        }
        Ok(pf)
    }

    fn configure(&self, options: &Options) -> Result<(), String> {
        let root = &self.root;
        let (uid, gid) = postfix_ids()?;
        // Postfix daemons (unprivileged) must reach the queue and mailbox.
        fs::set_permissions(root, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", root.display()))?;
        for d in ["etc", "queue", "data", "mail"] {
            fs::create_dir(root.join(d)).map_err(|e| format!("mkdir {d}: {e}"))?;
        }
        for d in ["data", "mail"] {
            std::os::unix::fs::chown(root.join(d), Some(uid), Some(gid))
                .map_err(|e| format!("chown {d}: {e}"))?;
        }
        let r = root.display();
        let mut params: Vec<(String, String)> = vec![
            ("compatibility_level".into(), "3.6".into()),
            ("myhostname".into(), "mx.e2e.test".into()),
            ("mydomain".into(), "e2e.test".into()),
            ("myorigin".into(), "$myhostname".into()),
            ("mydestination".into(), String::new()),
            ("inet_interfaces".into(), "127.0.0.1".into()),
            ("inet_protocols".into(), "ipv4".into()),
            ("mynetworks".into(), "127.0.0.0/8".into()),
            ("queue_directory".into(), format!("{r}/queue")),
            ("data_directory".into(), format!("{r}/data")),
            ("maillog_file".into(), format!("{r}/maillog")),
            ("maillog_file_prefixes".into(), format!("{r}")),
            ("alias_maps".into(), String::new()),
            ("alias_database".into(), String::new()),
            ("biff".into(), "no".into()),
            (
                "smtpd_banner".into(),
                format!("$myhostname ESMTP cpr-e2e {}", self.token),
            ),
            ("virtual_mailbox_domains".into(), INBOX_DOMAIN.into()),
            ("virtual_mailbox_maps".into(), "static:inbox/".into()),
            ("virtual_mailbox_base".into(), format!("{r}/mail")),
            ("virtual_uid_maps".into(), format!("static:{uid}")),
            ("virtual_gid_maps".into(), format!("static:{gid}")),
            ("default_transport".into(), "discard:".into()),
            ("relay_transport".into(), "discard:".into()),
            (
                "smtpd_milters".into(),
                options.smtpd_milters.clone().unwrap_or_default(),
            ),
            ("non_smtpd_milters".into(), String::new()),
            ("milter_protocol".into(), "6".into()),
            ("milter_default_action".into(), "tempfail".into()),
            ("milter_connect_timeout".into(), "5s".into()),
            ("milter_command_timeout".into(), "15s".into()),
            ("milter_content_timeout".into(), "30s".into()),
        ];
        for (k, v) in &options.main_cf {
            match params.iter_mut().find(|(name, _)| name == k) {
                Some(p) => p.1 = v.clone(),
                None => params.push((k.clone(), v.clone())),
            }
        }
        let main_cf: String = params.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        fs::write(root.join("etc/main.cf"), main_cf).map_err(|e| format!("main.cf: {e}"))?;
        fs::write(root.join("etc/master.cf"), master_cf(self.port)?)
            .map_err(|e| format!("master.cf: {e}"))?;
        Ok(())
    }

    /// Runs `postfix -c DIR/etc ARGS`; returns success and combined output.
    fn postfix(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(postfix_command())
            .arg("-c")
            .arg(self.config_dir())
            .args(args)
            .output();
        match out {
            Ok(o) => (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            ),
            Err(e) => (false, format!("cannot run postfix: {e}")),
        }
    }

    /// True when 127.0.0.1:port greets with this instance's banner (and not
    /// some other process that happened to grab the port).
    fn banner_is_ours(&self) -> bool {
        smtp::greets_with(self.port, &self.token)
    }

    /// The smtpd port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance's temporary directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn config_dir(&self) -> PathBuf {
        self.root.join("etc")
    }

    pub fn maillog_path(&self) -> PathBuf {
        self.root.join("maillog")
    }

    /// Everything Postfix logged so far.
    pub fn maillog(&self) -> String {
        read_lossy(&self.maillog_path())
    }

    /// Waits (bounded) until the maillog contains `needle`; returns the log.
    /// Postfix logs through postlogd, so lines arrive asynchronously.
    pub fn wait_maillog(&self, needle: &str, timeout: Duration) -> String {
        poll(timeout, || {
            let log = self.maillog();
            log.contains(needle).then_some(log)
        })
        .unwrap_or_else(|| {
            panic!(
                "maillog has no {needle:?} after {timeout:?}:\n{}",
                self.maillog()
            )
        })
    }

    /// Submits `message` without SMTP, the way a local program does: this
    /// instance's `sendmail -C ETC -f FROM -t -i` (recipients from the To/Cc
    /// headers), which hands it to postdrop; the `pickup` service then feeds
    /// it to cleanup, where `non_smtpd_milters` apply. Returns sendmail's
    /// output when it exits 0 within the timeout.
    pub fn sendmail(&self, from: &str, message: &[u8]) -> Result<String, String> {
        use std::io::Write;
        let mut child = Command::new(sendmail_command())
            .arg("-C")
            .arg(self.config_dir())
            .args(["-f", from, "-t", "-i"])
            .env("MAIL_CONFIG", self.config_dir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn sendmail: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let written = stdin.write_all(message);
        drop(stdin);
        let status = poll(SENDMAIL_TIMEOUT, || child.try_wait().ok().flatten());
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "sendmail did not finish within {SENDMAIL_TIMEOUT:?}"
            ));
        };
        let out = child
            .wait_with_output()
            .map_err(|e| format!("sendmail output: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        written.map_err(|e| format!("writing to sendmail: {e}; output: {text}"))?;
        if status.success() {
            Ok(text)
        } else {
            Err(format!("sendmail exited with {status}: {text}"))
        }
    }

    /// The instance's master.cf as written.
    pub fn master_cf(&self) -> String {
        read_lossy(&self.config_dir().join("master.cf"))
    }

    /// Waits (bounded) until `needle` occurs at least `n` times in the
    /// maillog; returns the log.
    pub fn wait_maillog_count(&self, needle: &str, n: usize, timeout: Duration) -> String {
        poll(timeout, || {
            let log = self.maillog();
            (log.matches(needle).count() >= n).then_some(log)
        })
        .unwrap_or_else(|| {
            panic!(
                "maillog has fewer than {n} {needle:?} after {timeout:?}:\n{}",
                self.maillog()
            )
        })
    }

    /// The Maildir that receives all mail for `INBOX_DOMAIN`.
    pub fn maildir(&self) -> PathBuf {
        self.root.join("mail/inbox")
    }

    /// Messages delivered so far (Maildir `new/` and `cur/`), by file name.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| fs::read_dir(self.maildir().join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        super::read_in_name_order(files)
    }

    /// Waits (up to 10 s) until at least `n` messages are delivered.
    pub fn wait_delivered(&self, n: usize) -> Vec<Vec<u8>> {
        poll(DELIVERY_TIMEOUT, || {
            let d = self.delivered();
            (d.len() >= n).then_some(d)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} delivered message(s) within {DELIVERY_TIMEOUT:?}, have {}\nmaillog:\n{}",
                self.delivered().len(),
                self.maillog()
            )
        })
    }

    /// Files in Postfix's queue (incoming, active, deferred, hold, maildrop):
    /// mail Postfix took responsibility for and has not yet delivered.
    pub fn queued(&self) -> usize {
        [
            "incoming", "active", "deferred", "hold", "maildrop", "corrupt",
        ]
        .iter()
        .map(|q| count_files(&self.root.join("queue").join(q)))
        .sum()
    }

    fn master_pid(&self) -> Option<u32> {
        fs::read_to_string(self.root.join("queue/pid/master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the instance: `postfix stop`, bounded wait for the master, then
    /// SIGKILL for the master and any process still using this config.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let pid = self.master_pid();
        let (ok, out) = self.postfix(&["stop"]);
        if !ok && pid.is_some_and(pid_alive) {
            eprintln!("postfix stop: {out}");
        }
        if let Some(pid) = pid {
            if poll(STOP_TIMEOUT, || (!pid_alive(pid)).then_some(())).is_none() {
                eprintln!("postfix master {pid} still alive after stop; killing it");
                signal(pid, "KILL");
            }
        }
        // Children leave on their own once master is gone; make sure.
        let marker = format!("MAIL_CONFIG={}", self.config_dir().display());
        let leftovers = || processes_with_env(&marker);
        if poll(Duration::from_secs(5), || {
            leftovers().is_empty().then_some(())
        })
        .is_none()
        {
            for pid in leftovers() {
                eprintln!("killing leftover Postfix process {pid}");
                signal(pid, "KILL");
            }
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = self.tempdir.take() {
            if keep_tempdirs() {
                eprintln!("keeping Postfix test dir {}", dir.keep().display());
            }
        }
    }
}

fn postfix_command() -> &'static str {
    if Path::new("/usr/sbin/postfix").exists() {
        "/usr/sbin/postfix"
    } else {
        "postfix"
    }
}

fn sendmail_command() -> &'static str {
    if Path::new("/usr/sbin/sendmail").exists() {
        "/usr/sbin/sendmail"
    } else {
        "sendmail"
    }
}

/// uid and gid of the `postfix` user (mail_owner).
fn postfix_ids() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, "postfix"])
            .output()
            .map_err(|e| format!("id {flag} postfix: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "no postfix user: is the postfix package installed?".to_string())
    };
    Ok((id("-u")?, id("-g")?))
}

/// Debian's master.cf with `smtp inet` moved to 127.0.0.1:`port`, every other
/// inet service removed (no clash with a system Postfix) and chroot off.
fn master_cf(port: u16) -> Result<String, String> {
    let sources = [
        "/etc/postfix/master.cf",
        "/usr/share/postfix/master.cf.dist",
    ];
    for src in sources {
        let Ok(text) = fs::read_to_string(src) else {
            continue;
        };
        if let Some(out) = rewrite_master_cf(&text, port) {
            return Ok(out);
        }
    }
    Err(format!(
        "no usable master.cf (with an `smtp inet ... smtpd` line) in {sources:?}"
    ))
}

fn rewrite_master_cf(text: &str, port: u16) -> Option<String> {
    let mut out = String::new();
    let mut skipping = false;
    let mut found_smtpd = false;
    for line in text.lines() {
        let continuation = line.starts_with([' ', '\t']);
        if line.trim().is_empty() || line.starts_with('#') || continuation {
            if !(skipping && continuation) {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let mut fields: Vec<String> = line.split_whitespace().map(String::from).collect();
        if fields.len() < 8 {
            return None;
        }
        skipping = false;
        if fields[1] == "inet" {
            if fields[0] == "smtp" && fields[7] == "smtpd" && !found_smtpd {
                fields[0] = format!("127.0.0.1:{port}");
                found_smtpd = true;
            } else {
                skipping = true;
                continue;
            }
        }
        fields[4] = "n".into();
        out.push_str(&fields.join(" "));
        out.push('\n');
    }
    found_smtpd.then_some(out)
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p)
            } else {
                1
            }
        })
        .sum()
}

/// Pids whose environment contains exactly `entry` (e.g. `MAIL_CONFIG=...`).
fn processes_with_env(entry: &str) -> Vec<u32> {
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != std::process::id() && pid_alive(pid))
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == entry.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::rewrite_master_cf;

    #[test]
    fn master_cf_rewrite() {
        let text = "# comment\n\
            smtp      inet  n       -       y       -       -       smtpd\n\
            submission inet n       -       y       -       -       smtpd\n  -o smtpd_sasl_auth_enable=yes\n\
            pickup    unix  n       -       y       60      1       pickup\n";
        let out = rewrite_master_cf(text, 2525).unwrap();
        assert_eq!(
            out,
            "# comment\n127.0.0.1:2525 inet n - n - - smtpd\npickup unix n - n 60 1 pickup\n"
        );
        assert!(rewrite_master_cf("pickup unix n - y 60 1 pickup\n", 1).is_none());
    }
}
