"""One run at a time per environment: a lock held in AWS itself, as an SSM Parameter Store parameter.

PutParameter without Overwrite is atomic: of two runs that create the same parameter at once, AWS lets
one through and answers ParameterAlreadyExists to the other. The parameter's value says who holds the
lock, for what, since when and until when, and from which machine and process: a run that was
killed leaves a lock that expires, and that a run on the same machine takes over at once when that
process is gone (Ctrl-C, a kill, a crash). Standard parameters cost nothing.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import socket
import uuid

PREFIX = "/shipyard.ec2_compose"


def parameter_name(project, environment):
    return f"{PREFIX}/{project}/{environment}/run-lock"


def _now():
    # datetime.UTC is Python 3.11+; the hosts' and controllers' Pythons may be older.
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)  # noqa: UP017


def default_owner():
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _ancestors(pid):
    """(pid, command line) of a process and its parents, from /proc (Linux); empty elsewhere."""
    chain = []
    while pid > 1 and len(chain) < 32:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        chain.append((pid, command))
        pid = parent
    return chain


def playbook_pid():
    """The PID of the ansible-playbook that runs this module (the outermost ancestor named so; its
    workers are forks with the same command line), or 0 when it cannot be told."""
    found = [pid for pid, command in _ancestors(os.getpid()) if "ansible-playbook" in command]
    return found[-1] if found else 0


def _gone(holder):
    """Whether the holder ran on this machine in a process that no longer runs ansible-playbook."""
    pid = holder.get("pid") or 0
    if holder.get("host") != socket.gethostname() or not pid or not os.path.isdir("/proc"):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"ansible-playbook" not in handle.read()
    except OSError:
        return True


def holder_line(holder):
    """Who holds the lock, in words."""
    return (f"{holder.get('owner', '?')} ({holder.get('purpose', '?')}) since {holder.get('started', '?')}, "
            f"until {holder.get('expires', '?')} at the latest")


def _read(client, name):
    try:
        value = client.get_parameter(Name=name)["Parameter"]["Value"]
    except client.exceptions.ParameterNotFound:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return {"owner": "?", "purpose": "?", "started": "?", "expires": "?", "token": ""}


def _expired(holder, now):
    try:
        return datetime.datetime.fromisoformat(holder["expires"]) <= now
    except (KeyError, TypeError, ValueError):
        return False  # unreadable: only lock_break removes it


def acquire(client, name, owner, purpose, *, expiry_minutes, force=False):
    """Try once. {acquired, token, holder, taken_over}: holder is ours when acquired, else the other run's.
    A lock that expired, or whose run on this machine is gone (or any, with force), is deleted first and
    the create tried again."""
    now = _now()
    mine = {"owner": owner, "purpose": purpose, "started": now.isoformat(),
            "expires": (now + datetime.timedelta(minutes=expiry_minutes)).isoformat(), "token": uuid.uuid4().hex,
            "host": socket.gethostname(), "pid": playbook_pid()}
    taken_over = None
    for _attempt in range(2):
        try:
            client.put_parameter(Name=name, Value=json.dumps(mine), Type="String", Overwrite=False,
                                 Description="shipyard.ec2_compose: the run that holds this environment")
        except client.exceptions.ParameterAlreadyExists:
            holder = _read(client, name)
            if holder is None:
                continue  # released in between: try again
            if not (force or _expired(holder, now) or _gone(holder)) or taken_over is not None:
                return {"acquired": False, "token": "", "holder": holder, "taken_over": None}
            taken_over = holder
            client.delete_parameter(Name=name)
            continue
        # Two runs that both found the same expired lock may both delete and create: read back.
        ours = (_read(client, name) or {}).get("token") == mine["token"]
        return {"acquired": ours, "token": mine["token"] if ours else "",
                "holder": mine if ours else (_read(client, name) or {}), "taken_over": taken_over}
    return {"acquired": False, "token": "", "holder": _read(client, name) or {}, "taken_over": None}


def release(client, name, token):
    """Delete the lock if it is still the one `token` took. True when deleted."""
    holder = _read(client, name)
    if holder is None or holder.get("token") != token:
        return False
    client.delete_parameter(Name=name)
    return True
