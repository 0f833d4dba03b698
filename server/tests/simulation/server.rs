//! The real server in process: its router (authorisation, limits, handlers,
//! the store's group commit over SQLite) answering one request at a time, on
//! a data folder that outlives a restart.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use clap::Parser;
use tower::ServiceExt;
use tributary::sync::{Method, Request, Response, MORE};
use tributary_server::config::Config;
use tributary_server::http::{router, Server};
use tributary_server::placement::Placement;
use tributary_server::tenants::Tenants;

pub const TOKEN: &str = "acme-secret-token";
pub const BASE: &str = "http://sim.test/acme/dogschool";

pub struct InProcess {
    runtime: tokio::runtime::Runtime,
    config: Config,
    server: Arc<Server>,
    router: Router,
}

impl InProcess {
    pub fn start(data: PathBuf) -> InProcess {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let data = data.to_str().unwrap().to_owned();
        let config = Config::parse_from(["tributary-server", "--data", &data, "--tenant", &format!("acme={TOKEN}")]);
        let (server, router) = runtime.block_on(open(&config));
        InProcess { runtime, config, server, router }
    }

    /// Stops the server (its stores close) and starts it again on the same data.
    pub fn restart(&mut self) {
        self.server.tenants.close();
        let (server, router) = self.runtime.block_on(open(&self.config));
        (self.server, self.router) = (server, router);
    }

    /// Answers `request` as the HTTP server would, once it has done all it does.
    pub fn answer(&self, request: &Request) -> Response {
        let path = request.url.strip_prefix("http://sim.test").expect("a request to the simulated server");
        let mut http = axum::http::Request::builder().uri(path).method(match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        });
        if let Some(token) = &request.token {
            http = http.header("authorization", format!("Bearer {token}"));
        }
        let body = request.body.clone().map(Body::from).unwrap_or_else(Body::empty);
        let http = http.header("content-type", "application/json").body(body).unwrap();
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(http).await.unwrap();
            let status = response.status().as_u16();
            let more = response.headers().get(MORE).is_some_and(|v| v == "true");
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
            Response { status, body, more }
        })
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.server.tenants.close();
    }
}

async fn open(config: &Config) -> (Arc<Server>, Router) {
    let placement = Placement::open(config).await.unwrap();
    let server = Arc::new(Server::new(Tenants::new(&config.tenants, placement, 8), config.max_body_bytes));
    (server.clone(), router(config, server))
}
