//! `cargo fuzz run ws_client`: see [`hijack_harness::fuzzing::websocket::ws_client`].
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hijack_harness::fuzzing::init(),
    |data: &[u8]| hijack_harness::fuzzing::websocket::ws_client(data)
);
