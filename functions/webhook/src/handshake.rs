//! Meta's GET verification handshake.

use crate::answers::respond;
use crate::handler::Webhook;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::ports::{EventStore, RawStore, WebhookSecretSource};
use subtle::ConstantTimeEq;

impl<S: EventStore, R: RawStore, K: WebhookSecretSource> Webhook<S, R, K> {
    /// `hub.mode=subscribe` with the right `hub.verify_token` → 200 echoing `hub.challenge`.
    pub(crate) fn handshake(&self, req: &Request) -> Response<Body> {
        let params = req.query_string_parameters_ref();
        let get = |k: &str| params.and_then(|p| p.first(k));
        let verify_token = self.keys().1;
        let token_ok = get("hub.verify_token")
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(verify_token.expose().as_bytes())));
        match (get("hub.mode"), get("hub.challenge")) {
            (Some("subscribe"), Some(challenge)) if token_ok && !challenge.is_empty() => {
                tracing::info!("webhook verification handshake accepted");
                respond(StatusCode::OK, challenge)
            }
            _ => {
                tracing::info!("webhook verification handshake refused");
                respond(StatusCode::FORBIDDEN, "forbidden")
            }
        }
    }
}
