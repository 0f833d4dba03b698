//! The throwaway PostgreSQL cluster of the tests (`source scripts/postgres.sh`
//! exports its URL): a fresh database per test, server processes on it, and
//! the test's own connection to look at what is stored.

use super::{data_folder, Server};

/// The test cluster's URL (its `tributary` database).
pub fn cluster() -> String {
    std::env::var("TRIBUTARY_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!("TRIBUTARY_TEST_POSTGRES is not set: start a throwaway cluster with `source scripts/postgres.sh` (it exports it)")
    })
}

/// A fresh database on the test cluster (so tenants' schemas start empty); its URL.
pub fn fresh_database() -> String {
    let url = cluster();
    let name = format!("server_{}", uuid::Uuid::new_v4().simple());
    Connection::open(&url).execute(&format!("CREATE DATABASE {name}"));
    format!("{}/{name}", url.rsplit_once('/').unwrap().0)
}

pub fn start(database: &str, test: &str) -> Server {
    Server::start(&data_folder(test), &["--database", database])
}

/// Runs a query on a database (the test's own connection); how many rows it gave.
pub fn sql(database: &str, statement: &str) -> usize {
    Connection::open(database).query(statement).len()
}

/// The test's own connection to a database, on a runtime of its own.
pub struct Connection {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Connection {
    pub fn open(database: &str) -> Connection {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client
        });
        Connection { runtime, client }
    }

    pub fn execute(&self, statements: &str) {
        self.runtime.block_on(self.client.batch_execute(statements)).unwrap();
    }

    pub fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.runtime.block_on(self.client.query(sql, &[])).unwrap()
    }
}
