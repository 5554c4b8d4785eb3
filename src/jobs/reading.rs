//! Reading one stored message within the configured budget: the pure pipeline, bounded
//! in time and with a panic caught, so that no message can stall the ones after it.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::domain::message::Understood;
use crate::protocol::Failure;
use crate::understand::{Budget, Overrun, understand_within};

/// Understands stored message `id` within the configured budget, a panic caught.
pub fn understand_bounded(id: i64, raw: &[u8], config: &Config) -> Result<Understood, Failure> {
    let allowed = config.intake.processing_budget;
    let deadline = Instant::now() + allowed;
    // Test fault: every check of the budget takes a while, so the budget runs out.
    let slow = crate::fault::at_message("slow", id);
    let spent = move || {
        if slow {
            std::thread::sleep(Duration::from_millis(250));
        }
        Instant::now() >= deadline
    };
    let budget = Budget::new(&spent);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if crate::fault::at_message("panic", id) {
            panic!("fault injected for stored message {id}");
        }
        understand_within(raw, &config.understanding(), &budget, &crate::readers::Threaded)
    }));
    match result {
        Ok(Ok(understood)) => Ok(understood),
        Ok(Err(Overrun)) => Err(Failure::Overran { budget_secs: allowed.as_secs() }),
        Err(_) => Err(Failure::Panicked),
    }
}
