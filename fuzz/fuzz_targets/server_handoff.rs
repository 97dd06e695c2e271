//! `cargo fuzz run server_handoff`: see [`hijack_harness::fuzzing::server_handoff`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::server_handoff(data)
);
