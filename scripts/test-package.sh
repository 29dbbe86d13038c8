#!/usr/bin/env bash
# The Debian package test: build the .deb, install it, check what it
# installed and created, run the installed milter the way its systemd unit
# does (without systemd) behind a private Postfix whose smtpd runs chrooted
# as in Debian's default master.cf, and purge it again.
#
#   scripts/test-package.sh        (as root; scripts/test.sh calls it)
#
# Shown end to end: in monitor mode a mail with a CPR number in the Subject
# is delivered and logged action=would-reject; after switching the
# installed configuration to enforce and reloading, the same mail gets
# 550 5.7.1; purge leaves no user, group, directory or unit behind.
#
# It installs a package system-wide (and refuses to run when cpr-milter is
# installed already, so it never touches a real installation), but starts
# only a private Postfix instance on a free port of 127.0.0.1 and never
# the system's. The system's socket directory is bind-mounted into the
# private instance's chroot, which is where Debian's smtpd would find it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
TEST=test-package.sh

fail() { printf 'FAIL %s: %s\n' "$TEST" "$*" >&2; exit 1; }
ok() { printf '  ok  %s\n' "$*"; }
step() { printf '\n--> %s\n' "$*"; }
# The shared skip protocol: reported by name, a failure under CI.
skip() {
    if [ -n "${CI:-}" ]; then fail "required under CI but unavailable: $1"; fi
    printf 'SKIPPED %s: %s\n' "$TEST" "$1" >&2
    if [ -n "${CPR_MILTER_SKIP_LOG:-}" ]; then
        printf '%s: %s\n' "$TEST" "$1" >>"$CPR_MILTER_SKIP_LOG"
    fi
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg, a private Postfix)"
command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 ||
    skip "not a Debian system (no dpkg/apt-get)"
if dpkg-query -W -f='${Status}' cpr-milter 2>/dev/null | grep -q 'ok installed'; then
    fail "cpr-milter is installed on this system already; this test installs and purges it, so it will not run here"
fi
scripts/install-package-tools.sh

WORK=$(mktemp -d /tmp/cpr-package-test.XXXXXX)
chmod 0755 "$WORK"
MILTER_PID=
POSTFIX_RUNNING=
MOUNTED=
INSTALLED=
cleanup() {
    set +e
    [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null && wait "$MILTER_PID" 2>/dev/null
    [ -n "$POSTFIX_RUNNING" ] && postfix -c "$WORK/etc" stop >/dev/null 2>&1
    [ -n "$MOUNTED" ] && umount "$MOUNTED"
    if [ -n "$INSTALLED" ]; then
        apt-get -o DPkg::Lock::Timeout=600 purge -y -q cpr-milter >/dev/null 2>&1
    fi
    if [ -n "${CPR_E2E_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- build -----------------------------------------------------------------
step "build the package"
DEB=$(scripts/build-deb.sh | tail -n 1)
DEB=$(realpath "$DEB")
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ "$(basename "$DEB")" = "cpr-milter_${VERSION}_amd64.deb" ] ||
    fail "unexpected package name $DEB"
ok "$DEB"
echo "dpkg -c:"
dpkg -c "$DEB" | awk '{print "  " $1, $2, $6, $7, $8}'

step "lintian"
lintian_out=$(lintian --tag-display-limit 0 "$DEB" 2>&1) || true
echo "${lintian_out:-  (no tags)}" | sed 's/^/  /'
errors=$(printf '%s\n' "$lintian_out" | grep -c '^E: ' || true)
warnings=$(printf '%s\n' "$lintian_out" | grep -c '^W: ' || true)
echo "  lintian summary: $errors error(s), $warnings warning(s)"
[ "$errors" -eq 0 ] || fail "lintian reports errors"
ok "lintian: no errors"

# ---- install ---------------------------------------------------------------
step "install with dpkg (through apt-get, which waits for the dpkg lock)"
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$DEB" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; fail "installation failed"; }
dpkg-query -W -f='${Status} ${Version}\n' cpr-milter | grep -q "install ok installed $VERSION" ||
    fail "not installed"
ok "installed $VERSION"

for f in /usr/sbin/cpr-milter /etc/cpr-milter/cpr-milter.yaml /lib/systemd/system/cpr-milter.service \
    /usr/share/man/man8/cpr-milter.8.gz /usr/share/man/man5/cpr-milter.yaml.5.gz \
    /usr/share/doc/cpr-milter/README.Debian /usr/share/doc/cpr-milter/copyright; do
    [ -f "$f" ] || fail "$f missing"
done
ok "files in place"
dpkg-query -W -f='${Conffiles}\n' cpr-milter | grep -q '/etc/cpr-milter/cpr-milter.yaml' ||
    fail "the configuration is not a conffile"
ok "/etc/cpr-milter/cpr-milter.yaml is a conffile"

getent passwd cpr-milter >/dev/null || fail "no user cpr-milter"
getent group cpr-milter >/dev/null || fail "no group cpr-milter"
[ "$(id -gn cpr-milter)" = cpr-milter ] || fail "user cpr-milter's group is $(id -gn cpr-milter)"
id -nG postfix | tr ' ' '\n' | grep -qx cpr-milter || fail "postfix is not in group cpr-milter"
ok "user and group cpr-milter; postfix is a member"

SOCKET_DIR=/var/spool/postfix/cpr-milter
[ "$(stat -c '%U:%G %a' "$SOCKET_DIR")" = "cpr-milter:cpr-milter 750" ] ||
    fail "$SOCKET_DIR is $(stat -c '%U:%G %a' "$SOCKET_DIR")"
ok "$SOCKET_DIR cpr-milter:cpr-milter 0750"

[ -L /etc/systemd/system/multi-user.target.wants/cpr-milter.service ] ||
    fail "unit not enabled (no multi-user.target.wants link)"
ok "cpr-milter.service enabled"

for page in /usr/share/man/man8/cpr-milter.8.gz /usr/share/man/man5/cpr-milter.yaml.5.gz; do
    warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >"$WORK/page.txt") ||
        fail "man -l $page failed"
    [ -z "$warnings" ] || fail "man -l $page: $warnings"
    [ "$(wc -l <"$WORK/page.txt")" -gt 40 ] || fail "man -l $page rendered almost nothing"
done
grep -q 'EXIT STATUS' <(man -l /usr/share/man/man8/cpr-milter.8.gz 2>/dev/null) || fail "cpr-milter(8) lacks EXIT STATUS"
grep -q 'limits.scan_timeout_seconds' <(man -l /usr/share/man/man5/cpr-milter.yaml.5.gz 2>/dev/null) ||
    fail "cpr-milter.yaml(5) lacks the limits"
ok "man pages render (man -l) without warnings"

CONF=/etc/cpr-milter/cpr-milter.yaml
/usr/sbin/cpr-milter check-config --config "$CONF" | sed -n 2p | grep -q '^Mode in force: MONITOR' ||
    fail "the installed configuration is not in monitor mode"
ok "check-config: installed configuration in monitor mode"

# ---- the milter as its unit runs it -----------------------------------------
UNIT=/lib/systemd/system/cpr-milter.service
unit_value() { sed -n "s/^$1=//p" "$UNIT"; }
UNIT_USER=$(unit_value User)
UNIT_GROUP=$(unit_value Group)
UNIT_UMASK=$(unit_value UMask)
EXEC_PRE=$(unit_value ExecStartPre)
EXEC_START=$(unit_value ExecStart)
[ -n "$UNIT_USER" ] && [ -n "$EXEC_START" ] || fail "cannot read User/ExecStart from $UNIT"
# exec all the way down: the command keeps the caller's pid (for kill -HUP).
as_unit() { exec setpriv --reuid="$UNIT_USER" --regid="$UNIT_GROUP" --init-groups -- sh -c "umask $UNIT_UMASK; exec $1"; }

step "start the installed milter as its unit does: $EXEC_START (user $UNIT_USER, umask $UNIT_UMASK)"
(as_unit "$EXEC_PRE") >/dev/null || fail "ExecStartPre failed: $EXEC_PRE"
MILTER_LOG=$WORK/milter.log
(as_unit "$EXEC_START") </dev/null >/dev/null 2>"$MILTER_LOG" &
MILTER_PID=$!
SOCKET=$SOCKET_DIR/cpr-milter.sock
for _ in $(seq 100); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || { cat "$MILTER_LOG"; fail "no socket $SOCKET"; }
[ "$(stat -c '%U:%G %a' "$SOCKET")" = "cpr-milter:cpr-milter 660" ] ||
    fail "socket is $(stat -c '%U:%G %a' "$SOCKET")"
ok "listening on $SOCKET (cpr-milter:cpr-milter 0660)"

# ---- a private Postfix with Debian's chrooted smtpd ---------------------------
step "private Postfix, smtpd chrooted (Debian's default master.cf)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    shuf -i 20000-60000 -n 1)
mkdir -p "$WORK/etc" "$WORK/queue" "$WORK/data" "$WORK/mail"
chown postfix:postfix "$WORK/data" "$WORK/mail"
# The chroot's /cpr-milter is the package's directory, as it would be with
# the system's queue directory.
mkdir -p "$WORK/queue/cpr-milter"
mount --bind "$SOCKET_DIR" "$WORK/queue/cpr-milter" 2>"$WORK/mount.err" ||
    skip "cannot bind-mount the socket directory into a private chroot: $(cat "$WORK/mount.err")"
MOUNTED=$WORK/queue/cpr-milter
# What Debian's init script copies into the chroot.
mkdir -p "$WORK/queue/etc"
for f in localtime services resolv.conf hosts nsswitch.conf; do
    [ -e "/etc/$f" ] && cp -L "/etc/$f" "$WORK/queue/etc/"
done
# Debian's master.cf as shipped, smtpd moved to our port; chroot stays on.
sed "s/^smtp      inet  n       -       y/127.0.0.1:$PORT inet  n       -       y/" \
    /usr/share/postfix/master.cf.dist >"$WORK/etc/master.cf"
grep -q "^127.0.0.1:$PORT inet  n       -       y       -       -       smtpd" "$WORK/etc/master.cf" ||
    fail "could not move smtpd in master.cf"
cat >"$WORK/etc/main.cf" <<EOF
compatibility_level = 3.6
myhostname = mx.package.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = $WORK/queue
data_directory = $WORK/data
maillog_file = $WORK/maillog
maillog_file_prefixes = $WORK
alias_maps =
alias_database =
smtpd_banner = \$myhostname ESMTP cpr-package-test
virtual_mailbox_domains = inbox.test
virtual_mailbox_maps = static:inbox/
virtual_mailbox_base = $WORK/mail
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
default_transport = discard:
relay_transport = discard:
EOF
# The milter settings exactly as README.Debian gives them.
sed -n "s/^    postconf -e '\(.*\)'$/\1/p" debian/README.Debian >"$WORK/postconf-lines"
[ "$(wc -l <"$WORK/postconf-lines")" -eq 4 ] || fail "README.Debian's postconf -e lines not found"
while IFS= read -r setting; do
    postconf -c "$WORK/etc" -e "$setting"
done <"$WORK/postconf-lines"
postconf -c "$WORK/etc" -h smtpd_milters | grep -qx 'unix:/cpr-milter/cpr-milter.sock' ||
    fail "smtpd_milters not set from README.Debian"
postfix -c "$WORK/etc" check || fail "postfix check"
postfix -c "$WORK/etc" start >/dev/null 2>&1 || { cat "$WORK/maillog"; fail "postfix start"; }
POSTFIX_RUNNING=1
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
ok "Postfix on 127.0.0.1:$PORT, smtpd_milters = unix:/cpr-milter/cpr-milter.sock"

# One SMTP session from 127.0.0.1 (outgoing: organisation.networks) with a
# synthetic CPR number in the Subject; prints every reply line.
send_cpr_mail() { # send_cpr_mail ID
    local id=$1 line
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    reply() { while IFS= read -r -t 30 line <&3; do line=${line%$'\r'}; echo "$line"; [[ $line =~ ^[0-9]{3}\  ]] && break; done; }
    reply >/dev/null
    printf 'EHLO client.package.test\r\n' >&3; reply >/dev/null
    printf 'MAIL FROM:<jens@nyborg.dk>\r\n' >&3; reply >/dev/null
    printf 'RCPT TO:<borger@inbox.test>\r\n' >&3; reply >/dev/null
    printf 'DATA\r\n' >&3; reply >/dev/null
    printf 'From: <jens@nyborg.dk>\r\nTo: <borger@inbox.test>\r\nSubject: Borger 241085-1337\r\nMessage-ID: <%s@package.test>\r\n\r\nHej %s\r\n.\r\n' "$id" "$id" >&3
    reply
    printf 'QUIT\r\n' >&3; reply >/dev/null
    exec 3<&-
}

delivered() { grep -rls "Hej $1" "$WORK/mail/inbox" 2>/dev/null | head -n 1; }

step "monitor mode: delivered, logged would-reject"
answer=$(send_cpr_mail monitor-1)
echo "$answer" | sed 's/^/  S: /'
[[ $answer == 250* ]] || { cat "$WORK/maillog"; fail "monitor mode: end of data answered $answer"; }
for _ in $(seq 100); do [ -n "$(delivered monitor-1)" ] && break; sleep 0.1; done
[ -n "$(delivered monitor-1)" ] || { cat "$WORK/maillog"; fail "monitor mode: mail not delivered"; }
for _ in $(seq 100); do grep -q 'action=would-reject' "$MILTER_LOG" && break; sleep 0.1; done
grep 'action=would-reject' "$MILTER_LOG" | sed 's/^/  log: /'
grep -q 'action=would-reject rule=cpr.subject' "$MILTER_LOG" || { cat "$MILTER_LOG"; fail "no would-reject line"; }
! grep -q '241085-1337\|2410851337' "$MILTER_LOG" || fail "the CPR digits are in the log"
ok "delivered; logged action=would-reject, number masked"

step "switch to enforce as README.Debian says, reload as the unit does"
sed -i 's/^mode: monitor$/mode: enforce/' "$CONF"
/usr/sbin/cpr-milter check-config --config "$CONF" | sed -n 2p | grep -q '^Mode in force: ENFORCE' ||
    fail "check-config does not say enforce"
# ExecReload: check-config, then kill -HUP $MAINPID.
while IFS= read -r cmd; do
    cmd=${cmd//\$MAINPID/$MILTER_PID}
    if [[ $cmd == /bin/kill* ]]; then $cmd; else (as_unit "$cmd") >/dev/null || fail "ExecReload failed: $cmd"; fi
done < <(unit_value ExecReload)
for _ in $(seq 100); do grep -q 'configuration reloaded.*mode=enforce' "$MILTER_LOG" && break; sleep 0.1; done
grep -q 'configuration reloaded.*mode=enforce' "$MILTER_LOG" || { cat "$MILTER_LOG"; fail "no reload"; }
ok "reloaded, mode=enforce"

step "enforce mode: 550 5.7.1"
answer=$(send_cpr_mail enforce-1)
echo "$answer" | sed 's/^/  S: /'
last=$(echo "$answer" | tail -n 1)
[[ $last == "550 5.7.1 "* ]] || { cat "$WORK/maillog"; fail "enforce mode: end of data answered $answer"; }
echo "  a client showing only the last line (mutt) shows: $last"
sleep 1
[ -z "$(delivered enforce-1)" ] || fail "enforce mode: the rejected mail was delivered"
grep -q 'action=reject rule=cpr.subject' "$MILTER_LOG" || fail "no reject line"
ok "rejected with 550 5.7.1, not delivered"

step "stop"
kill "$MILTER_PID"
wait "$MILTER_PID" || true
MILTER_PID=
postfix -c "$WORK/etc" stop >/dev/null 2>&1 || true
POSTFIX_RUNNING=
umount "$MOUNTED"
MOUNTED=

# ---- purge -------------------------------------------------------------------
step "purge"
apt-get -o DPkg::Lock::Timeout=600 purge -y -q cpr-milter >"$WORK/purge.log" 2>&1 ||
    { cat "$WORK/purge.log"; fail "purge failed"; }
INSTALLED=
dpkg-query -W -f='${Status}\n' cpr-milter 2>/dev/null | grep -q 'ok installed' && fail "still installed"
! getent passwd cpr-milter >/dev/null || fail "user cpr-milter left behind"
! getent group cpr-milter >/dev/null || fail "group cpr-milter left behind"
[ ! -e "$SOCKET_DIR" ] || fail "$SOCKET_DIR left behind"
[ ! -e /etc/cpr-milter ] || fail "/etc/cpr-milter left behind"
[ ! -e "$UNIT" ] || fail "$UNIT left behind"
[ ! -e /etc/systemd/system/multi-user.target.wants/cpr-milter.service ] || fail "enablement link left behind"
! find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*cpr-milter*' 2>/dev/null | grep -q . || fail "deb-systemd-helper state left behind"
[ -d /var/spool/postfix ] || fail "purge removed /var/spool/postfix, which is Postfix's"
ok "no user, group, socket directory, configuration or unit left"

printf '\n%s: all package checks passed\n' "$TEST"
