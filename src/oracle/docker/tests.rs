//! The judgement on hand-made runs: a conformant client passes, and each
//! broken promise fails with the point, the stream, the frame and the bytes.

use bytes::Bytes;

use super::*;
use crate::suite::attach::upgraded_head;
use crate::suite::docker as cases;
use crate::wire::{Closing, Event};

const REQUEST: &[u8] =
    b"POST /v1.41/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

/// A run of `case` where the client sent `stdin` after its request (then FIN
/// when `fin`), and the stub sent the 101 and the case's output as the case
/// says (the early bytes in the head's segment).
fn run(case: &Case<Attach>, stdin: &[u8], fin: bool) -> (Trace, Handover) {
    let head = upgraded_head(case.scenario.tty, true);
    let (before, after, _) = case.scenario.wire();
    let early = case.scenario.early.min(before.len());
    let mut first = head.clone();
    first.extend_from_slice(&before[..early]);
    let mut events = vec![
        Event::Segment {
            dir: Direction::ClientToServer,
            index: 0,
            bytes: Bytes::copy_from_slice(REQUEST),
        },
        Event::Segment {
            dir: Direction::ServerToClient,
            index: 0,
            bytes: first.into(),
        },
    ];
    if early < before.len() {
        events.push(Event::Segment {
            dir: Direction::ServerToClient,
            index: 1,
            bytes: Bytes::copy_from_slice(&before[early..]),
        });
    }
    if !stdin.is_empty() {
        events.push(Event::Segment {
            dir: Direction::ClientToServer,
            index: 1,
            bytes: Bytes::copy_from_slice(stdin),
        });
    }
    if fin {
        events.push(Event::Fin {
            dir: Direction::ClientToServer,
            how: Closing::Shutdown,
        });
        if !after.is_empty() {
            events.push(Event::Segment {
                dir: Direction::ServerToClient,
                index: 2,
                bytes: after.into(),
            });
        }
    }
    let handover = Handover {
        connection: 2,
        request: "POST /v1.41/containers/c1/attach".into(),
        stdin_from: REQUEST.len(),
        output_from: head.len(),
        stdin_attached: true,
        refused: false,
        mismatch: None,
    };
    (Trace::from(events), handover)
}

fn verdict(
    case: &Case<Attach>,
    stdout: &[u8],
    stderr: &[u8],
    trace: &Trace,
    handover: &Handover,
) -> Verdict {
    match judge(&ClientObservation {
        case,
        stdout,
        stderr,
        handover: Some(handover),
        trace,
        stdin_closed: true,
    }) {
        Judgement::Judged(v) => v,
        Judgement::Unsupported(why) => panic!("unsupported: {why}"),
    }
}

#[test]
fn a_client_that_prints_and_sends_everything_passes() {
    for case in cases::all().iter().filter(|c| !c.scenario.refused()) {
        let (trace, handover) = run(case, &case.scenario.stdin, true);
        let v = verdict(
            case,
            &case.scenario.expected(Stream::Stdout),
            &case.scenario.expected(Stream::Stderr),
            &trace,
            &handover,
        );
        assert!(v.passed(), "{}: {v}", case.id);
    }
}

#[test]
fn output_lost_with_the_101_names_the_stream_the_frame_and_the_segment() {
    let case = cases::mux_early(300);
    let (trace, handover) = run(&case, &case.scenario.stdin, true);
    // The client lost its read-ahead: the whole of both frames.
    let v = verdict(&case, b"", b"", &trace, &handover);
    assert!(v.breaks(Point::ClientRead), "{v}");
    let text = v.to_string();
    for want in [
        "printed 0 bytes on stdout of the 300 bytes the container wrote there",
        "bytes 0..300 (300 bytes) the container wrote never arrived (frame 0's payload",
        "the one that carried the 101 head",
        "on stderr",
        "frame 1's payload",
    ] {
        assert!(text.contains(want), "missing {want:?} in {text}");
    }
    assert!(!v.violations[0].marks.is_empty());
}

#[test]
fn a_missing_fin_is_point_5_and_lost_stdin_is_point_1() {
    let case = cases::output_after_stdin_eof();
    let (trace, handover) = run(&case, &case.scenario.stdin[..100], false);
    let v = verdict(&case, &case.scenario.output[0].1, b"", &trace, &handover);
    assert!(v.breaks(Point::HalfClose), "{v}");
    assert!(v.breaks(Point::ServerRead), "{v}");
    // The output after EOF was never sent: it is not also a point 2 failure.
    assert!(!v.breaks(Point::ClientRead), "{v}");
    let text = v.to_string();
    assert!(
        text.contains("bytes 100..300 (200 bytes) written on stdin never arrived"),
        "{text}"
    );
    assert!(
        text.contains("no FIN arrived on the attach connection"),
        "{text}"
    );
}

#[test]
fn output_after_the_fin_that_is_not_printed_is_point_5() {
    let case = cases::output_after_stdin_eof();
    let (trace, handover) = run(&case, &case.scenario.stdin, true);
    let v = verdict(&case, &case.scenario.output[0].1, b"", &trace, &handover);
    assert_eq!(
        v.violations.iter().map(|v| v.point).collect::<Vec<_>>(),
        [Point::HalfClose, Point::HalfClose],
        "{v}"
    );
    assert!(v.to_string().contains("sent after the client's FIN"), "{v}");
}

#[test]
fn frame_headers_printed_as_output_are_extra_bytes() {
    let case = cases::mux_early(1);
    let (trace, handover) = run(&case, &case.scenario.stdin, true);
    let (before, _, _) = case.scenario.wire();
    let v = verdict(&case, &before, b"", &trace, &handover);
    assert!(v.breaks(Point::ClientRead), "{v}");
    assert!(v.to_string().contains("\\x01\\x00\\x00\\x00"), "{v}");
}

fn refused_run(case: &Case<Attach>, after_request: &[u8]) -> (Trace, Handover) {
    let refusal = case.scenario.refusal.as_ref().expect("a refusal case");
    let (answer, message_len) = refusal.answer(case.scenario.tty);
    let head_len = message_len - refusal.body().len();
    let mut events = vec![
        Event::Segment {
            dir: Direction::ClientToServer,
            index: 0,
            bytes: Bytes::copy_from_slice(REQUEST),
        },
        Event::Segment {
            dir: Direction::ServerToClient,
            index: 0,
            bytes: answer.into(),
        },
    ];
    if !after_request.is_empty() {
        events.push(Event::Segment {
            dir: Direction::ClientToServer,
            index: 1,
            bytes: Bytes::copy_from_slice(after_request),
        });
    }
    let handover = Handover {
        connection: 1,
        request: "POST /v1.41/containers/c1/attach".into(),
        stdin_from: REQUEST.len(),
        output_from: head_len,
        stdin_attached: true,
        refused: true,
        mismatch: None,
    };
    (Trace::from(events), handover)
}

#[test]
fn a_refusal_passes_when_nothing_is_handed_over() {
    let case = cases::refused(404, true, false);
    let (trace, handover) = refused_run(
        &case,
        b"GET /v1.41/containers/c1/json HTTP/1.1\r\nHost: d\r\n\r\n",
    );
    let v = verdict(
        &case,
        b"",
        b"Error response from daemon: {\"message\":\"No such container: c1\"}\n",
        &trace,
        &handover,
    );
    assert!(v.passed(), "{v}");
}

#[test]
fn stdin_sent_raw_after_a_refusal_is_point_6() {
    let case = cases::refused(409, true, false);
    let (trace, handover) = refused_run(&case, &case.scenario.stdin[..40]);
    let v = verdict(
        &case,
        b"",
        b"Unrecognized input header: 123\n",
        &trace,
        &handover,
    );
    assert!(v.breaks(Point::NoFalseUpgrade), "{v}");
    let text = v.to_string();
    assert!(
        text.contains("after the 409 with Connection: close"),
        "{text}"
    );
    assert!(text.contains("the case's stdin, bytes 0..40"), "{text}");
}

#[test]
fn a_refusal_body_printed_as_output_is_point_6() {
    let case = cases::refused(404, true, true);
    let (trace, handover) = refused_run(&case, b"");
    let refusal = case.scenario.refusal.clone().expect("refusal");
    let mut stdout = refusal.body();
    stdout.extend_from_slice(&refusal.trailing);
    let v = verdict(&case, &stdout, b"", &trace, &handover);
    assert!(v.breaks(Point::NoFalseUpgrade), "{v}");
    let text = v.to_string();
    assert!(text.contains("the answer's JSON body"), "{text}");
    assert!(text.contains("at stdout byte 0"), "{text}");
}

#[test]
fn a_client_that_never_attaches_is_unsupported() {
    let case = cases::tty_early(1);
    let judged = judge(&ClientObservation {
        case: &case,
        stdout: b"",
        stderr: b"the input device is not a TTY\n",
        handover: None,
        trace: &Trace::default(),
        stdin_closed: false,
    });
    assert!(matches!(judged, Judgement::Unsupported(_)), "{judged:?}");
}
