//! Capped exponential backoff with jitter, reset after a healthy session.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self { base, cap, attempt: 0 }
    }

    /// The wait before the next attempt: base × 2ⁿ, capped, then scaled by a random
    /// factor in [0.5, 1.0) so that many clients do not retry in step.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let full = self.base.saturating_mul(factor).min(self.cap);
        full.mul_f64(0.5 + fastrand::f64() / 2.0)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(500) && delays[0] < Duration::from_secs(1));
        assert!(delays[3] >= Duration::from_secs(4) && delays[3] < Duration::from_secs(8));
        assert!(delays[9] >= Duration::from_secs(30) && delays[9] < Duration::from_secs(60));
        b.reset();
        assert!(b.next_delay() < Duration::from_secs(1));
    }
}
