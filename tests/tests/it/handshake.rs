//! T22: the GET verification handshake.

use integration_tests::harness::{LOCAL_VERIFY_TOKEN, Stack, handshake};

#[tokio::test]
async fn t22_challenge_is_echoed_only_for_the_right_token() {
    let stack = Stack::start().await;
    let ok = [
        ("hub.mode", "subscribe"),
        ("hub.challenge", "1158201444"),
        ("hub.verify_token", LOCAL_VERIFY_TOKEN),
    ];
    assert_eq!(
        stack.send(handshake(&ok)).await,
        (200, "1158201444".to_string())
    );
    let refused: [&[(&str, &str)]; 5] = [
        &[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "1"),
            ("hub.verify_token", "wrong"),
        ],
        &[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", LOCAL_VERIFY_TOKEN),
        ],
        &[
            ("hub.mode", "unsubscribe"),
            ("hub.challenge", "1"),
            ("hub.verify_token", LOCAL_VERIFY_TOKEN),
        ],
        &[
            ("hub.challenge", "1"),
            ("hub.verify_token", LOCAL_VERIFY_TOKEN),
        ],
        &[],
    ];
    for params in refused {
        assert_eq!(stack.send(handshake(params)).await.0, 403, "{params:?}");
    }
    // A GET never writes.
    assert_eq!(stack.counter.writes(), 0);
}
