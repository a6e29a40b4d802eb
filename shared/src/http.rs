//! The managers' APIs' HTTP edge (feature `http`): what the leads and reports functions both
//! need from an API Gateway request, written once.

use crate::config::ApiAuth;
use crate::domain::access::{AccessError, Caller};
use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The caller of an HTTP API request: the JWT authorizer's claims (jwt mode) or the
/// `Authorization` header (token mode), judged by `auth`. `Ok(None)`: not authenticated
/// (401); `Err`: authenticated but not allowed to use the API (403: scope, tenant).
pub fn caller(auth: &ApiAuth, req: &Request) -> Result<Option<Caller>, AccessError> {
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims),
        _ => None,
    };
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth.caller(claims, authorization)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::access::{Access, AccessPolicy};
    use serde_json::{Value, json};

    /// An HTTP API (payload 2.0) event, with the JWT authorizer's claims when given.
    fn event(claims: Option<Value>, authorization: Option<&str>) -> Request {
        let mut headers = json!({"host": "api.example.com"});
        if let Some(a) = authorization {
            headers["authorization"] = json!(a);
        }
        let mut context = json!({"accountId": "123456789012", "apiId": "api",
            "domainName": "api.example.com", "domainPrefix": "api", "requestId": "r",
            "routeKey": "$default", "stage": "$default", "time": "20/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_168_800_000i64,
            "http": {"method": "GET", "path": "/v1/leads", "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1", "userAgent": "t"}});
        if let Some(c) = claims {
            context["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}});
        }
        let e = json!({"version": "2.0", "routeKey": "$default", "rawPath": "/v1/leads",
            "rawQueryString": "", "headers": headers, "requestContext": context,
            "isBase64Encoded": false});
        lambda_http::request::from_str(&e.to_string()).expect("an HTTP API event")
    }

    #[test]
    fn jwt_mode_reads_the_authorizers_claims() {
        let auth = ApiAuth::Jwt(AccessPolicy::default());
        let claims = json!({"sub": "ana", "scope": "wa-insights/api", "custom:waba_ids": "1001"});
        let ana = caller(&auth, &event(Some(claims), None)).unwrap().unwrap();
        assert_eq!(ana.name, "ana");
        assert!(matches!(ana.access, Access::Wabas(w) if w.contains("1001")));
        assert!(
            caller(&auth, &event(None, None)).unwrap().is_none(),
            "no claims: 401"
        );
        let unscoped = json!({"sub": "ana", "custom:waba_ids": "1001"});
        assert!(matches!(
            caller(&auth, &event(Some(unscoped), None)),
            Err(AccessError::InsufficientScope(_))
        ));
    }

    #[test]
    fn token_mode_reads_the_bearer_token() {
        let auth = ApiAuth::Token(Secret::new("a-local-token-of-16+".to_string()));
        let ok = caller(&auth, &event(None, Some("Bearer a-local-token-of-16+")));
        assert!(ok.unwrap().is_some_and(|c| c.access == Access::All));
        let wrong = caller(&auth, &event(None, Some("Bearer another-token-of-16+")));
        assert!(wrong.unwrap().is_none());
        assert!(caller(&auth, &event(None, None)).unwrap().is_none());
    }
}
