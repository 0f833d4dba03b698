//! The throwaway PostgreSQL cluster of the tests (`source scripts/postgres.sh`
//! exports its URL): a fresh database per test, server processes on it, and
//! queries of the test's own.

use super::{data_folder, Server};

/// A fresh database on the test cluster (so tenants' schemas start empty); its URL.
pub fn fresh_database() -> String {
    let url = std::env::var("TRIBUTARY_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!("TRIBUTARY_TEST_POSTGRES is not set: start a throwaway cluster with `source scripts/postgres.sh` (it exports it)")
    });
    let name = format!("server_{}", uuid::Uuid::new_v4().simple());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    });
    format!("{}/{name}", url.rsplit_once('/').unwrap().0)
}

pub fn start(database: &str, test: &str) -> Server {
    Server::start(&data_folder(test), &["--database", database])
}

/// Runs a query on a database (the test's own connection); how many rows it gave.
pub fn sql(database: &str, statement: &str) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.query(statement, &[]).await.unwrap().len()
    })
}
