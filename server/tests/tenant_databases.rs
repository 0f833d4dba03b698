//! A mapping of tenants to databases (`--tenant-database NAME=URL`) that cannot
//! be served is refused at start, saying why, before anything is served: a
//! tenant no `--tenant` gives, a tenant mapped twice, a URL that is not a
//! PostgreSQL one, a database nobody answers at. (The mapping at work, on a
//! real cluster: `postgres_tenants.rs`.)

mod support;

use support::{data_folder, refused, OTHER_TOKEN, TOKEN};

/// The options of two tenants, acme and beta, on SQLite, and `extra`.
fn with(extra: &[&str]) -> (i32, String) {
    let data = data_folder("refused").display().to_string();
    let (acme, beta) = (format!("acme={TOKEN}"), format!("beta={OTHER_TOKEN}"));
    let mut args = vec!["--data", &data, "--tenant", &acme, "--tenant", &beta];
    args.extend(extra);
    let (status, stderr) = refused(&args);
    (status.code().expect("it exited"), stderr)
}

/// A port on loopback where nothing listens.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_tenant_that_no_tenant_option_gives_is_refused() {
    let (code, stderr) = with(&["--tenant-database", "gamma=postgres://postgres@127.0.0.1:5432/gamma"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tenant-database gamma=...: no --tenant gamma=TOKEN gives that tenant"), "{stderr}");
}

#[test]
fn a_tenant_mapped_twice_or_given_twice_is_refused() {
    let url = "postgres://postgres@127.0.0.1:5432/beta";
    let (code, stderr) = with(&["--tenant-database", &format!("beta={url}"), "--tenant-database", &format!("beta={url}2")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tenant-database beta=... is given twice: a tenant lives in one database"), "{stderr}");
    let (code, stderr) = with(&["--tenant", "acme=another-secret-token"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tenant acme=... is given twice"), "{stderr}");
}

#[test]
fn a_mapping_that_is_not_a_name_and_a_postgresql_url_is_refused() {
    let cases = [
        ("beta", "\"beta\" is not NAME=URL"),
        ("beta=mysql://root@127.0.0.1/beta", "the database of \"beta\": not a postgres://USER@HOST:PORT/DB URL"),
        ("beta=postgres://postgres@127.0.0.1:port/beta", "the database of \"beta\": not a PostgreSQL URL"),
        ("be ta=postgres://postgres@127.0.0.1/beta", "tenant name \"be ta\""),
        ("=postgres://postgres@127.0.0.1/beta", "tenant name \"\""),
    ];
    for (mapping, says) in cases {
        let (code, stderr) = with(&["--tenant-database", mapping]);
        assert_eq!(code, 2, "{mapping}: {stderr}");
        assert!(stderr.contains("--tenant-database <NAME=URL>") && stderr.contains(says), "{mapping}: {stderr}");
    }
    let (code, stderr) = with(&["--database-connections", "0"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_database_nobody_answers_at_stops_the_server_naming_its_tenants() {
    let url = format!("postgres://postgres:secret@127.0.0.1:{}/beta", closed_port());
    let (code, stderr) = with(&["--tenant-database", &format!("beta={url}")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot use the database of beta:"), "{stderr}");
    assert!(stderr.contains("connecting to PostgreSQL at postgres://postgres:***@127.0.0.1:"), "{stderr}");
    assert!(!stderr.contains("secret"), "the password is not shown: {stderr}");
    // and so does the default database, for the tenants without one of their own
    let (code, stderr) =
        with(&["--database", &url.replace("/beta", "/default"), "--tenant-database", "beta=postgres://postgres@127.0.0.1:1/beta"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot use the database of acme:"), "{stderr}");
}

#[test]
fn a_tenant_postgresql_cannot_have_as_a_schema_is_refused_when_it_lives_there() {
    let url = format!("postgres://postgres@127.0.0.1:{}/beta", closed_port());
    let long = "t".repeat(64);
    for name in ["pg_acme", long.as_str()] {
        let tenant = format!("{name}=third-secret-token");
        let (code, stderr) = with(&["--tenant", &tenant, "--tenant-database", &format!("{name}={url}")]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("--tenant {name}=...: PostgreSQL")), "{stderr}");
        let (code, stderr) = with(&["--tenant", &tenant, "--database", &url]);
        assert_eq!(code, 2, "{stderr}");
    }
}
