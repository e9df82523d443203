//! Capped exponential backoff with optional jitter: the one retry delay used
//! by the upstream client (reconnects) and the batch writer (failed writes).

use std::time::Duration;

/// Full-jitter exponential backoff: a delay drawn from [d/2, d] where d doubles
/// per failed attempt from `base` up to `max`.
pub fn backoff_delay(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let capped = exp.min(max);
    capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// The delays of one run of failures: `base`, `2 × base`, … up to `max`,
/// each drawn from [d/2, d] when jittered, or exactly d when not.
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    jitter: Option<Jitter>,
}

impl Backoff {
    /// Delays of exactly `base`, `2 × base`, … capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            attempt: 0,
            jitter: None,
        }
    }

    /// The same delays, each drawn at random from its lower half up to itself.
    pub fn jittered(base: Duration, max: Duration) -> Self {
        Backoff {
            jitter: Some(Jitter::from_clock()),
            ..Backoff::new(base, max)
        }
    }

    /// The delay before the next attempt; each call doubles the next one.
    pub fn next_delay(&mut self) -> Duration {
        let jitter = self.jitter.as_mut().map_or(1.0, Jitter::next);
        let delay = backoff_delay(self.attempt, self.base, self.max, jitter);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Starts again from `base` (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Changes the first delay (the server's SSE `retry:` field).
    pub fn set_base(&mut self, base: Duration) {
        self.base = base;
    }
}

/// Uniform numbers in [0, 1), seeded from the clock: xorshift64*, as a few
/// bits of spread are all jitter needs.
struct Jitter(u64);

impl Jitter {
    fn from_clock() -> Self {
        Jitter(crate::clock::now_ms() as u64 | 1)
    }

    fn next(&mut self) -> f64 {
        let state = &mut self.0;
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps_with_jitter_in_range() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        assert_eq!(backoff_delay(0, base, max, 1.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(3, base, max, 1.0), Duration::from_secs(8));
        assert_eq!(backoff_delay(30, base, max, 1.0), Duration::from_secs(60));
        assert_eq!(backoff_delay(30, base, max, 0.0), Duration::from_secs(30));
        let mut j = Jitter::from_clock();
        for _ in 0..1000 {
            let x = j.next();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn unjittered_delays_double_from_base_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
        let delays: Vec<u64> = (0..7).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
        let mut j = Backoff::jittered(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..20 {
            let d = j.next_delay();
            assert!(d <= Duration::from_secs(60));
        }
    }
}
