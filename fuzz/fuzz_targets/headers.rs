//! The request an agent's headers, path and query turn into
//! (`keyward_connectors::http::prepare`, SECURITY.md item 4). Checked:
//! - the header checks ignore case and read `_` as `-`;
//! - no header the agent may not set reaches the wire, nor one the server
//!   would read as the credential's header, and the credential is there
//!   exactly once with the injected value;
//! - a query credential is the one parameter of its name;
//! - the URL keeps the base's origin and is the base's prefix plus the
//!   normalised path, exactly.
#![no_main]

use keyward_connectors::http::{
    Credential, HttpRequest, is_dropped_request_header, is_dropped_response_header,
    is_refused_method, prepare,
};
use keyward_policy::{Method, split_path_and_query};
use keyward_vault::SecretValue;
use libfuzzer_sys::fuzz_target;
use url::Url;

/// The input, one item a line:
/// `BASE CREDENTIAL JSON` (three numbers), the method, the path with its
/// query, the credential's header or parameter name, then `name: value`
/// for a header, `&name=value` for an extra query parameter, or `~MASK`
/// for a header named like the credential, respelled by MASK (see
/// [`respell`]).
#[derive(Debug, Default)]
struct Input {
    base: usize,
    credential: u8,
    json: bool,
    method: String,
    path: String,
    name: String,
    params: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Input {
    fn parse(text: &str) -> Input {
        let mut lines = text.split('\n');
        let mut nums = lines.next().unwrap_or_default().split(' ');
        let mut num = || nums.next().and_then(|n| n.parse::<u8>().ok()).unwrap_or(0);
        let mut input = Input {
            base: usize::from(num()),
            credential: num(),
            json: num() % 2 == 1,
            ..Input::default()
        };
        input.method = lines.next().unwrap_or_default().to_string();
        input.path = lines.next().unwrap_or_default().to_string();
        input.name = lines.next().unwrap_or_default().to_string();
        for line in lines {
            if let Some(param) = line.strip_prefix('&') {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                input.params.push((k.to_string(), v.to_string()));
            } else if let Some(mask) = line.strip_prefix('~') {
                let mask = mask.trim().parse().unwrap_or(u64::MAX);
                let name = respell(&input.name, mask);
                input.headers.push((name, "agent".to_string()));
            } else {
                let (k, v) = line.split_once(':').unwrap_or((line, ""));
                input
                    .headers
                    .push((k.to_string(), v.trim_start().to_string()));
            }
        }
        input
    }
}

const BASES: &[&str] = &[
    "https://api.example.com",
    "https://api.example.com/v1/",
    "http://127.0.0.1:8080/base",
];
const SECRET: &str = "kw-secret-0123456789";

/// `name` with the characters whose bit is set in `mask` (the first 64)
/// respelled: `-` as `_` and back, a letter in the other case. Every such
/// spelling is the same header to a CGI-style server.
fn respell(name: &str, mask: u64) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| match c {
            _ if i >= 64 || mask & (1 << i) == 0 => c,
            '-' => '_',
            '_' => '-',
            c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// How a CGI-style server (WSGI, PHP, Rack) names a header.
fn cgi(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

fn swap_dash_underscore(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '-' => '_',
            '_' => '-',
            c => c,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = Input::parse(text);
    for (name, _) in &input.headers {
        let dropped = is_dropped_request_header(name);
        assert_eq!(
            is_dropped_request_header(&name.to_ascii_uppercase()),
            dropped,
            "{name:?}"
        );
        assert_eq!(
            is_dropped_request_header(&swap_dash_underscore(name)),
            dropped,
            "{name:?}"
        );
        assert_eq!(
            is_dropped_response_header(&name.to_ascii_uppercase()),
            is_dropped_response_header(&name.to_ascii_lowercase()),
            "{name:?}"
        );
    }
    assert_eq!(
        is_refused_method(&input.method),
        is_refused_method(&input.method.to_ascii_lowercase())
    );

    let Ok(method) = Method::parse(&input.method) else {
        return;
    };
    let Ok((path, query)) = split_path_and_query(&input.path) else {
        return;
    };
    let base = Url::parse(BASES[input.base % BASES.len()]).expect("valid base");
    let secret = || SecretValue::from_str(SECRET);
    let cred = match input.credential % 5 {
        0 => Credential::None,
        1 => Credential::Bearer(secret()),
        2 => Credential::Basic {
            username: "bot".into(),
            password: secret(),
        },
        3 => Credential::Header {
            name: input.name.clone(),
            value: secret(),
        },
        _ => Credential::Query {
            name: input.name.clone(),
            value: secret(),
        },
    };
    let req = HttpRequest {
        base_url: base.clone(),
        method: method.clone(),
        path: path.clone(),
        query,
        query_params: input.params.clone(),
        headers: input.headers.clone(),
        body: None,
        json: input.json,
    };
    let Ok(prepared) = prepare(req, &cred) else {
        return;
    };
    assert!(!is_refused_method(prepared.method.as_str()));

    // The origin and the path, exactly.
    let url = &prepared.url;
    assert_eq!(url.scheme(), base.scheme());
    assert_eq!(url.host_str(), base.host_str());
    assert_eq!(url.port_or_known_default(), base.port_or_known_default());
    let prefix = base.path().trim_end_matches('/');
    assert_eq!(
        url.path(),
        format!("{prefix}{}", path.as_str()),
        "the path sent is not the one matched"
    );
    assert!(url.fragment().is_none());

    // The credential, once, as injected.
    let cred_header = match &cred {
        Credential::Bearer(_) | Credential::Basic { .. } => Some("authorization".to_string()),
        Credential::Header { name, .. } => Some(name.to_ascii_lowercase()),
        _ => None,
    };
    if let Some(h) = &cred_header {
        let values: Vec<_> = prepared.headers.get_all(h.as_str()).iter().collect();
        assert_eq!(
            values.len(),
            1,
            "credential header {h:?} is there {} times",
            values.len()
        );
        let v = values[0].to_str().unwrap_or_default();
        match &cred {
            Credential::Bearer(_) => assert_eq!(v, format!("Bearer {SECRET}")),
            Credential::Header { .. } => assert_eq!(v, SECRET),
            _ => assert!(v.starts_with("Basic ")),
        }
    }
    for name in prepared.headers.keys() {
        let n = name.as_str();
        if cred_header.as_deref() == Some(n) {
            continue;
        }
        assert!(
            !is_dropped_request_header(n),
            "the agent's header {n:?} was sent"
        );
        if let Some(h) = &cred_header {
            assert_ne!(
                cgi(n),
                cgi(h),
                "the agent's {n:?} reads as the credential's {h:?}"
            );
        }
    }
    if let Credential::Query { name, .. } = &cred {
        let same: Vec<String> = url
            .query_pairs()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(same, vec![SECRET.to_string()], "query credential {name:?}");
    }
});
