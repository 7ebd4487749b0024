#!/usr/bin/python3
"""Run a command under the seccomp part of fixrouter.service, without systemd.

`systemd-analyze verify` checks that the unit parses; it cannot tell whether the engine
survives the unit's sandbox. This script installs the same kernel filters systemd would,
read from the unit file itself, and then execs the command, so a test can run the real
engine under them on a host or container where systemd is not PID 1:

- `SystemCallFilter=` (allow list, then `~` removals, groups expanded by
  `systemd-analyze syscall-filter` of the installed systemd) with
  `SystemCallErrorNumber=EPERM`;
- `MemoryDenyWriteExecute=yes`: no W+X `mmap`, no `mprotect`/`pkey_mprotect` adding
  PROT_EXEC, no `shmat` with SHM_EXEC;
- `RestrictAddressFamilies=`: `socket()` of any other family fails with EAFNOSUPPORT;
- `SystemCallArchitectures=native` and `NoNewPrivileges=yes` (libseccomp's defaults).

Not reproduced: the mount namespace (ProtectSystem, PrivateTmp, ...), the user namespace,
capability dropping and cgroup settings; those need systemd itself.

Needs libseccomp's Python binding (`apt-get install python3-seccomp`), hence the system
interpreter in the shebang.

Usage: sandbox-exec.py UNIT_FILE -- COMMAND [ARG...]
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import subprocess
import sys

import seccomp  # type: ignore[import-not-found]

AF_ALLOWED_NAMES = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10}
SHM_EXEC = 0o100000


def unit_values(path: str, key: str) -> list[str]:
    """Every value of `key` in the [Service] section, in order (comments skipped)."""
    values, section = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            name, sep, value = line.partition("=")
            if sep and section == "[Service]" and name.strip() == key:
                values.append(value.strip())
    return values


def expand(name: str, seen: set[str] | None = None) -> set[str]:
    """Syscall names in `name` (a syscall or an @group), as the installed systemd defines."""
    if not name.startswith("@"):
        return {name}
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], check=True, capture_output=True, text=True
    ).stdout
    result: set[str] = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        result |= expand(item, seen)
    return result


def allowed_syscalls(unit: str) -> set[str]:
    """The allow list systemd builds from the unit's SystemCallFilter= lines."""
    allowed: set[str] = set()
    first = True
    for value in unit_values(unit, "SystemCallFilter"):
        if not value:  # an empty assignment resets the list
            allowed, first = set(), True
            continue
        invert = value.startswith("~")
        names = value.lstrip("~").split()
        if first and invert:
            raise SystemExit("sandbox-exec: deny-list SystemCallFilter is not supported here")
        if first:
            allowed |= expand("@default")  # systemd adds it to every allow list
        first = False
        for n in names:
            if invert:
                allowed -= expand(n)
            else:
                allowed |= expand(n)
    return allowed


def add_syscall_filter(unit: str, allowed: set[str]) -> None:
    errno_value = unit_values(unit, "SystemCallErrorNumber")
    err = getattr(errno, errno_value[-1]) if errno_value else errno.EPERM
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err))
    for name in sorted(allowed):
        # A name that is not a syscall on this architecture is skipped, as systemd does.
        with contextlib.suppress(RuntimeError, ValueError):
            f.add_rule(seccomp.ALLOW, name)
    f.load()


def add_mdwe_filter() -> None:
    wx = mmap.PROT_WRITE | mmap.PROT_EXEC
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    f.add_rule(deny, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
    for name in ("mprotect", "pkey_mprotect"):
        f.add_rule(deny, name, seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
    f.add_rule(deny, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    f.load()


def add_family_filter(unit: str) -> None:
    values = unit_values(unit, "RestrictAddressFamilies")
    if not values:
        return
    names = values[-1].split()
    if any(n.startswith("~") for n in names) or any(n not in AF_ALLOWED_NAMES for n in names):
        raise SystemExit(f"sandbox-exec: RestrictAddressFamilies={values[-1]} not supported")
    allowed = sorted({AF_ALLOWED_NAMES[n] for n in names})
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EAFNOSUPPORT)
    low = 0
    for family in allowed:  # deny every gap between the allowed families
        for value in range(low, family):
            f.add_rule(deny, "socket", seccomp.Arg(0, seccomp.EQ, value))
        low = family + 1
    f.add_rule(deny, "socket", seccomp.Arg(0, seccomp.GE, low))
    f.load()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    unit, command = argv[1], argv[3:]
    # Expand the groups before any filter is in place (systemd-analyze is a child process),
    # and load the allow list last: it may not allow seccomp() itself.
    allowed = allowed_syscalls(unit)
    if unit_values(unit, "MemoryDenyWriteExecute")[-1:] == ["yes"]:
        add_mdwe_filter()
    add_family_filter(unit)
    add_syscall_filter(unit, allowed)
    os.execvp(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
