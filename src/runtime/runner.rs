//! A runner's rules: when a view or a follower steps, what its waiters hear,
//! and what a failure stops. A runner does no I/O and keeps no time: its
//! driver performs the [`Effect`]s it returns (take the runner's turn, settle a
//! waiter, say it stopped) and reports each step back. It coalesces pokes into
//! at most one queued turn, stops at a failure until [`Runner::start`] (a step
//! of a run begun before a restart does not count), and settles each waiter
//! once: when the position reaches it, at a failure at or before it, or at stop.

/// A step's failure: what went wrong, at which notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure<E> {
    pub error: E,
    pub at: u64,
}

/// What the driver does for a runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<E> {
    /// Take the runner's turn (one tab at a time), then ask [`Runner::turn`].
    Queue,
    /// Settle waiter `waiter`: reached, or failed with `error`.
    Settle { waiter: u64, error: Option<E> },
    /// The runner stopped at this failure until started again: say so.
    Failed(Failure<E>),
}

/// Where a runner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Running,
    Failed,
}

/// What a step reported: the position it reached, the log's head, and its failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Stepped<E> {
    pub position: u64,
    pub head: u64,
    pub failed: Option<Failure<E>>,
}

/// After a step: step again, or the run is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Step,
    Done,
}

/// One runner's state and rules.
#[derive(Debug, Clone)]
pub struct Runner<E> {
    position: u64,
    running: bool,
    failure: Option<Failure<E>>,
    /// A turn is queued: more pokes change nothing.
    queued: bool,
    /// Why it stopped for good (its application closed, or its leader was opened again).
    stopped: Option<E>,
    /// Bumped by `start`: a failure of a run begun before does not count.
    generation: u64,
    waiters: Vec<(u64, u64)>,
    next_waiter: u64,
}

impl<E> Default for Runner<E> {
    fn default() -> Self {
        Runner {
            position: 0,
            running: false,
            failure: None,
            queued: false,
            stopped: None,
            generation: 0,
            waiters: Vec::new(),
            next_waiter: 0,
        }
    }
}

impl<E: Clone> Runner<E> {
    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn state(&self) -> State {
        match (&self.failure, self.running) {
            (Some(_), _) => State::Failed,
            (None, true) => State::Running,
            (None, false) => State::Idle,
        }
    }

    pub fn failure(&self) -> Option<&Failure<E>> {
        self.failure.as_ref()
    }

    /// Catch up soon, unless failed or stopped: at most one turn is queued.
    pub fn poke(&mut self) -> Vec<Effect<E>> {
        if self.queued || self.failure.is_some() || self.stopped.is_some() {
            return Vec::new();
        }
        self.queued = true;
        vec![Effect::Queue]
    }

    /// The queued turn began: whether to catch up ([`Runner::began`] then steps) or let it go.
    pub fn turn(&mut self) -> bool {
        self.queued = false;
        self.failure.is_none() && self.stopped.is_none()
    }

    /// A run of steps begins; the generation it belongs to, for what it reports.
    pub fn began(&mut self) -> u64 {
        self.running = true;
        self.generation
    }

    /// A step of the run of `generation` reported `step`.
    pub fn stepped(&mut self, generation: u64, step: Stepped<E>) -> (Then, Vec<Effect<E>>) {
        let mut effects = self.moved(step.position);
        if let Some(failure) = step.failed {
            self.running = false;
            // A run from before a restart: try again.
            effects.extend(if generation == self.generation { self.fail(failure) } else { self.poke() });
            return (Then::Done, effects);
        }
        if step.position >= step.head {
            self.running = false;
            return (Then::Done, effects);
        }
        (Then::Step, effects)
    }

    /// A step of the run of `generation` threw `error`. Stopped meanwhile, the
    /// run fails with why (`Err`): a rebuild cut short is not taken for done.
    pub fn threw(&mut self, generation: u64, error: E) -> Result<Vec<Effect<E>>, E> {
        self.running = false;
        if let Some(why) = &self.stopped {
            return Err(why.clone());
        }
        Ok(match generation == self.generation {
            true => self.fail(Failure { error, at: self.position + 1 }),
            false => Vec::new(),
        })
    }

    /// Tries again from the last good position; once stopped, `Err(why)`.
    pub fn start(&mut self) -> Result<Vec<Effect<E>>, E> {
        if let Some(why) = &self.stopped {
            return Err(why.clone());
        }
        self.generation += 1;
        self.failure = None;
        Ok(self.poke())
    }

    /// Stops for good; every waiter gets `why`, as nothing here will reach it.
    pub fn stop(&mut self, why: E) -> Vec<Effect<E>> {
        self.stopped = Some(why.clone());
        self.waiters.drain(..).map(|(waiter, _)| Effect::Settle { waiter, error: Some(why.clone()) }).collect()
    }

    /// Another tab moved the position on.
    pub fn heard(&mut self, position: u64) -> Vec<Effect<E>> {
        self.moved(position)
    }

    /// Another tab cleared what this runs (to build it again): its position is 0
    /// again, and this tab queues for the turn at once, so that if that tab closes
    /// mid-build, this one carries the build on then, not at the next event.
    pub fn cleared(&mut self) -> Vec<Effect<E>> {
        self.position = 0;
        self.poke()
    }

    /// Forgets a failure and the position (before a rebuild).
    pub fn reset(&mut self) {
        self.failure = None;
        self.position = 0;
    }

    /// Waits for the position to reach `at`: `Err` at once if the runner failed
    /// at or before it, else the waiter's id (settled by an effect) and a poke.
    pub fn wait(&mut self, at: u64) -> Result<(u64, Vec<Effect<E>>), E> {
        if let Some(failure) = self.failure.as_ref().filter(|f| at >= f.at) {
            return Err(failure.error.clone());
        }
        self.next_waiter += 1;
        self.waiters.push((self.next_waiter, at));
        Ok((self.next_waiter, self.poke()))
    }

    /// The waiter `waiter` was settled otherwise (the core's polling decided it first).
    pub fn unwait(&mut self, waiter: u64) {
        self.waiters.retain(|(id, _)| *id != waiter);
    }

    fn moved(&mut self, position: u64) -> Vec<Effect<E>> {
        self.position = self.position.max(position);
        let reached = self.position;
        self.settle(|at| reached >= at, None)
    }

    fn fail(&mut self, failure: Failure<E>) -> Vec<Effect<E>> {
        let at = failure.at;
        let mut effects = self.settle(|waited| waited >= at, Some(failure.error.clone()));
        self.failure = Some(failure.clone());
        effects.push(Effect::Failed(failure));
        effects
    }

    fn settle(&mut self, settles: impl Fn(u64) -> bool, error: Option<E>) -> Vec<Effect<E>> {
        let mut effects = Vec::new();
        self.waiters.retain(|(waiter, at)| {
            let settled = settles(*at);
            if settled {
                effects.push(Effect::Settle { waiter: *waiter, error: error.clone() });
            }
            !settled
        });
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Runner<&'static str>;

    fn step(position: u64, head: u64) -> Stepped<&'static str> {
        Stepped { position, head, failed: None }
    }

    fn failed(position: u64, at: u64) -> Stepped<&'static str> {
        Stepped { position, head: at + 10, failed: Some(Failure { error: "boom", at }) }
    }

    #[test]
    fn pokes_queue_one_turn_until_it_begins() {
        let mut runner = R::default();
        assert_eq!(runner.poke(), [Effect::Queue]);
        assert_eq!(runner.poke(), []);
        assert!(runner.turn());
        assert_eq!(runner.poke(), [Effect::Queue], "a poke during the turn queues the next");
    }

    #[test]
    fn a_run_steps_until_the_head_and_settles_waiters_on_the_way() {
        let mut runner = R::default();
        let (first, _) = runner.wait(3).unwrap();
        let (second, _) = runner.wait(8).unwrap();
        let generation = runner.began();
        assert_eq!(runner.state(), State::Running);
        assert_eq!(runner.stepped(generation, step(5, 8)), (Then::Step, vec![Effect::Settle { waiter: first, error: None }]));
        assert_eq!(runner.stepped(generation, step(8, 8)), (Then::Done, vec![Effect::Settle { waiter: second, error: None }]));
        assert_eq!((runner.state(), runner.position()), (State::Idle, 8));
    }

    #[test]
    fn a_failure_settles_the_waiters_at_or_past_it_and_stops_pokes_until_started() {
        let mut runner = R::default();
        let (before, _) = runner.wait(2).unwrap();
        let (after, _) = runner.wait(4).unwrap();
        assert!(runner.turn());
        let generation = runner.began();
        let (then, effects) = runner.stepped(generation, failed(1, 3));
        assert_eq!(then, Then::Done);
        assert_eq!(effects, [Effect::Settle { waiter: after, error: Some("boom") }, Effect::Failed(Failure { error: "boom", at: 3 })]);
        assert_eq!(runner.state(), State::Failed);
        assert_eq!(runner.poke(), []);
        assert_eq!(runner.wait(3).unwrap_err(), "boom", "a wait past the failure fails at once");
        let (again, _) = runner.wait(2).unwrap(); // one before it may still be reached
        assert_eq!(runner.start().unwrap(), [Effect::Queue]);
        assert_eq!(runner.heard(2), [Effect::Settle { waiter: before, error: None }, Effect::Settle { waiter: again, error: None }]);
    }

    #[test]
    fn a_failure_of_a_run_begun_before_a_restart_does_not_count() {
        let mut runner = R::default();
        let old = runner.began();
        runner.start().unwrap();
        assert!(runner.turn());
        let (then, effects) = runner.stepped(old, failed(0, 1));
        assert_eq!((then, effects), (Then::Done, vec![Effect::Queue]), "it tries again");
        assert_eq!(runner.state(), State::Idle);
        assert_eq!(runner.threw(old, "gone").unwrap(), []);
        assert_eq!(runner.state(), State::Idle);
    }

    #[test]
    fn a_throw_fails_at_the_next_notification_and_a_stop_fails_the_run_and_every_waiter_with_why() {
        let mut runner = R::default();
        runner.heard(4);
        let generation = runner.began();
        assert_eq!(runner.threw(generation, "lost").unwrap(), [Effect::Failed(Failure { error: "lost", at: 5 })]);
        let mut runner = R::default();
        let (waiter, _) = runner.wait(1).unwrap();
        let generation = runner.began();
        assert_eq!(runner.stop("closed"), [Effect::Settle { waiter, error: Some("closed") }]);
        assert_eq!(runner.threw(generation, "lost"), Err("closed"));
        assert_eq!(runner.start(), Err("closed"));
        assert_eq!(runner.poke(), []);
        assert!(!runner.turn());
    }

    #[test]
    fn cleared_elsewhere_it_starts_from_0_and_queues_at_once() {
        let mut runner = R::default();
        runner.heard(7);
        assert_eq!(runner.cleared(), [Effect::Queue]);
        assert_eq!(runner.position(), 0);
        runner.heard(3);
        assert_eq!(runner.position(), 3);
        runner.reset();
        assert_eq!(runner.position(), 0);
    }
}
