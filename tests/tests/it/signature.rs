//! T1–T4: only a correctly signed POST is processed; everything else is 401 with nothing
//! stored and nothing parsed.

use crate::support::*;
use integration_tests::harness::{LOCAL_APP_SECRET, Stack, post_with_header, signed_post};
use shared::domain::signature::sign;

#[tokio::test]
async fn t1_valid_signature_is_stored_durably_before_200() {
    let stack = Stack::start().await;
    let body = statuses_body(&[status("wamid.T1", "sent", 1_750_000_000)]);
    assert_eq!(stack.post(&body).await, (200, "EVENT_RECEIVED".to_string()));
    let item = stack
        .item("MSG#wamid.T1", "OUT")
        .await
        .expect("stored before the 200");
    assert_eq!(num(&item, "sent_at"), Some(1_750_000_000));
    assert_eq!(stack.counter.writes(), 1);
}

#[tokio::test]
async fn t2_t3_forged_or_mutated_bodies_are_refused_and_nothing_is_stored() {
    let stack = Stack::start().await;
    let body = statuses_body(&[status("wamid.T2", "sent", 1)]);
    // Wrong secret.
    assert_eq!(
        stack
            .send(signed_post(&body, b"not-the-app-secret"))
            .await
            .0,
        401
    );
    // One byte flipped after signing.
    let sig = sign(LOCAL_APP_SECRET.as_bytes(), &body);
    let mut flipped = body.clone();
    let pos = flipped.iter().position(|b| *b == b'1').unwrap();
    flipped[pos] = b'2';
    assert_eq!(
        stack.send(post_with_header(&flipped, Some(&sig))).await.0,
        401
    );
    // Same JSON re-serialised with other whitespace.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&body).unwrap())
            .unwrap();
    assert_eq!(
        stack.send(post_with_header(&pretty, Some(&sig))).await.0,
        401
    );
    assert_eq!(stack.counter.writes(), 0, "no write for refused POSTs");
    assert!(stack.scan().await.is_empty());
    assert!(
        stack.objects("").await.is_empty(),
        "nothing quarantined either"
    );
}

#[tokio::test]
async fn t4_missing_or_malformed_headers_are_refused_without_panic() {
    let stack = Stack::start().await;
    let body = statuses_body(&[status("wamid.T4", "sent", 1)]);
    let good = sign(LOCAL_APP_SECRET.as_bytes(), &body);
    let hex = &good["sha256=".len()..];
    let headers = [
        None,
        Some(String::new()),
        Some(format!("sha1={hex}")),
        Some(format!("sha256={}", hex.to_uppercase())),
        Some(format!("sha256={}", &hex[..40])),
        Some(format!("sha256= {hex}")),
        Some(format!("sha256={hex},sha256={hex}")),
        Some("garbage".to_string()),
    ];
    for h in headers {
        let (code, _) = stack.send(post_with_header(&body, h.as_deref())).await;
        assert_eq!(code, 401, "header {h:?}");
    }
    assert!(stack.scan().await.is_empty());
    // The well-formed header still works after all that.
    assert_eq!(
        stack.send(post_with_header(&body, Some(&good))).await.0,
        200
    );
}

#[tokio::test]
async fn t5_rotation_accepts_the_previous_secret_while_configured() {
    use integration_tests::harness::webhook_config;
    use shared::config::{Secret, SecretSource};
    let moto = integration_tests::harness::Moto::start();
    let endpoint = moto.url();
    let stack = Stack::on(endpoint, Some(moto), |t, b| {
        let mut c = webhook_config(t, b);
        c.secrets = SecretSource::Env {
            app_secret: Secret::new("new-secret"),
            app_secret_previous: Some(Secret::new(LOCAL_APP_SECRET)),
            verify_token: Secret::new("v"),
        };
        c
    })
    .await;
    let body = statuses_body(&[status("wamid.T5", "sent", 1)]);
    assert_eq!(stack.send(signed_post(&body, b"new-secret")).await.0, 200);
    assert_eq!(
        stack
            .send(signed_post(&body, LOCAL_APP_SECRET.as_bytes()))
            .await
            .0,
        200
    );
    assert_eq!(
        stack.send(signed_post(&body, b"some-other-secret")).await.0,
        401
    );
}

#[tokio::test]
async fn oversized_body_is_413_before_hashing() {
    let stack = Stack::start().await;
    let mut body = statuses_body(&[status("wamid.big", "sent", 1)]);
    body.extend(std::iter::repeat_n(b' ', 5 * 1024 * 1024));
    // Unsigned: the cap comes before the signature check.
    assert_eq!(stack.send(post_with_header(&body, None)).await.0, 413);
    assert_eq!(stack.post(&body).await.0, 413);
    assert!(stack.scan().await.is_empty());
}
