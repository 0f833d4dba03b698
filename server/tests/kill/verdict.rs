//! The checks: the server's log against every acknowledgement and every
//! device's run (what it recorded, discarded, and holds at the end), and the
//! report of a run.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering::SeqCst;

use uuid::Uuid;

use super::devices::{DeviceRun, DEVICES_PER_SERVER, OWN_DOGS, SHARED_DOGS};
use super::faults::{Kills, Moment};
use super::watch::Watch;
use super::{label, shown, Event};

/// What is wrong with the server's log, if anything, and its figures.
#[derive(Default)]
pub struct Verdict {
    pub events: usize,
    pub last_id: u64,
    /// Notification ids never given to an event.
    pub gaps: u64,
    /// Labels found more than once.
    pub duplicates: u64,
    pub acks: usize,
    /// Acknowledged events not at the id they were acknowledged with.
    pub acked_but_not_there: usize,
    /// Events acknowledged at two ids.
    pub acked_twice: usize,
    /// Events recorded (by the setup and the devices), and discarded in conflicts.
    pub recorded: usize,
    pub discarded: usize,
    /// Events neither on the server nor discarded, and events both.
    pub lost: usize,
    pub discarded_yet_there: usize,
    /// Devices whose log is not the server's, and why.
    pub differing: Vec<String>,
    /// What went wrong in devices' runs.
    pub problems: Vec<String>,
}

impl Verdict {
    /// Checks the server's `log` against the acknowledgements, the setup's
    /// events (their labels) and every device's run.
    pub fn of(log: &[(u64, Event)], acks: &[(Event, u64)], setup: &[String], runs: &[DeviceRun]) -> Verdict {
        let ids: Vec<u64> = log.iter().map(|(id, _)| *id).collect();
        let last_id = ids.last().copied().unwrap_or(0);
        let at: HashMap<(Uuid, u64), (u64, &Event)> = log.iter().map(|(id, e)| ((e.0, e.1), (*id, e))).collect();
        let mut labels: HashMap<String, u64> = HashMap::new();
        for (_, event) in log {
            *labels.entry(label(&event.3)).or_default() += 1;
        }
        let mut verdict = Verdict {
            events: log.len(),
            last_id,
            gaps: last_id - ids.len() as u64,
            duplicates: labels.values().map(|n| n - 1).sum(),
            acks: acks.len(),
            recorded: setup.len(),
            lost: setup.iter().filter(|name| !labels.contains_key(*name)).count(),
            ..Verdict::default()
        };

        // Every acknowledgement: the event is at the id it was given, once.
        verdict.acked_but_not_there = acks.iter().filter(|(event, id)| at.get(&(event.0, event.1)) != Some(&(*id, event))).count();
        let mut ids_of: HashMap<(Uuid, u64), BTreeSet<u64>> = HashMap::new();
        for (event, id) in acks {
            ids_of.entry((event.0, event.1)).or_default().insert(*id);
        }
        verdict.acked_twice = ids_of.values().filter(|ids| ids.len() > 1).count();

        // Every device: the server's events, the same bytes, in the server's order
        // (those it pulled in the order pulled, its own in the order it pushed them).
        for run in runs {
            let mut why = None;
            let mut server_ids = Vec::new();
            let (mut own, mut pulled) = (0, 0);
            for event in &run.log {
                let Some((id, there)) = at.get(&(event.0, event.1)) else {
                    why.get_or_insert_with(|| format!("{} is not on the server", shown(event)));
                    continue;
                };
                if *there != event {
                    why.get_or_insert_with(|| format!("{} has other bytes on the server", shown(event)));
                }
                let label = label(&event.3);
                let mine = label.starts_with(&format!("{}-", run.name)) || label.starts_with(&format!("{} ", run.name));
                let last = if mine { &mut own } else { &mut pulled };
                if *id <= *last {
                    why.get_or_insert_with(|| format!("notification {id} after {last}: not the server's order"));
                }
                *last = *id;
                server_ids.push(*id);
            }
            server_ids.sort();
            if server_ids != ids {
                why.get_or_insert_with(|| format!("{} events, the server has {}", run.log.len(), log.len()));
            }
            if let Some(why) = why {
                verdict.differing.push(format!("{}: {why}", run.name));
            }
            verdict.problems.extend(run.problems.iter().map(|p| format!("{}: {p}", run.name)));
            let gone: BTreeSet<&String> = run.discarded.iter().collect();
            for label in &run.recorded {
                match (labels.get(label).copied().unwrap_or(0), gone.contains(label)) {
                    (0, false) => verdict.lost += 1,
                    (1, true) => verdict.discarded_yet_there += 1,
                    _ => {}
                }
            }
            verdict.recorded += run.recorded.len();
            verdict.discarded += run.discarded.len();
        }
        verdict
    }

    /// Fails the test on anything lost, doubled, out of place or out of order.
    pub fn assert(&self) {
        let differing = &self.differing;
        let problems = &self.problems;
        assert!(differing.is_empty(), "devices whose log is not the server's: {differing:#?}");
        assert!(problems.is_empty(), "devices' problems: {problems:#?}");
        assert_eq!(self.gaps, 0, "PostgreSQL's log has gaps");
        assert_eq!((self.acked_but_not_there, self.acked_twice), (0, 0), "acknowledged events not on the server as acknowledged");
        assert_eq!(self.duplicates, 0, "events on the server twice");
        assert_eq!((self.lost, self.discarded_yet_there), (0, 0), "events neither on the server nor discarded, or both");
        assert_eq!(self.events, self.recorded - self.discarded, "the server has every event recorded but those discarded");
    }
}

/// What happened in a run, in a few lines.
pub fn report(verdict: &Verdict, runs: &[DeviceRun], kills: &Kills, watch: &Watch) {
    let Verdict { recorded, discarded, gaps, duplicates, lost, discarded_yet_there, .. } = verdict;
    println!(
        "{} devices ({} on server A, {} on B) recorded {recorded} events (the shared dogs' registrations with them) \
         over {SHARED_DOGS} shared dogs and {OWN_DOGS} each of their own",
        runs.len(),
        DEVICES_PER_SERVER,
        DEVICES_PER_SERVER
    );
    println!(
        "server A killed {} times with SIGKILL, cutting a push off {} times (at a random moment {}, after its insert {}, \
         during its commit {}); pushes cut off unanswered: {} (committed {}, not committed {})",
        kills.kills,
        kills.cut_at.iter().sum::<u64>(),
        kills.cut_at[Moment::AtRandom as usize],
        kills.cut_at[Moment::AfterInsert as usize],
        kills.cut_at[Moment::DuringCommit as usize],
        watch.cut.lock().unwrap().len(),
        kills.committed,
        kills.not_committed
    );
    println!(
        "rounds {} ({} failed); pushes refused for conflicts {}; conflicts {} (events rebased {}, discarded {discarded})",
        runs.iter().map(|r| r.rounds).sum::<u64>(),
        runs.iter().map(|r| r.failed_rounds).sum::<u64>(),
        watch.refused.load(SeqCst),
        runs.iter().map(|r| r.conflicts).sum::<u64>(),
        runs.iter().map(|r| r.rebased).sum::<u64>(),
    );
    let mut failures: Vec<_> = watch.failures.lock().unwrap().iter().map(|(why, n)| (*n, why.clone())).collect();
    failures.sort_by(|x, y| y.cmp(x));
    for (n, why) in failures.iter().take(6) {
        println!("  failed rounds: {n} x {why}");
    }
    println!(
        "server log {} events (ids 1..={}, gaps {gaps}); acknowledgements {} ({} not at their id, {} events acked at two ids); \
         duplicates {duplicates}; lost {lost}; discarded yet on the server {discarded_yet_there}; \
         devices whose log is not the server's {}; devices' problems {}",
        verdict.events,
        verdict.last_id,
        verdict.acks,
        verdict.acked_but_not_there,
        verdict.acked_twice,
        verdict.differing.len(),
        verdict.problems.len(),
    );
}
