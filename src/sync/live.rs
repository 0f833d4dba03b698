//! Keeping in sync: what a live sync does next, decided from what happened
//! (no I/O, no clock, no randomness: the driver performs each step, reports
//! how it ended, and supplies the jitter). After a round, it waits for the
//! server's news; while offline, it backs off; on any other failure it stops,
//! as retrying cannot help (a wrong token, a bug). A poke (a local record) ends
//! a wait or a back-off at once.

/// What ended the step the driver performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    /// A round ended well, at this server position.
    Synced { position: u64 },
    /// A round failed for the network or the server (a sync error).
    Offline,
    /// A round failed otherwise.
    Failed,
    /// The wait for the server's news ended: news, or its time is up.
    Heard,
    /// The wait for the server's news failed.
    Unheard,
    /// A back-off passed.
    Slept,
    /// This application recorded events, or a conflict was resolved.
    Poked,
}

/// The step to perform next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Round,
    /// Wait on the server until its log has more than `after`.
    Wait {
        after: u64,
    },
    Sleep {
        ms: u64,
    },
    /// Live sync ends.
    Stop,
}

/// One live sync's decisions: the back-off grows with each failure in a row.
#[derive(Debug, Clone, Default)]
pub struct Live {
    failures: u32,
}

/// The longest back-off.
pub const MAX_BACKOFF_MS: u64 = 30_000;

impl Live {
    /// The step after `happened`; `jitter` (0 to 1) spreads the back-offs of many clients.
    pub fn next(&mut self, happened: Happened, jitter: f64) -> Then {
        match happened {
            Happened::Synced { position } => {
                self.failures = 0;
                Then::Wait { after: position }
            }
            Happened::Offline | Happened::Unheard => {
                let ms = backoff(self.failures, jitter);
                self.failures = self.failures.saturating_add(1);
                Then::Sleep { ms }
            }
            Happened::Failed => Then::Stop,
            Happened::Heard | Happened::Slept | Happened::Poked => Then::Round,
        }
    }
}

/// The back-off after `failures` failures in a row: doubling from 500 ms to
/// [`MAX_BACKOFF_MS`], its upper half spread by `jitter`.
pub fn backoff(failures: u32, jitter: f64) -> u64 {
    let ceiling = 500u64.saturating_mul(1 << failures.min(6)).min(MAX_BACKOFF_MS);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    ceiling / 2 + (ceiling as f64 / 2.0 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_round_it_waits_for_news_from_where_the_round_got_to() {
        let mut live = Live::default();
        assert_eq!(live.next(Happened::Synced { position: 7 }, 0.5), Then::Wait { after: 7 });
        assert_eq!(live.next(Happened::Heard, 0.5), Then::Round);
        assert_eq!(live.next(Happened::Poked, 0.5), Then::Round);
    }

    #[test]
    fn offline_it_backs_off_longer_each_time_until_a_round_goes_through() {
        let mut live = Live::default();
        let waits: Vec<Then> = (0..8).map(|_| live.next(Happened::Offline, 1.0)).collect();
        let ms: Vec<u64> = waits.iter().map(|then| if let Then::Sleep { ms } = then { *ms } else { panic!("{then:?}") }).collect();
        assert_eq!(ms, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!(live.next(Happened::Unheard, 0.0), Then::Sleep { ms: 15_000 }, "a failed wait counts too");
        live.next(Happened::Synced { position: 1 }, 0.0);
        assert_eq!(live.next(Happened::Offline, 0.0), Then::Sleep { ms: 250 }, "from the start again");
        assert_eq!(live.next(Happened::Slept, 0.0), Then::Round);
    }

    #[test]
    fn any_other_failure_stops_it_and_no_jitter_leaves_the_bounds() {
        assert_eq!(Live::default().next(Happened::Failed, 0.3), Then::Stop);
        for jitter in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
            assert!((250..=500).contains(&backoff(0, jitter)), "{jitter}");
        }
        assert_eq!(backoff(u32::MAX, 1.0), MAX_BACKOFF_MS);
    }
}
