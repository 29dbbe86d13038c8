//! The configuration parser (policy and daemon settings, as the daemon reads
//! a file) and everything built from a file it accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(loaded) = cpr_milter::settings::parse(text, "fuzz.yaml") {
        let _ = cpr_milter::settings::describe(&loaded);
        let inspector = Arc::new(loaded.inspector);
        cpr_milter_fuzz::transaction(
            &inspector,
            cpr_milter_fuzz::outgoing_envelope(),
            &["<someone@fredericia-dk.com>", "<a@nyborg.dk>"],
            b"Subject: 010203-0405\r\n\r\nhej\r\n",
        );
    }
});
