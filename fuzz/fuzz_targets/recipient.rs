//! Recipient checks (retired mailboxes, lookalike domains) on arbitrary
//! bytes, converted the way the milter converts protocol values: at RCPT,
//! and for a local submission at end of message.
#![no_main]
use cpr_milter_core::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rcpt = String::from_utf8_lossy(data);
    let inspector = cpr_milter_fuzz::inspector();
    let env = cpr_milter_fuzz::outgoing_envelope();
    let body = b"Subject: hej\r\n\r\nhej\r\n";
    cpr_milter_fuzz::transaction(inspector, env.clone(), &[&rcpt], body);
    let local = Envelope {
        local_submission: true,
        ..env
    };
    cpr_milter_fuzz::transaction(inspector, local, &[&rcpt], body);
});
