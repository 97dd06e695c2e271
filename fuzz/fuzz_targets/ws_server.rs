//! `cargo fuzz run ws_server`: see [`hijack_harness::fuzzing::websocket::ws_server`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::websocket::ws_server(data)
);
