//! Whole-message inspection: arbitrary bytes as the raw mail at end of message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cpr_milter_fuzz::inspect(data);
});
