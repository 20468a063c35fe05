//! The web console at `/ui`: the assets `build.rs` embedded from `web-ui/dist`.
//!
//! Owns how they are served: `index.html` for `/ui/` and for every other path under it that
//! is not a file (the console routes with the History API), hashed `assets/*` cacheable
//! forever, `index.html` revalidated every time (ETag), a content security policy that lets
//! the page talk to this origin only. Must not: authenticate (the console is public; its API
//! calls carry the credential), or serve anything not embedded at build time.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use weir_proto::ErrorCode;

use crate::ApiError;

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// Path under `/ui/`, e.g. `assets/index-abc123.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// Named by a content hash (Vite's `assets/`): may be cached forever.
    pub immutable: bool,
    /// Quoted content hash.
    pub etag: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// Hashed assets never change under their name.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html above all) is checked with the server on each use.
const CACHE_REVALIDATE: &str = "no-cache";
/// The console loads nothing from anywhere else and calls only this origin's API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// Routes of the console; merged into the REST router.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(index))
        .route("/ui/{*path}", get(file))
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

async fn index(headers: HeaderMap) -> Response {
    match find("index.html") {
        Some(asset) => serve(asset, &headers),
        None => not_built(),
    }
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if let Some(asset) = find(&path) {
        return serve(asset, &headers);
    }
    // A missing file (an old hashed asset, a typo) is a 404; answering it with index.html
    // would hand HTML to a <script> tag. Anything else is a console route.
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with("assets/") || last.contains('.') {
        return ApiError::new(
            ErrorCode::RouteNotFound,
            format!("the console has no file /ui/{path}"),
        )
        .into_response();
    }
    index(headers).await
}

fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let cache = if asset.immutable {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if asset.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

fn not_built() -> Response {
    ApiError::new(
        ErrorCode::Unavailable,
        "this weir binary was built without the web console (WEIR_UI_SKIP_BUILD was set and \
         web-ui/dist did not exist): build it with npm in web-ui/ and rebuild weir",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_is_embedded_with_hashed_assets() {
        let index = find("index.html").expect("web-ui/dist/index.html is embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(!index.immutable);
        let html = std::str::from_utf8(index.body).expect("index.html is UTF-8");
        // Every script and stylesheet index.html names is embedded, under assets/, immutable.
        let mut named = 0;
        for part in html.split("/ui/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            let asset = find(&format!("assets/{name}"))
                .unwrap_or_else(|| panic!("index.html names assets/{name}, which is not embedded"));
            assert!(asset.immutable);
            named += 1;
        }
        assert!(named >= 2, "index.html names a script and a stylesheet");
    }
}
