//! What a run did, counted, to see that the faults do happen.

#[derive(Default, Debug, Clone, Copy)]
pub struct Counts {
    pub rounds: usize,
    pub failed_rounds: usize,
    pub conflicts: usize,
    pub resolved: usize,
    pub dropped: usize,
    pub answers_lost: usize,
    pub duplicates: usize,
    pub tabs_closed: usize,
    pub restarts: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.rounds += o.rounds;
        self.failed_rounds += o.failed_rounds;
        self.conflicts += o.conflicts;
        self.resolved += o.resolved;
        self.dropped += o.dropped;
        self.answers_lost += o.answers_lost;
        self.duplicates += o.duplicates;
        self.tabs_closed += o.tabs_closed;
        self.restarts += o.restarts;
    }
}
