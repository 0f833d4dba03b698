//! The faults: server A killed with SIGKILL while a push to it is in flight,
//! at chosen moments of the push, with triggers that hold its writes in
//! PostgreSQL (after the insert, in the commit) while the test says so.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::watch::Watch;
use super::{stored_log, Event, Random};
use crate::support::postgres::Connection;
use crate::support::Server;

/// Kills of server A that cut a push off the killer aims for, of each kind
/// (see [`Moment`]): at random, after the insert, during the commit; kills at most.
pub const KILLS_AIMED: [u64; 3] = [2, 1, 1];
pub const MAX_KILLS: u64 = 12;

/// When in a push server A is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A random few microseconds after a device began a push to it.
    AtRandom = 0,
    /// Inside PostgreSQL's transaction, the push's events inserted (their
    /// notification ids taken), nothing committed: it is rolled back.
    AfterInsert = 1,
    /// While PostgreSQL commits: the push is recorded, and never answered.
    DuringCommit = 2,
}

/// What the killer did.
#[derive(Default)]
pub struct Kills {
    pub kills: u64,
    /// Kills that cut a push off, by [`Moment`].
    pub cut_at: [u64; 3],
    /// Pushes cut off that PostgreSQL committed (their reply was lost), and
    /// those it did not (rolled back, or not begun), seen once PostgreSQL was
    /// done with the dead process's connections.
    pub committed: u64,
    pub not_committed: u64,
}

/// Server A's connections to PostgreSQL are named this (its URL says so), so
/// that the test can slow down its writes, and see when one is under way.
pub const SERVER_A: &str = "tributary-server-a";

/// Triggers that hold a write of server A in PostgreSQL for half a second
/// while the switch says so: after its insert (the events inserted, their
/// notification ids taken, nothing committed), or in its commit (a deferred
/// trigger, once per transaction: the commit goes through even when the
/// server is gone meanwhile, as PostgreSQL notices a lost client only when
/// it next talks to it).
pub const SLOW_WRITES: &str = "
    CREATE TABLE public.slow_writes (moment text);
    INSERT INTO public.slow_writes VALUES (NULL);
    CREATE FUNCTION public.slow_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('application_name') = 'tributary-server-a' AND (SELECT moment FROM public.slow_writes) = 'insert' THEN
            PERFORM pg_sleep(0.5);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER slow_inserts AFTER INSERT ON acme.dogschool_events FOR EACH STATEMENT EXECUTE FUNCTION public.slow_inserts();
    CREATE FUNCTION public.slow_commits() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('application_name') = 'tributary-server-a' AND (SELECT moment FROM public.slow_writes) = 'commit'
           AND current_setting('slow_writes.slept', true) IS DISTINCT FROM 'yes' THEN
            PERFORM set_config('slow_writes.slept', 'yes', true);
            PERFORM pg_sleep(0.5);
        END IF;
        RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER slow_commits AFTER INSERT ON acme.dogschool_events DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION public.slow_commits();
";

/// Whether server A has a connection held in one of [`SLOW_WRITES`]' triggers.
fn a_is_held(postgres: &Connection) -> bool {
    !postgres.query(&format!("SELECT 1 FROM pg_stat_activity WHERE application_name = '{SERVER_A}' AND wait_event = 'PgSleep'")).is_empty()
}

/// Whether server A has any connection left (a dead process's go once PostgreSQL notices).
fn a_is_connected(postgres: &Connection) -> bool {
    !postgres.query(&format!("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE '{SERVER_A}%'")).is_empty()
}

/// While devices record, kills server A with SIGKILL while a push to it is in
/// flight, at each [`Moment`] in turn, until enough kills cut a push off at
/// each; keeps it down a little, and starts it again on the same port (and
/// database URL). Once PostgreSQL is done with the dead process's connections,
/// looks for each push it cut off: all of it is in the log, or none.
pub fn kill_mid_pushes(mut a: Server, url: String, watch: Arc<Watch>, seed: u64) -> (Server, Kills) {
    // the test's own connection, not named as server A's
    let postgres = Connection::open(url.split('?').next().unwrap());
    let mut random = Random::new(seed.rotate_left(17));
    let mut done = Kills::default();
    let recording = || watch.recording.load(SeqCst) > 0;
    let moments = [Moment::AtRandom, Moment::AfterInsert, Moment::AtRandom, Moment::DuringCommit];
    while recording() && done.kills < MAX_KILLS {
        let Some(moment) = (0..moments.len())
            .map(|i| moments[(done.kills as usize + i) % moments.len()])
            .find(|m| done.cut_at[*m as usize] < KILLS_AIMED[*m as usize])
        else {
            break;
        };
        thread::sleep(Duration::from_millis(300 + random.below(1_200)));
        match moment {
            Moment::AtRandom => {
                while recording() && watch.pushing_to_a.load(SeqCst) == 0 {
                    thread::sleep(Duration::from_micros(100));
                }
                thread::sleep(Duration::from_micros(random.below(3_000)));
            }
            Moment::AfterInsert | Moment::DuringCommit => {
                let which = if moment == Moment::AfterInsert { "insert" } else { "commit" };
                postgres.execute(&format!("UPDATE public.slow_writes SET moment = '{which}'"));
                while recording() && !a_is_held(&postgres) {
                    thread::sleep(Duration::from_millis(2));
                }
            }
        }
        if !recording() {
            postgres.execute("UPDATE public.slow_writes SET moment = NULL");
            break;
        }
        let cut = watch.cut.lock().unwrap().len();
        let (data, listen) = (a.data.clone(), a.base.trim_start_matches("http://").to_owned());
        watch.kills.fetch_add(1, SeqCst);
        a.kill();
        done.kills += 1;
        postgres.execute("UPDATE public.slow_writes SET moment = NULL");
        thread::sleep(Duration::from_millis(200 + random.below(400)));
        let gone = Instant::now() + Duration::from_secs(10);
        while a_is_connected(&postgres) {
            assert!(Instant::now() < gone, "PostgreSQL still has the killed server's connections after 10 s");
            thread::sleep(Duration::from_millis(10));
        }
        // a push cut off failed at once, when the kernel closed the dead server's sockets
        let cut_now: Vec<Vec<Event>> = watch.cut.lock().unwrap()[cut..].to_vec();
        if !cut_now.is_empty() {
            done.cut_at[moment as usize] += 1;
            let stored: BTreeSet<Event> = stored_log(&postgres).into_iter().map(|(_, e)| e).collect();
            for push in cut_now {
                let there = push.iter().filter(|e| stored.contains(*e)).count();
                assert!(there == 0 || there == push.len(), "a push cut off is half in the log: {there} of {}", push.len());
                if there > 0 {
                    done.committed += 1;
                } else {
                    done.not_committed += 1;
                }
            }
        }
        for _ in 0..100 {
            if std::net::TcpListener::bind(&listen).is_ok() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        a = Server::start_on(&data, &listen, &["--database", &url]);
    }
    watch.killing.store(false, SeqCst);
    (a, done)
}
