"""Find the sandbox's own processes by what they run, so that a stale PID file (its process gone,
the PID reused by another program) never makes us signal someone else's process."""

from pathlib import Path


def command_line(pid):
    """The arguments of process pid, or [] when it is gone (a zombie has none either)."""
    try:
        return [part.decode(errors="replace") for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if part]
    except OSError:
        return []


def runs(pid, program, argument):
    """True when pid is alive and runs `program` (a word of its command line, or one ending with it)
    with `argument` among its arguments."""
    command = command_line(pid)
    return any(part == program or part.endswith("/" + program) for part in command) and argument in command


def find(program, argument):
    """PIDs of the processes that run `program` with `argument`, lowest first."""
    return sorted(int(entry.name) for entry in Path("/proc").iterdir()
                  if entry.name.isdigit() and runs(entry.name, program, argument))
