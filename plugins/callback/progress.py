# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's progress for a person: a line per play, per change, per wait and per failure."""

from __future__ import annotations

DOCUMENTATION = r"""
name: progress
type: stdout
short_description: A run's progress for a person, a screen's worth rather than every task
version_added: 0.6.0
author: Shipyard maintainers (@shipyard)
description:
  - Prints a line per play, a line per task that changed something, a line saying what a run waits
    for when a task that waits (C(wait_for), C(wait_for_connection), C(pause), async status, or a task
    named "Wait ..." that retries C(until) a condition) is still at it after 2 seconds, and a line after
    any task that took 10 seconds or more.
  - Prints the messages of C(debug) tasks (the summaries, the app's address) and every failure
    whole; unchanged and skipped tasks print nothing. Ends with one line per host and the run's time.
  - C(make demo) uses it; C(make demo V=1) shows every task with Ansible's default output.
  - "Use it with C(ANSIBLE_STDOUT_CALLBACK=shipyard.ec2_compose.progress)."
"""

EXAMPLES = r"""
# For one run:
#   ANSIBLE_STDOUT_CALLBACK=shipyard.ec2_compose.progress ansible-playbook shipyard.ec2_compose.site
# For every run, in your ansible.cfg:
#   [defaults]
#   stdout_callback = shipyard.ec2_compose.progress
"""

import json
import threading
import time

from ansible.plugins.callback import CallbackBase

# Modules whose task is a wait: said while they wait (WAIT_NOTICE_SECONDS in), since they can take minutes.
WAITING_ACTIONS = {"wait_for", "wait_for_connection", "pause", "async_status"}
LONG_SECONDS = 10  # a task that took longer says so when it ends
WAIT_NOTICE_SECONDS = 2  # a wait still going after this long says what it waits for


def _short_action(action):
    return (action or "").rsplit(".", 1)[-1]


def _name(task):
    """The task's name with its role's short name ("network : Create the VPC")."""
    return task.get_name(include_role_fqcn=False).strip()


def _waits(task):
    """A wait module, or a task that says it waits and retries until something holds. (Other retried tasks,
    such as a create that AWS's eventual consistency may refuse once, usually pass at once.)"""
    return _short_action(task.action) in WAITING_ACTIONS or bool(task.until and (task.name or "").startswith("Wait"))


def _message(result):
    """What a failure says: its msg, then what a command printed, each shortened."""
    parts = [str(result.get("msg", "")).strip()]
    parts += [str(result.get(key, "")).strip()[-1500:] for key in ("stderr", "stdout") if result.get(key)]
    if result.get("results"):  # a loop: each failed item's own message
        parts += [_message(item) for item in result["results"] if item.get("failed")]
    return "\n".join(part for part in parts if part) or json.dumps(result, default=str)[:1500]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "shipyard.ec2_compose.progress"

    def __init__(self):
        super().__init__()
        self._started = time.monotonic()
        self._task_started = {}
        self._wait_notice = None  # the timer that says what the running wait waits for

    def _cancel_wait_notice(self):
        if self._wait_notice:
            self._wait_notice.cancel()
            self._wait_notice = None

    def _line(self, text):
        self._display.display(text)

    def v2_playbook_on_play_start(self, play):
        self._cancel_wait_notice()
        self._line(f"\n== {play.get_name().strip()}")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._cancel_wait_notice()
        self._task_started[task._uuid] = time.monotonic()
        if _waits(task):  # said only if it does wait: a wait with nothing to wait for ends at once
            self._wait_notice = threading.Timer(WAIT_NOTICE_SECONDS, self._line, [f"   ... waiting: {_name(task)}"])
            self._wait_notice.daemon = True
            self._wait_notice.start()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _took(self, task):
        """" (12 s)" for a task that took LONG_SECONDS or more, else ""."""
        seconds = time.monotonic() - self._task_started.get(task._uuid, time.monotonic())
        return f" ({seconds:.0f} s)" if seconds >= LONG_SECONDS else ""

    def v2_runner_on_ok(self, result):
        self._cancel_wait_notice()
        task, outcome, host, took = result.task, result.result, result.host.get_name(), self._took(result.task)
        if _short_action(task.action) == "debug":
            messages = [item["msg"] for item in outcome.get("results", [outcome]) if "msg" in item]
            texts = [m if isinstance(m, str) else json.dumps(m, indent=2, default=str) for m in messages]
            lines = [f"     {line}" for text in texts for line in text.splitlines()]
            self._line("\n".join([f"   {_name(task)}:", *lines]))
        elif outcome.get("changed") or took:
            state = "changed" if outcome.get("changed") else "ok"
            self._line(f"   {state:<8}{_name(task)} [{host}]{took}")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._cancel_wait_notice()
        task, host = result.task, result.host.get_name()
        if ignore_errors:
            self._line(f"   failed  {_name(task)} [{host}] (ignored)")
            return
        self._line(f"   FAILED  {_name(task)} [{host}]:")
        self._line("\n".join(f"     {line}" for line in _message(result.result).splitlines()))

    def v2_runner_on_skipped(self, result):
        self._cancel_wait_notice()

    def v2_runner_on_unreachable(self, result):
        self._cancel_wait_notice()
        self._line(f"   UNREACHABLE {result.host.get_name()}: {_message(result.result)}")

    def v2_playbook_on_stats(self, stats):
        self._cancel_wait_notice()
        self._line("")
        for host in sorted(stats.processed):
            s = stats.summarize(host)
            self._line(f"{host}: ok={s['ok']} changed={s['changed']} failed={s['failures']} "
                       f"unreachable={s['unreachable']} skipped={s['skipped']}")
        self._line(f"done in {time.monotonic() - self._started:.0f} s")
