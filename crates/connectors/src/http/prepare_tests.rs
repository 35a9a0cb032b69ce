use keyward_policy::{Method, NormalizedPath};
use keyward_vault::SecretValue;
use url::Url;

use super::*;

const CANARY: &str = "kw_canary_prepare_7f3a9c";

fn req(base: &str, path: &str) -> HttpRequest {
    HttpRequest {
        base_url: Url::parse(base).unwrap(),
        method: Method::parse("get").unwrap(),
        path: NormalizedPath::parse(path).unwrap(),
        query: None,
        query_params: vec![],
        headers: vec![],
        body: None,
        json: false,
    }
}

fn secret() -> SecretValue {
    SecretValue::new(CANARY.as_bytes().to_vec())
}

#[test]
fn joins_under_the_base_prefix() {
    let p = prepare(req("http://127.0.0.1:9000/api", "/v1/x"), &Credential::None).unwrap();
    assert_eq!(p.url.as_str(), "http://127.0.0.1:9000/api/v1/x");
    let p = prepare(
        req("http://127.0.0.1:9000/api/", "/v1/x/"),
        &Credential::None,
    )
    .unwrap();
    assert_eq!(p.url.as_str(), "http://127.0.0.1:9000/api/v1/x/");
    assert_eq!(p.method, reqwest::Method::GET);
}

#[test]
fn path_that_looks_like_an_authority_stays_on_the_host() {
    // `@evil` is a legal path segment; joined after a `/` it cannot become userinfo.
    let p = prepare(
        req("https://api.example.com", "/@evil.com/x"),
        &Credential::None,
    )
    .unwrap();
    assert_eq!(p.url.host_str(), Some("api.example.com"));
}

#[test]
fn query_is_kept_and_params_are_encoded() {
    let mut r = req("https://h", "/s");
    r.query = Some("a=1&b=two".into());
    r.query_params = vec![("c".into(), "x y&z".into())];
    let p = prepare(r, &Credential::None).unwrap();
    assert_eq!(p.url.query(), Some("a=1&b=two&c=x+y%26z"));
}

#[test]
fn a_query_without_credential_is_sent_as_written() {
    let mut r = req("https://h", "/s");
    r.query = Some("flag&expand[]=a&q=a%2Bb".into());
    let p = prepare(r, &Credential::None).unwrap();
    assert_eq!(p.url.query(), Some("flag&expand[]=a&q=a%2Bb"));
}

#[test]
fn query_credential_replaces_any_agent_value() {
    let mut r = req("https://h", "/s");
    r.query = Some("api_key=mine&x=1&API_KEY=other&api%5Fkey=third".into());
    r.query_params = vec![("Api_Key".into(), "fourth".into())];
    let cred = Credential::Query {
        name: "api_key".into(),
        value: secret(),
    };
    let p = prepare(r, &cred).unwrap();
    assert_eq!(
        p.url.query(),
        Some(format!("x=1&api_key={CANARY}").as_str())
    );
    assert!(!p.display_url().contains(CANARY));
}

#[test]
fn agent_cannot_replace_or_add_to_the_credential() {
    let mut r = req("https://h", "/s");
    r.headers = vec![
        ("Authorization".into(), "Bearer attacker".into()),
        ("Cookie".into(), "s=1".into()),
        ("Proxy-Authorization".into(), "x".into()),
        ("Host".into(), "evil.com".into()),
        ("X-Forwarded-Host".into(), "evil.com".into()),
        ("X-HTTP-Method-Override".into(), "DELETE".into()),
        ("Accept".into(), "application/json".into()),
    ];
    let p = prepare(r, &Credential::Bearer(secret())).unwrap();
    let auth: Vec<_> = p.headers.get_all("authorization").iter().collect();
    assert_eq!(auth.len(), 1);
    assert_eq!(auth[0].as_bytes(), format!("Bearer {CANARY}").as_bytes());
    assert!(auth[0].is_sensitive());
    for h in [
        "cookie",
        "proxy-authorization",
        "host",
        "x-forwarded-host",
        "x-http-method-override",
    ] {
        assert!(p.headers.get(h).is_none(), "{h} was sent");
        assert!(p.dropped_headers.iter().any(|d| d == h), "{h} not reported");
    }
    assert_eq!(p.headers.get("accept").unwrap(), "application/json");
}

#[test]
fn custom_header_credential_wins_over_the_agents() {
    let mut r = req("https://h", "/s");
    r.headers = vec![("x-api-key".into(), "attacker".into())];
    let cred = Credential::Header {
        name: "X-Api-Key".into(),
        value: secret(),
    };
    let p = prepare(r, &cred).unwrap();
    let v: Vec<_> = p.headers.get_all("x-api-key").iter().collect();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].as_bytes(), CANARY.as_bytes());
}

#[test]
fn an_agent_header_spelled_with_underscores_does_not_ride_beside_the_credential() {
    // Found by the fuzz target `headers`: `x_api_key` was sent next to the
    // injected `X-Api-Key`, and a CGI-style server reads both as one.
    for (cred_name, agent_name) in [("X-Api-Key", "x_api_key"), ("X_Api_Key", "X-API-KEY")] {
        let mut r = req("https://h", "/s");
        r.headers = vec![(agent_name.into(), "attacker".into())];
        let cred = Credential::Header {
            name: cred_name.into(),
            value: secret(),
        };
        let p = prepare(r, &cred).unwrap();
        assert_eq!(
            p.headers.len(),
            1,
            "{agent_name} was sent beside {cred_name}"
        );
        assert_eq!(
            p.headers.get(cred_name).unwrap().as_bytes(),
            CANARY.as_bytes()
        );
        assert_eq!(p.dropped_headers, vec![agent_name.to_ascii_lowercase()]);
    }
}

#[test]
fn basic_auth_is_base64_of_user_colon_pass() {
    let cred = Credential::Basic {
        username: "bob".into(),
        password: SecretValue::new(b"pw:1".to_vec()),
    };
    let p = prepare(req("https://h", "/"), &cred).unwrap();
    assert_eq!(
        p.headers.get("authorization").unwrap(),
        "Basic Ym9iOnB3OjE="
    );
}

#[test]
fn crlf_in_a_header_value_is_refused() {
    let mut r = req("https://h", "/");
    r.headers = vec![("X-A".into(), "x\r\nHost: evil".into())];
    assert!(matches!(
        prepare(r, &Credential::None),
        Err(HttpError::BadHeader { .. })
    ));
    let mut r = req("https://h", "/");
    r.headers = vec![("X A".into(), "x".into())];
    assert!(matches!(
        prepare(r, &Credential::None),
        Err(HttpError::BadHeader { .. })
    ));
}

#[test]
fn a_credential_that_cannot_be_a_header_is_refused_without_echo() {
    let cred = Credential::Bearer(SecretValue::new(format!("{CANARY}\r\nX: y").into_bytes()));
    let err = prepare(req("https://h", "/"), &cred).unwrap_err();
    assert!(matches!(err, HttpError::BadCredential));
    assert!(!format!("{err} {err:?}").contains(CANARY));
}

#[test]
fn json_sets_content_type_unless_given() {
    let mut r = req("https://h", "/");
    r.json = true;
    r.body = Some(b"{}".to_vec());
    let p = prepare(r, &Credential::None).unwrap();
    assert_eq!(p.headers.get("content-type").unwrap(), "application/json");
}

#[test]
fn origin_check_compares_scheme_host_and_port() {
    let a = Url::parse("https://h/x").unwrap();
    assert!(same_origin(&a, &Url::parse("https://h:443/").unwrap()));
    assert!(!same_origin(&a, &Url::parse("http://h/").unwrap()));
    assert!(!same_origin(&a, &Url::parse("https://h:8443/").unwrap()));
    assert!(!same_origin(&a, &Url::parse("https://evil/").unwrap()));
}

#[test]
fn connect_and_trace_are_never_sent() {
    for m in ["CONNECT", "trace", "TRACK"] {
        let mut r = req("http://127.0.0.1:9/api", "/public/x");
        r.method = Method::parse(m).unwrap();
        assert!(matches!(
            prepare(r, &Credential::Bearer(secret())),
            Err(HttpError::RefusedMethod(_))
        ));
    }
}

#[test]
fn debug_of_a_prepared_request_shows_no_credential() {
    let mut r = req("https://h", "/s");
    r.query = Some("a=1".into());
    let p = prepare(
        r,
        &Credential::Query {
            name: "api_key".into(),
            value: secret(),
        },
    )
    .unwrap();
    let d = format!("{p:?}");
    assert!(!d.contains(CANARY), "{d}");
    let p = prepare(req("https://h", "/s"), &Credential::Bearer(secret())).unwrap();
    assert!(!format!("{p:?}").contains(CANARY));
}
