//! `cargo fuzz run hyper_server`: see [`hijack_harness::fuzzing::hyper_server`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::hyper_server(data)
);
