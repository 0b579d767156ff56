"""The Docker commands the backer and the services share: run one, read an address, remove by id."""

import subprocess


def docker(*args, stdin=None):
    """stdout of one docker command; CalledProcessError (with its stderr) when it fails."""
    result = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=True, timeout=120)
    return result.stdout.decode()


def address_of(container):
    """A container's address on the engine's default bridge."""
    return docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", container).strip()


def running(container):
    found = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", container],
                           capture_output=True, text=True, check=False, timeout=60)
    return found.stdout.strip() == "true"


def remove_container(container_id):
    """Remove one container of ours, with its anonymous volumes (a host's /var/lib/docker)."""
    subprocess.run(["docker", "rm", "--force", "--volumes", container_id], capture_output=True, timeout=120,
                   check=False)
