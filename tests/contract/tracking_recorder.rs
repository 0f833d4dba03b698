//! The tracking recorder contract: positions, duplicates, and waiting.

use std::rc::Rc;

use futures::future::join;
use tributary::persistence::{Tracking, TrackingRecorder};
use tributary::Error;

fn tracking(name: &str, id: u64) -> Tracking {
    Tracking { application_name: name.into(), notification_id: id }
}

pub async fn max_tracking_id_is_kept_per_application(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), None);
    recorder.insert_tracking(&tracking("upstream", 1)).await.unwrap();
    recorder.insert_tracking(&tracking("upstream", 5)).await.unwrap();
    recorder.insert_tracking(&tracking("other", 2)).await.unwrap();
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), Some(5));
    assert_eq!(recorder.max_tracking_id("other").await.unwrap(), Some(2));
    assert!(recorder.has_tracking_id("upstream", 4).await.unwrap());
    assert!(!recorder.has_tracking_id("upstream", 6).await.unwrap());
}

pub async fn a_duplicate_tracking_record_is_a_typed_error(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    recorder.insert_tracking(&tracking("upstream", 3)).await.unwrap();
    let error = recorder.insert_tracking(&tracking("upstream", 3)).await.unwrap_err();
    assert_eq!(error, Error::DuplicateTracking { application_name: "upstream".into(), notification_id: 3 });
    recorder.insert_tracking(&tracking("elsewhere", 3)).await.unwrap();
}

pub async fn a_position_at_or_below_the_newest_is_a_duplicate(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    recorder.insert_tracking(&tracking("upstream", 5)).await.unwrap();
    for old in [5, 4, 1] {
        let error = recorder.insert_tracking(&tracking("upstream", old)).await.unwrap_err();
        assert_eq!(error, Error::DuplicateTracking { application_name: "upstream".into(), notification_id: old });
    }
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), Some(5));
    recorder.insert_tracking(&tracking("upstream", 9)).await.unwrap();
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), Some(9));
}

pub async fn invalid_tracking_records_are_refused(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    assert!(matches!(recorder.insert_tracking(&tracking("", 1)).await, Err(Error::Validation(_))));
    assert!(matches!(recorder.insert_tracking(&tracking("upstream", 0)).await, Err(Error::Validation(_))));
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), None);
}

pub async fn wait_resolves_once_the_position_is_recorded(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    let later = async {
        futures_timer::Delay::new(std::time::Duration::from_millis(30)).await;
        recorder.insert_tracking(&tracking("upstream", 7)).await.unwrap();
    };
    let (waited, ()) = join(recorder.wait("upstream", 7, 5_000), later).await;
    waited.unwrap();
    recorder.wait("upstream", 6, 0).await.expect("an earlier position is already reached");
}

pub async fn wait_times_out_with_a_typed_error(recorder: Rc<impl TrackingRecorder + ?Sized>) {
    recorder.insert_tracking(&tracking("upstream", 1)).await.unwrap();
    let error = recorder.wait("upstream", 2, 40).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { waited_ms: 40, .. }), "{error:?}");
    assert_eq!(error.name(), "TimeoutError");
}
