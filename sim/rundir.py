"""A run dir belongs to one run: claimed under an exclusive lock before anything is written.

Two runs must never write into one folder (their summary.json, series and figures would mix,
and a killed run could leave a finished-looking folder with another run's files). So before
Hydra or the run writes anything:

* a **fresh** dir (the default ``outputs/...<timestamp>`` names) is made with an exclusive
  ``mkdir``; if another run took that name in the same second, the next free name
  ``<name>_2``, ``<name>_3``, ... is used. No two runs ever get the same default dir.
* a **named** dir (an explicit ``hydra.run.dir``) is locked (``flock`` on ``.siyu.lock``
  inside it, released by the kernel when the process ends, even on ``kill -9``). A dir
  another live run holds, or one holding a finished run (its ``summary.json``), is refused.
  A dir left by a killed run is cleared of what the run will rewrite (its files, figures,
  ``.hydra/``, log, stale temporary files and any planted symlinks) before the run starts.
* a **sweep** dir is locked the same way for the whole sweep (a second sweep into it while
  the first runs is refused; re-running a finished or killed sweep resumes it), and each
  job dir is locked while its job runs.

Errors are :class:`RunDirError` (a :class:`~sim.config.ConfigError`): one line naming the key
(``hydra.run.dir`` / ``hydra.sweep.dir``), the folder and what is allowed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.config.base import ConfigError

LOCK = ".siyu.lock"
SUMMARY = "summary.json"
# everything a run (or a sweep job) writes into its dir; cleared before a run starts over
RUN_FILES = ("summary.json", "series.parquet", "transactions.parquet", "cohorts.parquet",
             "figures", ".hydra", "cli.log")
MAX_SUFFIX = 10_000


class RunDirError(ConfigError):
    """The run dir cannot be used: one line naming the key, the folder and what is allowed."""


@dataclass
class Claim:
    """A run dir held by this process until :meth:`release` (or until the process ends)."""

    path: Path
    created: bool  # made by this claim (a failed run may remove it again)
    _fd: int | None = field(default=None, repr=False)
    _made: list[Path] = field(default_factory=list, repr=False)  # parents made, innermost last

    def release(self) -> None:
        """Drop the lock (and its file)."""
        if self._fd is None:
            return
        try:
            lock = self.path / LOCK
            try:  # unlink only our own lock file (a racing claimer re-checks the inode)
                if os.stat(lock, follow_symlinks=False).st_ino == os.fstat(self._fd).st_ino:
                    lock.unlink()
            except OSError:
                pass
        finally:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        """Undo the claim of a run that failed before producing results: remove what runs
        write here, and the dir and its parents if this claim made them and they are empty."""
        try:
            clear(self.path, RUN_FILES)
        finally:
            self.release()
        if self.created:
            for d in [self.path, *reversed(self._made)]:
                try:
                    d.rmdir()
                except OSError:
                    break


_HELD: list[Claim] = []  # claims live for the process unless released


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def _mkdirs(path: Path, key: str) -> list[Path]:
    """Make ``path``'s missing parents; return those made (outermost first)."""
    missing = []
    p = path.parent
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    made = []
    for d in reversed(missing):
        try:
            d.mkdir()
            made.append(d)
        except FileExistsError:
            if not d.is_dir():
                raise RunDirError(f"{key}={path}: {d} is a file, not a folder; allowed: a "
                                  "path whose parents are folders") from None
        except OSError as err:
            _undo(made)
            raise RunDirError(f"{key}={path}: cannot create {d} ({_describe(err)}); allowed: "
                              "a folder you can write to") from None
    if not p.is_dir() and p in path.parents:
        _undo(made)
        raise RunDirError(f"{key}={path}: {p} is a file, not a folder; allowed: a path whose "
                          "parents are folders")
    return made


def _undo(made: list[Path]) -> None:
    for d in reversed(made):
        try:
            d.rmdir()
        except OSError:
            break


def _lock(path: Path, key: str, what: str) -> int:
    """Take the exclusive lock of dir ``path``; refuse if a live process holds it."""
    lock = path / LOCK
    for _ in range(100):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            if err.errno == errno.ELOOP:  # a planted symlink: never follow it
                lock.unlink()
                continue
            raise RunDirError(f"{key}={path}: cannot write into this folder "
                              f"({_describe(err)}); allowed: a folder you can write to") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunDirError(f"{key}={path}: another {what} ({holder}) is writing into this "
                              f"folder; allowed: a folder no live run is using (wait for it, "
                              "or choose another)") from None
        try:  # the file may have been unlinked by its previous holder after we opened it
            same = os.stat(lock, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, since "
                         f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            return fd
        os.close(fd)
    raise RunDirError(f"{key}={path}: could not take the folder's lock; allowed: a folder "
                      "no live run is using")


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "another process"


def clear(path: Path, names: tuple[str, ...] | list[str]) -> None:
    """Remove ``names`` from dir ``path`` (files, folders or symlinks: a symlink is removed,
    never followed) and the temporary files atomic writes left behind when killed."""
    for name in names:
        _remove(path / name)
    for sub in (path, path / "figures"):
        try:
            entries = list(os.scandir(sub))
        except OSError:
            continue
        for e in entries:
            if _is_temp(e.name):
                _remove(Path(e.path))


def _is_temp(name: str) -> bool:
    """A leftover of :func:`sim.data.io.atomic_path`: ``.<target>.<random>.tmp``."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    target = name[1:].rsplit(".", 2)[0]
    return target in RUN_FILES or target.endswith(".png")


def _remove(p: Path) -> None:
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(p)
    else:
        p.unlink()


HYDRA_FILES = ("config.yaml", "hydra.yaml", "overrides.yaml")


def remove_planted_links(sweep: Path) -> None:
    """In a sweep dir, remove symlinks where Hydra or a job would write (``multirun.yaml``,
    job dirs, their outputs, ``.hydra/*.yaml``): Hydra follows them. Other files are left."""
    _unlink_if_link(sweep / "multirun.yaml")
    try:
        entries = list(os.scandir(sweep))
    except OSError:
        return
    for e in entries:
        if e.is_symlink():
            if os.path.isdir(e.path):  # a job dir pointing elsewhere
                Path(e.path).unlink()
            continue
        if e.is_dir():
            job = Path(e.path)
            for name in RUN_FILES:
                _unlink_if_link(job / name)
            for name in HYDRA_FILES:
                _unlink_if_link(job / ".hydra" / name)


def _unlink_if_link(p: Path) -> None:
    if p.is_symlink():
        p.unlink()


def _check_dir(path: Path, key: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise RunDirError(f"{key}={path}: cannot use this folder ({_describe(err)}); allowed: "
                          "a folder you can write to") from None
    if not stat.S_ISDIR(st.st_mode):
        raise RunDirError(f"{key}={path}: is an existing file, not a folder; allowed: a new or "
                          "empty folder")


def new_run_dir(path: str | Path, key: str = "hydra.run.dir") -> Claim:
    """Create a fresh run dir at ``path`` (or ``path_2``, ``path_3``, ... if taken) and lock it."""
    path = Path(path).absolute()
    made = _mkdirs(path, key)
    for i in range(1, MAX_SUFFIX):
        cand = path if i == 1 else path.with_name(f"{path.name}_{i}")
        try:
            cand.mkdir()
        except FileExistsError:
            continue
        except OSError as err:
            _undo(made)
            raise RunDirError(f"{key}={cand}: cannot create the run folder ({_describe(err)}); "
                              "allowed: a folder you can write to") from None
        try:
            fd = _lock(cand, key, "run")
        except RunDirError:
            cand.rmdir()
            _undo(made)
            raise
        claim = Claim(cand, True, fd, made)
        _HELD.append(claim)
        return claim
    _undo(made)
    raise RunDirError(f"{key}={path}: {MAX_SUFFIX} runs already use this name; allowed: a new "
                      "folder")


def claim_run_dir(path: str | Path, key: str = "hydra.run.dir", *, resume: bool = False,
                  keep: tuple[str, ...] = (), what: str = "run") -> Claim:
    """Lock the named dir ``path`` (creating it if missing) for one run or sweep.

    Refused if a live process holds it, or (unless ``resume``) if it holds a finished run.
    Otherwise what a run writes (:data:`RUN_FILES` except ``keep``) is cleared first, so a
    killed earlier run cannot leave its files beside this run's. With ``resume`` (a sweep, or
    a sweep's job) finished results stay: the sweep decides which runs to redo.
    """
    path = Path(path).absolute()
    _check_dir(path, key)
    made = _mkdirs(path, key)
    created = False
    try:
        path.mkdir()
        created = True
    except FileExistsError:
        _check_dir(path, key)
    except OSError as err:
        _undo(made)
        raise RunDirError(f"{key}={path}: cannot create the folder ({_describe(err)}); "
                          "allowed: a folder you can write to") from None
    if not os.access(path, os.W_OK | os.X_OK):
        _undo(made)
        raise RunDirError(f"{key}={path}: the folder is not writable; allowed: a folder you "
                          "can write to")
    try:
        fd = _lock(path, key, what)
    except RunDirError:
        if created:
            path.rmdir()
        _undo(made)
        raise
    claim = Claim(path, created, fd, made)
    if resume:
        remove_planted_links(path)
    else:
        if os.path.lexists(path / SUMMARY):
            claim.release()
            raise RunDirError(f"{key}={path}: holds a finished run (summary.json); allowed: a "
                              "new or empty folder (move or delete the old run first)")
        clear(path, [n for n in RUN_FILES if n not in keep])
    _HELD.append(claim)
    return claim


def release_all() -> None:
    while _HELD:
        _HELD.pop().release()
