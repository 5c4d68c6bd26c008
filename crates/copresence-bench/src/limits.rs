//! The open-file limit. Tens of thousands of subscribers need as many descriptors in the bench
//! (client sockets) and in the server (accepted sockets); the server is a child process and
//! inherits the limit set here before it is spawned.

use anyhow::{bail, Result};

/// Descriptors a process needs besides its subscribers' sockets: standard streams, the
/// listener, the runtime's, the store's files, the publishers' connections, the logs. The
/// server keeps 256 of its limit for itself and refuses connections past the rest (its
/// `--max-connections` default, left on here): the subscribers and the publishers' connections
/// must fit under that.
pub const RESERVED: u64 = 300;

/// Raise `RLIMIT_NOFILE` towards `wanted` descriptors and return the new soft limit. The hard
/// limit is raised too when the process may (`CAP_SYS_RESOURCE`); otherwise the soft limit goes
/// up to the hard one, and the caller measures only what fits (see [`RESERVED`]).
pub fn raise_open_files(wanted: u64) -> Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        bail!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        );
    }
    // The kernel refuses a hard limit above fs.nr_open.
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(wanted);
    let target = wanted.min(ceiling);
    if limit.rlim_max < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: target,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(target);
        }
        tracing::warn!(
            hard = limit.rlim_max,
            wanted,
            "cannot raise the hard open-file limit: {}",
            std::io::Error::last_os_error()
        );
    }
    let soft = limit.rlim_max;
    let raised = libc::rlimit {
        rlim_cur: soft,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        bail!(
            "cannot raise the open-file limit to {soft}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(soft)
}
