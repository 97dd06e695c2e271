//! `cargo fuzz run client_handoff`: see [`hijack_harness::fuzzing::client_handoff`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::client_handoff(data)
);
