//! The reference, server and client, against generated scenarios over the in-memory wire.

mod support;

use hijack_harness::check::{run_client, run_server};
use hijack_harness::scenario::scenario;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use proptest::prelude::*;

proptest! {
    #![proptest_config(support::proptest_config("properties"))]

    /// Every byte the client sends after the request reaches the server
    /// application, every byte the application writes reaches the client, and
    /// nothing else does.
    #[test]
    fn reference_server_conforms(s in scenario()) {
        let run = run_server(&ReferenceServer::default(), &s);
        prop_assert!(run.passed(), "{}", support::report(&run));
    }

    /// The same for the client side: what the server sent after its head reaches
    /// the client application, and the client's writes reach the server.
    #[test]
    fn reference_client_conforms(s in scenario()) {
        let run = run_client(&ReferenceClient::default(), &s);
        prop_assert!(run.passed(), "{}", support::report(&run));
    }
}
