//! `cargo fuzz run differential`: see [`hijack_harness::fuzzing::differential`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::differential(data)
);
