//! Every REST route (read from the server's own OpenAPI document) and every gRPC method (read
//! from the weir.v1 descriptors) × every kind of bad credential: each is refused with 401, 403
//! or 404 (gRPC UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND), never a 5xx, never data.

mod auth_support;

use std::time::Duration;

use auth_support::*;
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use prost_types::FileDescriptorSet;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Paths anyone may call: they carry no tenant data.
const PUBLIC: [&str; 3] = ["/healthz", "/readyz", "/.well-known/jwks.json"];

/// Routes and methods any principal of a tenant may use, whatever its scopes.
const TENANT_READABLE_REST: [(&str, &str); 6] = [
    ("GET", "/v1/cluster"),
    ("GET", "/v1/tenants/{tenant}/usage"),
    ("GET", "/v1/tenants/{tenant}/quotas"),
    ("GET", "/v1/admin/tenants/{tenant}"),
    ("GET", "/v1/admin/tenants"),
    ("POST", "/v1/auth/token"),
];
const TENANT_READABLE_GRPC: [&str; 7] = [
    "/weir.v1.Admin/DescribeCluster",
    "/weir.v1.Admin/GetUsage",
    "/weir.v1.Admin/GetQuotas",
    "/weir.v1.Admin/DescribeTenant",
    "/weir.v1.Admin/ListTenants",
    "/weir.v1.Admin/Metadata",
    "/weir.v1.Produce/InitProducer",
];

/// A credential and what it should get.
struct Variant {
    name: &'static str,
    bearer: Option<String>,
    /// A valid principal of another tenant (404s), or of `default` without the scopes (403s).
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    OtherTenant,
    MissingScope,
}

async fn variants(c: &reqwest::Client, s: &Server, key: &TestKey) -> Vec<Variant> {
    let admin = s.admin_token().to_owned();
    create_tenant(c, s, &admin, "other").await;
    let (_, other) = create_key(
        c,
        s,
        &admin,
        "other",
        &[
            "topics:read",
            "topics:write",
            "topics:admin",
            "groups:read",
            "groups:write",
            "keys:admin",
        ],
    )
    .await;
    let (_, narrow) = create_key(c, s, &admin, "default", &["groups:write:nothing-*"]).await;
    let (revoked_id, revoked) = create_key(c, s, &admin, "default", &["admin"]).await;
    let (status, _) = call(
        c,
        s,
        "DELETE",
        &format!("/v1/tenants/default/keys/{revoked_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let good = claims("default", "admin");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let stranger = TestKey::new("not-published", 9);
    let invalid = |name, bearer: String| Variant {
        name,
        bearer: Some(bearer),
        kind: Kind::Invalid,
    };
    vec![
        Variant {
            name: "no credential",
            bearer: None,
            kind: Kind::Invalid,
        },
        invalid("garbage", "not-a-credential".into()),
        invalid("malformed api key", "weir_0123_zz".into()),
        invalid("revoked api key", revoked),
        invalid(
            "expired",
            key.sign(&with(&|c| c["exp"] = json!(now() - 3600))),
        ),
        invalid(
            "not yet valid",
            key.sign(&with(&|c| c["nbf"] = json!(now() + 3600))),
        ),
        invalid(
            "wrong audience",
            key.sign(&with(&|c| c["aud"] = json!("someone-else"))),
        ),
        invalid(
            "wrong issuer",
            key.sign(&with(&|c| c["iss"] = json!("https://evil.test"))),
        ),
        invalid(
            "no subject",
            key.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("sub");
            })),
        ),
        invalid(
            "no expiry",
            key.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
        ),
        invalid(
            "no tenant",
            key.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("tid");
            })),
        ),
        invalid("alg none", alg_none(&key.kid, &good)),
        invalid("HS256 signed with the public key", key.forge_hs256(&good)),
        invalid("unknown kid", stranger.sign(&good)),
        invalid("stripped signature", strip_signature(&key.sign(&good))),
        Variant {
            name: "other tenant's key",
            bearer: Some(other),
            kind: Kind::OtherTenant,
        },
        Variant {
            name: "missing scope",
            bearer: Some(narrow),
            kind: Kind::MissingScope,
        },
    ]
}

/// Every (method, path template) of the REST API, from its own OpenAPI document.
async fn rest_routes(c: &reqwest::Client, s: &Server) -> Vec<(String, String)> {
    let (status, doc) = call(c, s, "GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut routes = vec![("GET".to_owned(), "/metrics".to_owned())];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(routes.len() > 25, "only {} routes", routes.len());
    routes
}

fn fill(template: &str) -> String {
    template
        .replace("{tenant}", "default")
        .replace("{topic}", "t")
        .replace("{group}", "g")
        .replace("{partition}", "0")
        .replace("{id}", "0123456789abcdef")
        .replace("{node_id}", "2")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_route_refuses_every_bad_credential() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::new("k1", 1);
    let (server, _) = start_trusting(dir.path(), &[&key], "");
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_topic(&c, &server, &admin, "default", "t").await;
    let variants = variants(&c, &server, &key).await;
    let routes = rest_routes(&c, &server).await;
    let mut checked = 0;
    for (method, template) in &routes {
        if PUBLIC.contains(&template.as_str()) {
            continue;
        }
        let readable = TENANT_READABLE_REST.contains(&(method.as_str(), template.as_str()));
        let path = fill(template);
        let body = ["POST", "PUT", "PATCH"]
            .contains(&method.as_str())
            .then(|| json!({}));
        for v in &variants {
            let (status, answer) = call(
                &c,
                &server,
                method,
                &path,
                v.bearer.as_deref(),
                body.clone(),
            )
            .await;
            let what = format!("{method} {path} with {}: {status} {answer}", v.name);
            let tenantless = !template.contains("{tenant}");
            match v.kind {
                Kind::MissingScope if readable => {
                    assert_eq!(status, StatusCode::OK, "{what}");
                    continue;
                }
                Kind::OtherTenant if readable && tenantless => {
                    // Its own tenant only: never a word about `default`.
                    assert_eq!(status, StatusCode::OK, "{what}");
                    assert!(!answer.to_string().contains("\"default\""), "{what}");
                    continue;
                }
                _ => {}
            }
            let expected = match v.kind {
                Kind::Invalid => vec![StatusCode::UNAUTHORIZED],
                Kind::OtherTenant if tenantless => vec![StatusCode::FORBIDDEN],
                Kind::OtherTenant => vec![StatusCode::NOT_FOUND],
                Kind::MissingScope => vec![StatusCode::FORBIDDEN],
            };
            assert!(expected.contains(&status), "{what}");
            let code = answer["code"].as_str().unwrap_or_default();
            assert!(
                ["UNAUTHENTICATED", "FORBIDDEN", "TENANT_NOT_FOUND"].contains(&code),
                "{what}"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} refusals checked");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_reads_exactly_like_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_tenant(&c, &server, &admin, "acme").await;
    create_topic(&c, &server, &admin, "acme", "secret").await;
    create_tenant(&c, &server, &admin, "rival").await;
    let (_, rival) = create_key(
        &c,
        &server,
        &admin,
        "rival",
        &["topics:read", "topics:admin"],
    )
    .await;
    let existing = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/acme/topics/secret",
        Some(&rival),
        None,
    )
    .await;
    let missing = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/acme/topics/nothing",
        Some(&rival),
        None,
    )
    .await;
    assert_eq!(existing.0, StatusCode::NOT_FOUND);
    assert_eq!(
        existing, missing,
        "an existing topic of another tenant must look missing"
    );
    // The same answer as for a tenant that does not exist at all, name aside.
    let ghost = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/ghost/topics/secret",
        Some(&rival),
        None,
    )
    .await;
    assert_eq!(ghost.0, existing.0);
    assert_eq!(ghost.1["code"], existing.1["code"]);
    assert_eq!(
        ghost.1["detail"].as_str().unwrap().replace("ghost", "acme"),
        existing.1["detail"].as_str().unwrap()
    );
    // Listing the other tenant's topics, or creating one there, is the same 404.
    for (method, path, body) in [
        ("GET", "/v1/tenants/acme/topics", None),
        (
            "POST",
            "/v1/tenants/acme/topics",
            Some(json!({"name": "planted"})),
        ),
    ] {
        let (status, answer) = call(&c, &server, method, path, Some(&rival), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    server.stop();
}

/// Passes protobuf bytes through untouched, so any method can be called without its types.
#[derive(Debug, Clone, Default)]
struct RawCodec;

#[derive(Debug)]
struct RawEncoder;

#[derive(Debug)]
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Every method as (path, request message with `tenant` = "default" when it has that field).
fn grpc_methods() -> Vec<(String, Bytes)> {
    let set = FileDescriptorSet::decode(weir_proto::v1::FILE_DESCRIPTOR_SET).unwrap();
    let messages: Vec<_> = set
        .file
        .iter()
        .flat_map(|f| {
            f.message_type
                .iter()
                .map(move |m| (format!(".{}.{}", f.package(), m.name()), m))
        })
        .collect();
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let input = messages
                    .iter()
                    .find(|(n, _)| n == method.input_type())
                    .unwrap()
                    .1;
                let mut body = Vec::new();
                if let Some(field) = input.field.iter().find(|f| f.name() == "tenant") {
                    let tag = (field.number() as u64) << 3 | 2;
                    prost::encoding::encode_varint(tag, &mut body);
                    prost::encoding::encode_varint(7, &mut body);
                    body.extend_from_slice(b"default");
                }
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                methods.push((path, Bytes::from(body)));
            }
        }
    }
    assert!(methods.len() >= 30, "only {} methods", methods.len());
    methods
}

/// Calls `path` with one message and returns the status it ended with (Ok when it answered).
async fn raw_call(endpoint: &str, path: &str, body: Bytes, bearer: Option<&str>) -> tonic::Status {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .unwrap()
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(tokio_stream::once(body));
    if let Some(b) = bearer {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {b}").parse().unwrap());
    }
    let in_band = path == "/weir.v1.Produce/ProduceStream";
    match grpc
        .streaming(request, path.parse().unwrap(), RawCodec)
        .await
    {
        Err(status) => status,
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status,
            // ProduceStream answers each request in band: its error is in the message.
            Ok(Some(bytes)) if in_band => {
                match weir_proto::v1::ProduceResponse::decode(bytes)
                    .unwrap()
                    .error
                {
                    Some(e) => {
                        let code = weir_proto::ErrorCode::parse(&e.code).unwrap();
                        tonic::Status::new(weir_api::grpc_code(code), e.message)
                    }
                    None => tonic::Status::ok(""),
                }
            }
            Ok(_) => tonic::Status::ok(""),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grpc_method_refuses_every_bad_credential() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::new("k1", 1);
    let (server, _) = start_trusting(dir.path(), &[&key], "");
    let c = plain_client();
    let variants = variants(&c, &server, &key).await;
    let mut checked = 0;
    for (path, body) in grpc_methods() {
        let readable = TENANT_READABLE_GRPC.contains(&path.as_str());
        for v in &variants {
            let status = raw_call(&server.grpc, &path, body.clone(), v.bearer.as_deref()).await;
            let what = format!(
                "{path} with {}: {:?} {}",
                v.name,
                status.code(),
                status.message()
            );
            if v.kind == Kind::MissingScope && readable {
                assert_eq!(status.code(), tonic::Code::Ok, "{what}");
                continue;
            }
            // Their own tenant only, and the cluster (which names no tenant).
            let tenantless = [
                "/weir.v1.Admin/ListTenants",
                "/weir.v1.Admin/DescribeCluster",
            ];
            if v.kind == Kind::OtherTenant && tenantless.contains(&path.as_str()) {
                assert_eq!(status.code(), tonic::Code::Ok, "{what}");
                continue;
            }
            let expected = match v.kind {
                Kind::Invalid => vec![tonic::Code::Unauthenticated],
                Kind::OtherTenant => vec![tonic::Code::NotFound, tonic::Code::PermissionDenied],
                Kind::MissingScope => vec![tonic::Code::PermissionDenied],
            };
            assert!(expected.contains(&status.code()), "{what}");
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} refusals checked");
    server.stop();
}
