//! Several bootstrap addresses: the client connects to the first that answers (any node of a
//! cluster serves any request); none answering is a transport error naming an address; an
//! empty list is refused before any connection is tried.

mod common;
mod support;

use common::Server;
use support::{client, within};
use weir::{Admin, ClientConfig, Error};

/// An address nothing listens on (bound, then released).
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_address_that_answers_is_used() {
    let server = Server::start();
    let live = client(&server);
    let listed = ClientConfig {
        url: format!("{}, {}", dead_url(), live.url),
        ..live.clone()
    };
    let admin = within("connect", Admin::connect(listed)).await.unwrap();
    within("create", admin.create_topic("t", 2, Default::default()))
        .await
        .unwrap();
    let described = within("describe", admin.describe_topic("t")).await.unwrap();
    assert_eq!(described.partitions.len(), 2);

    let (first, second) = (dead_url(), dead_url());
    let none = ClientConfig {
        url: format!("{first},{second}"),
        ..live.clone()
    };
    let err = within("connect", Admin::connect(none)).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(err.to_string().contains(&second), "{err}");

    let empty = ClientConfig {
        url: " , ".into(),
        ..live
    };
    let err = within("connect", Admin::connect(empty)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}
