//! Measurements: latency samples and their percentiles, the generator's own CPU
//! time, and a process's resident memory, read from `/proc`.

use std::time::{Duration, Instant};

/// Latency samples in microseconds, kept whole: a run records at most a few
/// million, and sorting them once gives exact percentiles.
#[derive(Debug, Default)]
pub(crate) struct Latencies {
    samples: Vec<u32>,
}

impl Latencies {
    pub(crate) fn record(&mut self, d: Duration) {
        self.samples
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    pub(crate) fn merge(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// p50, p99 and p99.9 in microseconds (zeros when there is no sample).
    pub(crate) fn percentiles(&mut self) -> [u32; 3] {
        if self.samples.is_empty() {
            return [0; 3];
        }
        self.samples.sort_unstable();
        let at = |q: f64| {
            let i = ((self.samples.len() as f64 - 1.0) * q).round() as usize;
            self.samples[i]
        };
        [at(0.50), at(0.99), at(0.999)]
    }
}

/// CPU time (user + system) this process has used so far.
pub(crate) fn own_cpu_time() -> Duration {
    proc_cpu_time("self").unwrap_or_default()
}

fn proc_cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; 100 per second on every Linux this runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of another process (the server under test).
pub(crate) fn cpu_time_of(pid: u32) -> Option<Duration> {
    proc_cpu_time(&pid.to_string())
}

/// Resident set size of a process in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Microseconds since a run's start: what the frames carry as timestamps, so that
/// a latency is one subtraction on the receiving side.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock(Instant);

impl Clock {
    pub(crate) fn start() -> Clock {
        Clock(Instant::now())
    }

    pub(crate) fn now_us(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }

    pub(crate) fn since_us(&self, stamp: u64) -> Duration {
        Duration::from_micros(self.now_us().saturating_sub(stamp))
    }
}
