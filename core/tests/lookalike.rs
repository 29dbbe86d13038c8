//! The measured bar for lookalike recipient domains (docs/design.md, "Lookalike recipients").
//!
//! `data/dk-municipal-mail-domains.txt` holds the mail domains of the 98
//! Danish municipalities. It is public data, copied unchanged from the
//! repository ravnensigne/dns-mapping-kommuner (domains.csv) by way of
//! `shared/data/dk-municipal-mail-domains.txt`.
//!
//! Run with `cargo test -p cpr-milter-core --test lookalike -- --nocapture`
//! to see the numbers quoted in the issue.

use cpr_milter_core::recipients::LookalikeChecker;

const MUNICIPAL: &str = include_str!("data/dk-municipal-mail-domains.txt");

fn municipal() -> Vec<String> {
    MUNICIPAL
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The 98 municipal domains plus nyborg.dk and fredericia.dk (already among
/// them; listed again as an organisation would).
fn protected() -> Vec<String> {
    let mut p = municipal();
    p.push("nyborg.dk".into());
    p.push("fredericia.dk".into());
    p
}

/// Well-known real domains a Danish municipality mails every day. None of
/// them imitates a municipality.
const ORDINARY: &[&str] = &[
    "google.com",
    "gmail.com",
    "microsoft.com",
    "outlook.com",
    "outlook.dk",
    "hotmail.com",
    "hotmail.dk",
    "live.dk",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "jubii.dk",
    "mail.dk",
    "tdc.dk",
    "kmd.dk",
    "netcompany.com",
    "kombit.dk",
    "kl.dk",
    "borger.dk",
    "sundhed.dk",
    "skat.dk",
    "politi.dk",
    "digst.dk",
    "mitid.dk",
    "e-boks.dk",
    "dr.dk",
    "dk.dk",
    "fm.dk",
    "fmi.dk",
    "um.dk",
    "stm.dk",
    "jm.dk",
    "sm.dk",
    "uvm.dk",
    "sum.dk",
    "sst.dk",
    "ssi.dk",
    "dst.dk",
    "ft.dk",
    "domstol.dk",
    "regionh.dk",
    "rm.dk",
    "rsyd.dk",
    "rn.dk",
    "regionsjaelland.dk",
    "ku.dk",
    "au.dk",
    "sdu.dk",
    "aau.dk",
    "dtu.dk",
    "ruc.dk",
    "cbs.dk",
    "itu.dk",
    "danskebank.dk",
    "nordea.dk",
    "jyskebank.dk",
    "postnord.dk",
    "dsb.dk",
    "tv2.dk",
    "politiken.dk",
    "berlingske.dk",
    "jp.dk",
    "telenor.dk",
    "telia.dk",
    "yousee.dk",
    "stofa.dk",
    "atea.dk",
    "visma.com",
    "systematic.com",
    "nets.eu",
    "ec.europa.eu",
    "amazon.com",
    "apple.com",
    "linkedin.com",
    "github.com",
    "zoom.us",
    "dropbox.com",
    "proton.me",
    "lego.com",
    "maersk.com",
    "novonordisk.com",
    "carlsberg.com",
    "vestas.com",
    "arla.dk",
    "coop.dk",
    "salling.dk",
    "ikea.dk",
];

/// Lookalikes that must be caught, with the protected domain to suggest.
const REQUIRED: &[(&str, &str)] = &[
    ("fred.dk", "fredericia.dk"),
    ("nyb0rg.dk", "nyborg.dk"),
    ("kommune-nyborg.dk", "nyborg.dk"),
    ("fredericia.dk.com", "fredericia.dk"),
    ("fredericia.com", "fredericia.dk"),
];

/// Further lookalikes of the same two protected domains, one or more per rule.
const MORE: &[(&str, &str)] = &[
    ("nyborgkommune.dk", "nyborg.dk"),
    ("nyborg-sikkermail.dk", "nyborg.dk"),
    ("mitid-nyborg.com", "nyborg.dk"),
    ("nуbоrg.dk", "nyborg.dk"), // Cyrillic у and о
    ("nybørg.dk", "nyborg.dk"),
    ("nyborgg.dk", "nyborg.dk"),
    ("nybrog.dk", "nyborg.dk"),
    ("nyborg.net", "nyborg.dk"),
    ("fredericia.dk.evil.org", "fredericia.dk"),
    ("fredericia-dk.com", "fredericia.dk"),
    ("fredercia.dk", "fredericia.dk"),
    ("fredrecia.dk", "fredericia.dk"),
    ("frederic1a.dk", "fredericia.dk"),
    ("frеdericia.dk", "fredericia.dk"), // Cyrillic е
    ("freder.dk", "fredericia.dk"),
    ("hillerød.dk", "hillerod.dk"),
    ("heming.dk", "herning.dk"),
    ("aarhuskommune.dk", "aarhus.dk"),
];

#[test]
fn no_municipal_domain_flags_another_or_itself() {
    let all = municipal();
    assert_eq!(all.len(), 98, "the data file lists the 98 municipalities");

    // Itself: every domain passes when all 98 are configured as partners.
    let checker = LookalikeChecker::new(&all, &[]);
    let self_flags: Vec<_> = all
        .iter()
        .filter_map(|d| checker.check(d).map(|l| (d, l)))
        .collect();

    // Another: each domain, protected alone, against each of the other 97.
    let mut pairs = 0;
    let mut flags = Vec::new();
    for protected in &all {
        let checker = LookalikeChecker::new(std::slice::from_ref(protected), &[]);
        for other in all.iter().filter(|o| *o != protected) {
            pairs += 1;
            if let Some(l) = checker.check(other) {
                flags.push(format!("{other} -> {} ({})", l.suggestion, l.reason));
            }
        }
    }
    println!("lookalike: municipal domains flagging another: {} of {pairs} pairs; flagging itself: {} of {}", flags.len(), self_flags.len(), all.len());
    for f in &flags {
        println!("  {f}");
    }
    assert_eq!(pairs, 98 * 97);
    assert!(self_flags.is_empty(), "{self_flags:?}");
    assert!(flags.is_empty(), "{flags:?}");
}

#[test]
fn required_lookalikes_are_caught() {
    let checker = LookalikeChecker::new(&protected(), &[]);
    let mut caught = 0;
    for (domain, meant) in REQUIRED.iter().chain(MORE) {
        let got = checker.check(domain);
        println!(
            "lookalike: {domain:<26} -> {}",
            got.as_ref().map_or("PASSED".to_string(), |l| format!(
                "{} ({})",
                l.suggestion, l.reason
            ))
        );
        assert_eq!(
            got.as_ref().map(|l| l.suggestion.as_str()),
            Some(*meant),
            "{domain}"
        );
        caught += 1;
    }

    let gmail = LookalikeChecker::new(&["gmail.com".to_string()], &[]);
    let got = gmail
        .check("gmial.com")
        .expect("gmial.com is caught when gmail.com is protected");
    println!(
        "lookalike: gmial.com (gmail.com protected) -> {} ({})",
        got.suggestion, got.reason
    );
    assert_eq!(got.suggestion, "gmail.com");
    caught += 1;

    println!(
        "lookalike: caught {caught} of {} lookalikes ({} required + {} more + gmial.com)",
        REQUIRED.len() + MORE.len() + 1,
        REQUIRED.len(),
        MORE.len()
    );
}

#[test]
fn ordinary_domains_pass() {
    let checker = LookalikeChecker::new(&protected(), &[]);
    let flagged: Vec<String> = ORDINARY
        .iter()
        .filter_map(|d| {
            checker
                .check(d)
                .map(|l| format!("{d} -> {} ({})", l.suggestion, l.reason))
        })
        .collect();
    println!("lookalike: ordinary domains flagged: {} of {} (protected: 98 municipal + nyborg.dk + fredericia.dk)", flagged.len(), ORDINARY.len());
    for f in &flagged {
        println!("  {f}");
    }
    assert!(ORDINARY.len() >= 50);
    assert!(flagged.is_empty(), "{flagged:?}");
    for required in [
        "dr.dk",
        "dk.dk",
        "fm.dk",
        "fmi.dk",
        "gmail.com",
        "borger.dk",
    ] {
        assert!(ORDINARY.contains(&required));
    }
}

#[test]
fn allow_list_suppresses_a_domain() {
    let allow = vec!["nyborgkommune.dk".to_string(), "fred.dk".to_string()];
    let plain = LookalikeChecker::new(&protected(), &[]);
    let allowed = LookalikeChecker::new(&protected(), &allow);
    for d in ["nyborgkommune.dk", "fred.dk", "mail.fred.dk"] {
        assert!(plain.check(d).is_some(), "{d} is a lookalike");
        assert_eq!(allowed.check(d), None, "{d} is allow-listed");
    }
    assert!(
        allowed.check("kommune-nyborg.dk").is_some(),
        "only the listed domain is suppressed"
    );
}

#[test]
fn check_is_cheap() {
    let checker = LookalikeChecker::new(&protected(), &[]);
    let start = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..100 {
        for d in ORDINARY.iter().chain(REQUIRED.iter().map(|(d, _)| d)) {
            n += usize::from(checker.check(d).is_some());
        }
    }
    let per = start.elapsed() / (100 * (ORDINARY.len() + REQUIRED.len()) as u32);
    println!(
        "lookalike: {per:?} per check against {} protected domains",
        checker.protected_len()
    );
    assert_eq!(n, 100 * REQUIRED.len());
}
