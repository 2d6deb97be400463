//! CPU time and memory of a process, from Linux's `/proc` (elsewhere: unavailable).
//!
//! CPU comes from `/proc/PID/stat` (`utime` + `stime`, all threads, in clock ticks of
//! 10 ms), so per-operation figures need runs of thousands of operations; memory from
//! `/proc/PID/status` (`VmRSS`, and `VmHWM`, the peak resident set).

use std::time::Duration;

/// One reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// User + system CPU time so far.
    pub cpu: Duration,
    /// Resident set now, bytes.
    pub rss: u64,
    /// Peak resident set, bytes.
    pub peak_rss: u64,
}

/// Clock ticks per second for `/proc/PID/stat`: 100 on every Linux platform rp runs on
/// (`CONFIG_HZ` does not change what user space sees, `USER_HZ`).
const TICKS_PER_SECOND: u64 = 100;

/// The process's usage now, or `None` when it is gone or `/proc` is not there.
pub fn usage(pid: u32) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Usage {
        cpu: cpu_of_stat(&stat)?,
        rss: kib_field(&status, "VmRSS:").unwrap_or(0) * 1024,
        peak_rss: kib_field(&status, "VmHWM:").unwrap_or(0) * 1024,
    })
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn cpu_of_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ")": state is field 3, so utime (14) is the 12th and stime (15) the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

fn kib_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let stat =
            "4242 (we ird) (x) S 1 4242 4242 0 -1 4194560 1289 0 0 0 250 36 0 0 20 0 9 0 1 2 3";
        assert_eq!(cpu_of_stat(stat), Some(Duration::from_millis(2860)));
    }

    #[test]
    fn parses_status() {
        let status = "Name:\trp\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(20480));
        assert_eq!(kib_field(status, "VmRSS:"), Some(10240));
    }

    #[test]
    fn reads_this_process() {
        if cfg!(target_os = "linux") {
            let u = usage(std::process::id()).unwrap();
            assert!(u.rss > 0 && u.peak_rss >= u.rss);
        }
    }
}
