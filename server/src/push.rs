//! A client's push, recorded exactly once: its events and its position (a
//! tracking record named for the client) in one transaction. Events at or
//! below the position recorded before are answered with their ids and not
//! written again; a version another client took first refuses the whole push.
//! Two server processes on one database may race for a push's versions (or
//! the same push twice): the loser's write fails whole, and it looks again.

use tributary::persistence::{Recording, Tracking};
use tributary::sync::protocol::{Push, PushConflict, PushReply};
use tributary::{Error, Result};

use crate::store::Local;

/// What became of a push.
pub enum Accepted {
    Recorded(PushReply),
    /// Nothing written: these events' versions were taken by another client.
    Refused(Vec<PushConflict>),
}

/// How many times a push is looked at when other writers keep getting there first.
const ATTEMPTS: usize = 3;

pub async fn accept(local: &Local, push: Push) -> Result<Accepted> {
    let mut attempt = 1;
    loop {
        match try_accept(local, &push).await {
            Err(Error::Conflict { .. } | Error::DuplicateTracking { .. }) if attempt < ATTEMPTS => attempt += 1,
            answer => return answer,
        }
    }
}

async fn try_accept(local: &Local, push: &Push) -> Result<Accepted> {
    let name = format!("client:{}", push.client_id.simple());
    let tracked = local.recorder.max_tracking_id(&name).await?.unwrap_or(0);
    let (done, new): (Vec<_>, Vec<_>) = push.events.iter().cloned().partition(|(position, _)| *position <= tracked);
    let mut ids = Vec::with_capacity(done.len() + new.len());
    let positions = |events: &[(u64, tributary::persistence::StoredEvent)]| -> Vec<_> {
        events.iter().map(|(_, e)| (e.originator_id, e.originator_version)).collect()
    };
    for ((position, _), id) in done.iter().zip(local.recorder.notification_ids(&positions(&done)).await?) {
        let id = id.ok_or_else(|| {
            Error::invalid(format!(
                "position {position} was recorded for this client, but its event is not here: the client's log is not the one it pushed"
            ))
        })?;
        ids.push(id);
    }
    let taken = local.recorder.notification_ids(&positions(&new)).await?;
    let conflicts: Vec<PushConflict> = new
        .iter()
        .zip(taken)
        .filter(|(_, taken)| taken.is_some())
        .map(|((position, e), _)| PushConflict {
            position: *position,
            originator_id: e.originator_id.simple().to_string(),
            originator_version: e.originator_version,
        })
        .collect();
    if !conflicts.is_empty() {
        // Another process may have recorded this very push meanwhile: if the
        // client's position moved, look again from there.
        let now = local.recorder.max_tracking_id(&name).await?.unwrap_or(0);
        if now != tracked {
            return Err(Error::DuplicateTracking { application_name: name, notification_id: now });
        }
        return Ok(Accepted::Refused(conflicts));
    }
    if let Some((last, _)) = new.last() {
        let events: Vec<_> = new.iter().map(|(_, e)| e.clone()).collect();
        let tracking = Tracking { application_name: name, notification_id: *last };
        let recorded = local.recorder.record(Recording { events: &events, tracking: Some(&tracking), ..Recording::default() }).await?;
        if let Some(head) = recorded.last() {
            local.grew(*head);
        }
        ids.extend(recorded);
    }
    let position = new.last().map_or(tracked, |(p, _)| *p).max(tracked);
    Ok(Accepted::Recorded(PushReply { notification_ids: ids, position }))
}
