//! The snapshot recorder contract: pruning.

use std::rc::Rc;

use tributary::persistence::{EventQuery, SnapshotRecorder};
use uuid::Uuid;

use super::stored;

pub async fn prune_keeps_the_newest_k_of_that_aggregate_only(recorder: Rc<impl SnapshotRecorder + ?Sized>) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let snapshots: Vec<_> = [10, 20, 30, 40].iter().flat_map(|v| [stored(a, *v, "Snapshot"), stored(b, *v, "Snapshot")]).collect();
    recorder.insert_events(&snapshots).await.unwrap();

    assert_eq!(recorder.prune(a, 2).await.unwrap(), 2);
    assert_eq!(recorder.prune(a, 2).await.unwrap(), 0);

    let left = |id| recorder.select_events(id, EventQuery::all());
    assert_eq!(left(a).await.unwrap().iter().map(|s| s.originator_version).collect::<Vec<_>>(), vec![30, 40]);
    assert_eq!(left(b).await.unwrap().len(), 4);
    assert_eq!(recorder.prune(Uuid::new_v4(), 1).await.unwrap(), 0);
}
