//! A server process's connections to a database: each database thread's own,
//! at most the budget open at a time, given back when a thread lets its
//! connection go. Needs `TRIBUTARY_TEST_POSTGRES` (`source scripts/postgres.sh`).

use std::time::Duration;

use tributary_server::postgres::{let_idle_go, Database};

/// How many connections the database sees with this application name, once
/// it is `expected` (a closed connection's backend takes a moment to go).
async fn open_connections(url: &str, name: &str, expected: i64) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let mut seen = -1;
    for _ in 0..100 {
        let row = client.query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&name]).await.unwrap();
        seen = row.get(0);
        if seen == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

#[test]
fn threads_hold_at_most_the_budget_and_give_connections_back_when_idle() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let name = format!("budget_{}", uuid::Uuid::new_v4().simple());
        let base = std::env::var("TRIBUTARY_TEST_POSTGRES").expect("TRIBUTARY_TEST_POSTGRES: source scripts/postgres.sh");
        let url = format!("{base}?application_name={name}");
        // given a database with a budget of two, and three threads' pools
        let database = Database::open(&url, 2).await.unwrap();
        let (a, b, c) = (database.for_this_thread().unwrap(), database.for_this_thread().unwrap(), database.for_this_thread().unwrap());
        // when two of them hold a connection
        let (held_a, held_b) = (a.get().await.unwrap(), b.get().await.unwrap());
        assert_eq!(open_connections(&base, &name, 2).await, 2);
        // then the third waits for a place
        assert!(tokio::time::timeout(Duration::from_millis(500), c.get()).await.is_err(), "a third connection beyond the budget");
        // and gets one once a thread lets its idle connection go
        drop(held_a);
        let_idle_go(&a);
        let held_c = tokio::time::timeout(Duration::from_secs(5), c.get()).await.expect("a place given back").unwrap();
        held_c.simple_query("SELECT 1").await.unwrap();
        assert_eq!(open_connections(&base, &name, 2).await, 2);
        // and a connection in use is not let go
        let_idle_go(&b);
        held_b.simple_query("SELECT 1").await.unwrap();
        drop((held_b, held_c));
        let_idle_go(&b);
        let_idle_go(&c);
        assert_eq!(open_connections(&base, &name, 0).await, 0, "connections let go stay open");
    });
}
