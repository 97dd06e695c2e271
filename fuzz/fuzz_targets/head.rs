//! `cargo fuzz run head`: see [`hijack_harness::fuzzing::head`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::head(data)
);
