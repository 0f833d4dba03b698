//! Clients' pushes, each recorded exactly once: its events and its position (a
//! tracking record named for the client) in one transaction. Events at or
//! below the position recorded before are answered with their ids and not
//! written again; a version another client took first refuses the whole push.
//!
//! Pushes that arrive together are decided and written together (group
//! commit): everything is read under the log's lock, in the transaction that
//! writes, so a push raced by another server process (or sent twice) is seen
//! as it is, not as it was a moment before.

use std::collections::HashSet;
use std::ops::Range;

use tributary::persistence::{StoredEvent, Tracking};
use tributary::sync::protocol::{Push, PushConflict, PushReply};
use tributary::{Error, Result};
use uuid::Uuid;

use crate::recorder::{Found, Write};
use crate::store::Local;

/// What became of a push.
#[derive(Debug)]
pub enum Accepted {
    Recorded(PushReply),
    /// Nothing written: these events' versions were taken by another client.
    Refused(Vec<PushConflict>),
}

/// How many times a group is tried when a writer that skips the lock (not
/// tributary's) keeps taking its positions first.
const ATTEMPTS: usize = 3;

/// Records pushes that arrived together, answering each in order. A client
/// is in a transaction at most once: its repeated push goes in the next one,
/// where it finds the first recorded.
pub async fn accept_all(local: &Local, pushes: &[Push]) -> Vec<Result<Accepted>> {
    let mut answers: Vec<Option<Result<Accepted>>> = pushes.iter().map(|_| None).collect();
    let mut left: Vec<usize> = (0..pushes.len()).collect();
    while !left.is_empty() {
        let mut clients = HashSet::new();
        let (now, later): (Vec<usize>, Vec<usize>) = left.into_iter().partition(|&i| clients.insert(pushes[i].client_id));
        let group: Vec<&Push> = now.iter().map(|&i| &pushes[i]).collect();
        for (i, answer) in now.into_iter().zip(accept_group(local, &group).await) {
            answers[i] = Some(answer);
        }
        left = later;
    }
    answers.into_iter().map(|answer| answer.unwrap_or_else(|| Err(Error::Storage("a push was left unanswered".into())))).collect()
}

async fn accept_group(local: &Local, group: &[&Push]) -> Vec<Result<Accepted>> {
    let mut attempt = 1;
    loop {
        match try_group(local, group).await {
            Ok(answers) => return answers,
            Err(Error::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
            Err(error) => return group.iter().map(|_| Err(error.clone())).collect(),
        }
    }
}

/// The tracking record's name for a client's position.
fn client_name(client: Uuid) -> String {
    format!("client:{}", client.simple())
}

async fn try_group(local: &Local, group: &[&Push]) -> Result<Vec<Result<Accepted>>> {
    let names: Vec<String> = group.iter().map(|push| client_name(push.client_id)).collect();
    let firsts: Vec<u64> = group.iter().map(|push| push.events.first().map_or(0, |(position, _)| *position)).collect();
    let positions: Vec<(Uuid, u64)> =
        group.iter().flat_map(|push| push.events.iter().map(|(_, e)| (e.originator_id, e.originator_version))).collect();
    let mut plans = Vec::new();
    let ids = local
        .recorder
        .record_pushes(&names, &firsts, &positions, &mut |found| {
            let (write, made) = decide(group, &names, found);
            plans = made;
            write
        })
        .await?;
    if let Some(head) = ids.iter().max() {
        local.grew(*head);
    }
    Ok(plans.into_iter().map(|plan| plan.answer(&ids)).collect())
}

/// What a push comes to, before the group's write gives the new events ids.
enum Plan {
    Recorded { done: Vec<u64>, new: Range<usize>, position: u64 },
    Refused(Vec<PushConflict>),
    Invalid(Error),
}

impl Plan {
    fn answer(self, ids: &[u64]) -> Result<Accepted> {
        match self {
            Plan::Recorded { mut done, new, position } => {
                let given = ids.get(new).ok_or_else(|| Error::Storage("the database gave fewer ids than events".into()))?;
                done.extend_from_slice(given);
                Ok(Accepted::Recorded(PushReply { notification_ids: done, position }))
            }
            Plan::Refused(conflicts) => Ok(Accepted::Refused(conflicts)),
            Plan::Invalid(error) => Err(error),
        }
    }
}

/// Decides every push of the group from what the database holds, in order:
/// an earlier push of the group takes a version before a later one.
fn decide<'e>(group: &[&'e Push], names: &[String], found: Found) -> (Write<'e>, Vec<Plan>) {
    let mut write = Write::default();
    let mut claimed = HashSet::new();
    let mut ids = found.ids.into_iter();
    let plans = group
        .iter()
        .zip(names)
        .zip(found.tracked)
        .map(|((push, name), tracked)| {
            let ids: Vec<Option<u64>> = ids.by_ref().take(push.events.len()).collect();
            plan(push, name, tracked.unwrap_or(0), &ids, &mut claimed, &mut write)
        })
        .collect();
    (write, plans)
}

fn plan<'e>(
    push: &'e Push,
    name: &str,
    tracked: u64,
    ids: &[Option<u64>],
    claimed: &mut HashSet<(Uuid, u64)>,
    write: &mut Write<'e>,
) -> Plan {
    // First: the lookups saturate a version to the largest SQL holds, whose
    // event is none of this one's business.
    if let Some((_, event)) = push.events.iter().find(|(_, e)| i64::try_from(e.originator_version).is_err()) {
        return Plan::Invalid(Error::invalid(format!(
            "version {} of {} is too large to store",
            event.originator_version, event.originator_id
        )));
    }
    let mut done = Vec::new();
    let mut conflicts = Vec::new();
    let mut new: Vec<&'e StoredEvent> = Vec::new();
    for ((position, event), id) in push.events.iter().zip(ids) {
        if *position <= tracked {
            match id {
                Some(id) => done.push(*id),
                None => {
                    return Plan::Invalid(Error::invalid(format!(
                        "position {position} was recorded for this client, but its event is not here: the client's log is not the one it pushed"
                    )))
                }
            }
        } else if id.is_some() || claimed.contains(&(event.originator_id, event.originator_version)) {
            conflicts.push(PushConflict {
                position: *position,
                originator_id: event.originator_id.simple().to_string(),
                originator_version: event.originator_version,
            });
        } else {
            new.push(event);
        }
    }
    if !conflicts.is_empty() {
        return Plan::Refused(conflicts);
    }
    // Past its last event when the client took the rest out of its log: a late copy
    // of an older push holding them then finds them at or below its position.
    let last = push.through.max(push.events.last().map_or(0, |(position, _)| *position));
    // PostgreSQL's text cannot hold a NUL: refused here, for this push alone
    // (the database would fail the whole group) and on SQLite alike.
    if let Some(event) = new.iter().find(|e| e.topic.contains('\0')) {
        return Plan::Invalid(Error::invalid(format!(
            "the topic of {} v{} holds a NUL, which cannot be stored",
            event.originator_id, event.originator_version
        )));
    }
    if i64::try_from(last).is_err() {
        return Plan::Invalid(Error::invalid(format!("position {last} is too large to store")));
    }
    let start = write.events.len();
    for event in new {
        claimed.insert((event.originator_id, event.originator_version));
        write.events.push(event);
    }
    if last > tracked {
        write.tracking.push(Tracking { application_name: name.to_owned(), notification_id: last });
    }
    Plan::Recorded { done, new: start..write.events.len(), position: last.max(tracked) }
}
