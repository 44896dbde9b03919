//! The one writer of every file onrecord writes: filled questionnaires, JSON reports,
//! baselines. Writers elsewhere produce bytes; this module puts them on disk.
//!
//! Invariants:
//! - every output path is checked against every input and against the other outputs before
//!   anything is written (by file identity, so `./q.xlsx`, a hard link or a symlink to the
//!   input are all the input);
//! - an existing output is replaced only with [`Replace::Force`], and never when it is not a
//!   regular file (`-o /dev/null` stays a device);
//! - outputs are written only once all of them are ready: each to a temporary file created
//!   exclusively (`O_EXCL`: a planted symlink makes it fail, never followed) under a unique
//!   name in the target's directory, flushed, then all renamed into place; any failure
//!   removes every temporary file and renames nothing;
//! - temporary files are registered while they exist, so the binary's Ctrl-C/SIGTERM handler
//!   removes them ([`remove_temporaries`]); those of earlier runs that died are swept the
//!   next time onrecord writes into the same directory.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};

/// Whether an existing output may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// An existing output is an error that names it (a person's work is never overwritten
    /// by accident).
    Refuse,
    /// `--force`: an existing regular file is replaced.
    Force,
}

/// The part of a temporary file's name that marks it as onrecord's.
const TEMP_MARK: &str = ".onrecord-";
const TEMP_SUFFIX: &str = ".tmp";
/// The temporary-file name of versions before this writer; swept like the others.
const OLD_TEMP_SUFFIX: &str = ".onrecord-tmp";

/// The temporary files that exist right now, for the signal handler.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A set of outputs written together, or not at all.
#[derive(Debug)]
pub struct Outputs {
    inputs: Vec<(PathBuf, Identity)>,
    pending: Vec<Pending>,
    replace: Replace,
}

#[derive(Debug)]
struct Pending {
    target: PathBuf,
    identity: Identity,
    what: String,
    bytes: Option<Vec<u8>>,
}

/// What makes two paths the same file: the device and inode of an existing file, else the
/// canonical directory and the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Name(PathBuf),
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = fs::metadata(path) {
            return Identity::Inode(meta.dev(), meta.ino());
        }
    }
    if let Ok(canonical) = fs::canonicalize(path) {
        return Identity::Name(canonical);
    }
    let dir = parent_dir(path);
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    Identity::Name(dir.join(path.file_name().unwrap_or_default()))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl Outputs {
    /// Outputs of a command that reads `inputs`.
    pub fn new(inputs: &[impl AsRef<Path>], replace: Replace) -> Outputs {
        Outputs {
            inputs: inputs
                .iter()
                .map(|p| (p.as_ref().to_path_buf(), identity(p.as_ref())))
                .collect(),
            pending: Vec::new(),
            replace,
        }
    }

    /// Reserves `target` (described as `what`: "the filled questionnaire", "the report"), or
    /// says why it cannot be written. Call it before the work, so a bad path costs nothing.
    pub fn claim(&mut self, target: &Path, what: &str) -> Result<()> {
        let shown = target.display();
        if target.file_name().is_none()
            || target.as_os_str().to_string_lossy().ends_with('/')
            || target.is_dir()
        {
            bail!("`{shown}`: {what} needs a file name, not a directory");
        }
        let id = identity(target);
        if let Some((input, _)) = self.inputs.iter().find(|(_, i)| *i == id) {
            bail!(
                "`{shown}`: {what} would overwrite the input `{}`; onrecord never writes a \
                 file it reads: choose another path",
                input.display()
            );
        }
        if let Some(other) = self.pending.iter().find(|p| p.identity == id) {
            bail!(
                "`{shown}`: {what} and {} would be the same file; give them different paths",
                other.what
            );
        }
        check_target(target, what, self.replace)?;
        let dir = parent_dir(target);
        if !dir.is_dir() {
            bail!(
                "`{shown}`: cannot write {what} there: the directory `{}` does not exist; \
                 create it or choose another path",
                dir.display()
            );
        }
        // A directory we may not write into (read-only, another user's) is found now, not
        // after the work: an empty temporary file, created exclusively and removed at once.
        match write_temporary(target, &[]) {
            Ok(probe) => discard(&probe),
            Err(err) => bail!(
                "`{shown}`: cannot write {what} there: creating a file in `{}` fails ({err}); \
                 choose another path",
                dir.display()
            ),
        }
        self.pending.push(Pending {
            target: target.to_path_buf(),
            identity: id,
            what: what.to_string(),
            bytes: None,
        });
        Ok(())
    }

    /// The content of a claimed target (named as it was claimed).
    pub fn set(&mut self, target: &Path, bytes: Vec<u8>) -> Result<()> {
        match self.pending.iter_mut().find(|p| p.target == target) {
            Some(pending) => {
                pending.bytes = Some(bytes);
                Ok(())
            }
            None => bail!("`{}` was not claimed as an output", target.display()),
        }
    }

    /// Writes every claimed output that has content: all temporary files first, then the
    /// renames; on a failure before the renames nothing is left behind.
    pub fn commit(self) -> Result<()> {
        let mut written: Vec<(PathBuf, &Pending)> = Vec::new();
        let result = (|| -> Result<()> {
            for pending in &self.pending {
                let Some(bytes) = &pending.bytes else {
                    continue;
                };
                let dir = parent_dir(&pending.target);
                sweep_stale(dir);
                let temp = write_temporary(&pending.target, bytes).with_context(|| {
                    format!(
                        "could not write {} `{}`",
                        pending.what,
                        pending.target.display()
                    )
                })?;
                written.push((temp, pending));
            }
            // The targets again, just before replacing them: nothing turned into a device
            // or appeared meanwhile.
            for (_, pending) in &written {
                check_target(&pending.target, &pending.what, self.replace)?;
            }
            Ok(())
        })();
        if let Err(err) = result {
            for (temp, _) in &written {
                discard(temp);
            }
            return Err(err);
        }
        let mut failure = None;
        for (temp, pending) in &written {
            if failure.is_some() {
                discard(temp);
                continue;
            }
            match fs::rename(temp, &pending.target) {
                Ok(()) => forget(temp),
                Err(err) => {
                    discard(temp);
                    failure = Some(anyhow::anyhow!(
                        "could not write {} `{}`: {err}",
                        pending.what,
                        pending.target.display()
                    ));
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

fn check_target(target: &Path, what: &str, replace: Replace) -> Result<()> {
    let shown = target.display();
    let Ok(link) = fs::symlink_metadata(target) else {
        return Ok(());
    };
    let regular = if link.file_type().is_symlink() {
        fs::metadata(target).map(|m| m.is_file()).unwrap_or(true)
    } else {
        link.is_file()
    };
    if !regular {
        bail!(
            "`{shown}` exists and is not a regular file; onrecord writes {what} only as a \
             regular file: choose another path"
        );
    }
    if replace == Replace::Refuse {
        bail!(
            "`{shown}` already exists; onrecord does not overwrite it (it may hold a person's \
             work): pass --force to replace it, or choose another path"
        );
    }
    Ok(())
}

/// A new temporary file beside `target`, created exclusively, holding `bytes`, flushed.
fn write_temporary(target: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let temp = temporary_name(target);
    register(&temp);
    let result = (|| -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(err) => {
            // create_new failed: the path is someone else's; otherwise it is our half file.
            if err.kind() != std::io::ErrorKind::AlreadyExists {
                discard(&temp);
            } else {
                forget(&temp);
            }
            Err(err.into())
        }
    }
}

/// `.NAME.onrecord-PID-N-NANOS.tmp` in the target's directory: unique per process and call.
pub fn temporary_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent_dir(target).join(format!(
        ".{name}{TEMP_MARK}{}-{n}-{nanos}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// Marks `path` as a temporary file of this process (removed on Ctrl-C).
pub fn register(path: &Path) {
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.push(path.to_path_buf());
    }
}

/// `path` is no longer a temporary file (renamed into place, or removed).
pub fn forget(path: &Path) {
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.retain(|p| p != path);
    }
}

fn discard(path: &Path) {
    let _ = remove_any(path);
    forget(path);
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(err) => Err(err),
    }
}

/// Removes every temporary file and directory this process has open: for the Ctrl-C/SIGTERM
/// handler, which then exits.
pub fn remove_temporaries() {
    let list = match TEMPORARIES.lock() {
        Ok(mut list) => std::mem::take(&mut *list),
        Err(_) => return,
    };
    for path in list {
        let _ = remove_any(&path);
    }
}

/// Whether `name` is one of onrecord's temporary names, and if so the process that made it
/// (None for the old fixed names).
fn temporary_owner(name: &str) -> Option<Option<u32>> {
    if !name.starts_with('.') {
        return None;
    }
    if name.ends_with(OLD_TEMP_SUFFIX) {
        return Some(None);
    }
    let rest = name.strip_suffix(TEMP_SUFFIX)?;
    let (_, tail) = rest.rsplit_once(TEMP_MARK)?;
    let pid = tail.split('-').next()?.parse().ok()?;
    Some(Some(pid))
}

/// Removes the temporary files (and directories) of onrecord runs in `dir` that are no
/// longer running: a run killed by SIGKILL or a power cut leaves them behind.
pub fn sweep_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = temporary_owner(&name) else {
            continue;
        };
        let stale = match owner {
            Some(pid) => !process_alive(pid),
            None => true,
        };
        if stale {
            let _ = remove_any(&entry.path());
        }
    }
}

/// Whether process `pid` still runs. Without `/proc` (not Linux) every process is assumed
/// alive, so nothing of a running process is ever swept.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    proc_root.join(pid.to_string()).exists()
}

/// Opens `path` for reading and writing without following a symlink at its last component,
/// creating it when missing: for lock files inside `.onrecord/`.
pub fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW: a planted symlink makes the open fail instead of touching its target.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_with_their_process() {
        let temp = temporary_name(Path::new("dir/out.xlsx"));
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".out.xlsx.onrecord-"));
        assert_eq!(temporary_owner(&name), Some(Some(std::process::id())));
        assert_eq!(temporary_owner(".r.json.onrecord-tmp"), Some(None));
        assert_eq!(temporary_owner("out.xlsx"), None);
        assert_eq!(temporary_owner(".hidden.tmp"), None);
    }
}
