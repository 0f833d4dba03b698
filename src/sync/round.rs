//! What a sync round does next, decided from what its steps reported. The
//! client performs each step (storage and HTTP) and reports back; the round
//! does no I/O. A round pulls until the server's log is read, pushes until
//! nothing is pending (pulling and pushing again when the server refuses a push
//! for conflicts, a few times at most), then pulls what came meanwhile.

use super::client::Progress;
use crate::error::{Error, Result};

/// Pushes refused for conflicts that a round pulls and pushes again after; then it gives up.
pub const REFUSED_ROUNDS: usize = 8;

/// The step a round takes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Pull,
    Push,
    /// The round is over: its totals are [`Round::total`].
    Done,
}

/// What a pulled page said of the rest of the server's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Page {
    pub received: usize,
    /// The server cut the page short for its size: more may follow.
    pub more: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Pulling what is new before pushing.
    First,
    Pushing,
    /// Pulling what won a refused push's versions.
    AfterRefusal,
    /// Pulling what came while pushing.
    Last,
    Done,
}

/// One round's decisions.
#[derive(Debug, Clone)]
pub struct Round {
    phase: Phase,
    pushes: bool,
    batch: usize,
    refused: usize,
    total: Progress,
}

impl Round {
    /// A round pulling `batch` events per page; pushing too, unless it follows the server.
    pub fn new(pushes: bool, batch: usize) -> Self {
        Round { phase: Phase::First, pushes, batch, refused: 0, total: Progress::default() }
    }

    pub fn next(&self) -> Next {
        match self.phase {
            Phase::First | Phase::AfterRefusal | Phase::Last => Next::Pull,
            Phase::Pushing => Next::Push,
            Phase::Done => Next::Done,
        }
    }

    /// A pull step wrote `step`, from a page like `page`. A full page, or one
    /// cut short for its size, may leave more: the round pulls again.
    pub fn pulled(&mut self, step: Progress, page: Page) {
        self.total.pulled += step.pulled;
        self.total.conflicts += step.conflicts;
        self.total.position = step.position;
        if page.received >= self.batch || page.more {
            return;
        }
        self.phase = match self.phase {
            Phase::First | Phase::AfterRefusal if self.pushes => Phase::Pushing,
            _ => Phase::Done,
        };
    }

    /// A push step's outcome: more to push after a batch went; the last pull
    /// once nothing is left; a pull and pushing again after a refusal for
    /// conflicts, until [`REFUSED_ROUNDS`]; any other failure ends the round with it.
    pub fn pushed(&mut self, step: Result<Progress>) -> Result<()> {
        match step {
            Ok(step) if step.pushed == 0 => self.phase = Phase::Last,
            Ok(step) => self.total.pushed += step.pushed,
            Err(Error::Conflict { .. }) if self.refused < REFUSED_ROUNDS => {
                self.refused += 1;
                self.phase = Phase::AfterRefusal;
            }
            Err(error) => {
                self.phase = Phase::Done;
                return Err(error);
            }
        }
        Ok(())
    }

    /// What the round moved so far (its position: the last pull's).
    pub fn total(&self) -> Progress {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn pulled(n: u64, position: u64) -> Progress {
        Progress { pulled: n, position, ..Progress::default() }
    }

    fn pushed(n: u64) -> Result<Progress> {
        Ok(Progress { pushed: n, ..Progress::default() })
    }

    fn refused() -> Result<Progress> {
        Err(Error::Conflict { originator_id: Uuid::nil(), originator_version: 1, detail: String::new() })
    }

    #[test]
    fn a_round_pulls_while_pages_come_full_or_cut_short_then_pushes_then_pulls_once_more() {
        let mut round = Round::new(true, 2);
        round.pulled(pulled(2, 2), Page { received: 2, more: false });
        assert_eq!(round.next(), Next::Pull, "a full page may leave more");
        round.pulled(pulled(1, 3), Page { received: 1, more: true });
        assert_eq!(round.next(), Next::Pull, "a page cut short for its size may leave more");
        round.pulled(pulled(0, 3), Page::default());
        assert_eq!(round.next(), Next::Push);
        round.pushed(pushed(2)).unwrap();
        assert_eq!(round.next(), Next::Push, "more may be pending");
        round.pushed(pushed(0)).unwrap();
        assert_eq!(round.next(), Next::Pull);
        round.pulled(pulled(1, 6), Page { received: 1, more: false });
        assert_eq!(round.next(), Next::Done);
        assert_eq!(round.total(), Progress { pulled: 4, pushed: 2, conflicts: 0, position: 6 });
    }

    #[test]
    fn a_follower_only_pulls() {
        let mut round = Round::new(false, 10);
        round.pulled(pulled(3, 3), Page { received: 3, more: false });
        assert_eq!(round.next(), Next::Done);
    }

    #[test]
    fn a_refused_push_pulls_and_pushes_again_until_the_round_gives_up() {
        let mut round = Round::new(true, 10);
        round.pulled(pulled(0, 0), Page::default());
        for _ in 0..REFUSED_ROUNDS {
            assert_eq!(round.next(), Next::Push);
            round.pushed(refused()).unwrap();
            assert_eq!(round.next(), Next::Pull, "what won the versions is pulled first");
            round.pulled(Progress { conflicts: 1, ..pulled(1, 1) }, Page { received: 1, more: false });
        }
        assert!(matches!(round.pushed(refused()), Err(Error::Conflict { .. })));
        assert_eq!(round.next(), Next::Done);
        assert_eq!(round.total().conflicts, REFUSED_ROUNDS as u64);
    }

    #[test]
    fn any_other_failure_ends_the_round_with_it() {
        let mut round = Round::new(true, 10);
        round.pulled(pulled(0, 0), Page::default());
        assert!(matches!(round.pushed(Err(Error::Sync("offline".into()))), Err(Error::Sync(_))));
        assert_eq!(round.next(), Next::Done);
    }
}
