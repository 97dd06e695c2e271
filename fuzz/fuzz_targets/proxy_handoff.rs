//! `cargo fuzz run proxy_handoff`: see [`hijack_harness::fuzzing::proxy::proxy_handoff`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::proxy::proxy_handoff(data)
);
