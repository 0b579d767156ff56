# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the docker role would change on a host, read in one pass: the docker part of the
host_state_info module."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.sys_info import (
    get_distribution,
    get_distribution_codename,
    get_distribution_version,
)

OPTIONS = dict(
    packages=dict(type="list", elements="str", default=[]),
    daemon_json=dict(type="str"),
    daemon_json_path=dict(type="path", default="/etc/docker/daemon.json"),
    users=dict(type="list", elements="str", default=[]),
    boot_finished_path=dict(type="path", default="/var/lib/cloud/instance/boot-finished"),
)

# dpkg's short status: the second letter is the package's state, "i" installed.
DPKG_FORMAT = "${Package}\t${db:Status-Abbrev}\t${Version}\n"


def installed_packages(dpkg_output):
    """The installed packages in `dpkg-query --show --showformat DPKG_FORMAT` output, with their versions."""
    found = {}
    for line in dpkg_output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1][1:2] == "i":
            found[fields[0]] = fields[2]
    return found


def users_not_in_group(users, group_name="docker"):
    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return list(users)
    missing = []
    for user in users:
        try:
            primary_gid = pwd.getpwnam(user).pw_gid
        except KeyError:
            missing.append(user)  # the user module creates it
            continue
        if user not in group.gr_mem and primary_gid != group.gr_gid:
            missing.append(user)
    return missing


def file_holds(path, content, mode):
    try:
        with open(path, "rb") as handle:
            current = handle.read()
        return current == content.encode() and stat.S_IMODE(os.stat(path).st_mode) == mode
    except OSError:
        return False


def first_boot_finished(boot_finished_path):
    """cloud-init wrote its last file, or there is no cloud-init (its state directory is missing)."""
    cloud_state = os.path.dirname(os.path.dirname(boot_finished_path))
    return os.path.exists(boot_finished_path) or not os.path.isdir(cloud_state)


def read(module, params):
    """The docker part of host_state_info's result; `params` are validated against OPTIONS."""
    systemctl, docker = module.get_bin_path("systemctl"), module.get_bin_path("docker")
    commands = {}
    if params["packages"]:
        commands["dpkg"] = ["dpkg-query", "--show", "--showformat", DPKG_FORMAT, *params["packages"]]
    if systemctl:
        commands["enabled"] = [systemctl, "is-enabled", "docker"]
        commands["active"] = [systemctl, "is-active", "docker"]
    if docker:
        commands["compose"] = [docker, "compose", "version", "--short"]
    # All at once: each waits on dpkg, systemd or the docker CLI, not on the others (+1: none at all
    # is a valid read, and a pool needs a worker).
    with ThreadPoolExecutor(max_workers=len(commands) + 1) as pool:
        futures = {name: pool.submit(module.run_command, command) for name, command in commands.items()}
        version = get_distribution_version() or ""
        results = {name: future.result() for name, future in futures.items()}

    def output(name):
        """What the command printed when it succeeded, else an empty string."""
        rc, out, _err = results.get(name, (1, "", ""))
        return out.strip() if rc == 0 else ""

    return dict(
        # Named as ansible.builtin.setup names them; read with the same library (distro), which
        # costs a fraction of the fact collector's module payload.
        ansible_facts=dict(distribution=get_distribution() or "", distribution_version=version,
                           distribution_major_version=version.split(".")[0],
                           distribution_release=get_distribution_codename() or ""),
        # dpkg-query's rc 1 only says that some name is unknown to dpkg: the known ones are still listed.
        installed=installed_packages(results["dpkg"][1]) if "dpkg" in results else {},
        daemon_json_current=params["daemon_json"] is not None
        and file_holds(params["daemon_json_path"], params["daemon_json"], 0o644),
        service={"enabled": output("enabled") == "enabled", "active": output("active") == "active"},
        users_not_in_group=users_not_in_group(params["users"]),
        compose_version=output("compose"),
        first_boot_finished=first_boot_finished(params["boot_finished_path"]),
    )
