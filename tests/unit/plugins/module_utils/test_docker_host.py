"""docker_host: the dpkg parsing, group membership and first-boot check on their own."""

import grp
import pwd

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.docker_host import (
    first_boot_finished,
    installed_packages,
    users_not_in_group,
)


def test_only_installed_packages_count():
    output = ("docker.io\tii \t26.1.5+dfsg1-9+b9\n"
              "docker-compose\trc \t2.26.1-4\n"  # removed, its configuration kept
              "git\thi \t1:2.47.3-0+deb13u1\n"  # installed and held
              "python3-requests\tun \t\n")  # known, never installed
    assert installed_packages(output) == {"docker.io": "26.1.5+dfsg1-9+b9", "git": "1:2.47.3-0+deb13u1"}


def test_group_membership_counts_the_primary_group_too():
    root_group = grp.getgrgid(pwd.getpwnam("root").pw_gid).gr_name
    assert users_not_in_group(["root"], root_group) == []
    assert users_not_in_group(["root", "no-such-user"], root_group) == ["no-such-user"]
    assert users_not_in_group(["root"], "no-such-group") == ["root"]


def test_first_boot_is_over_once_cloud_init_wrote_boot_finished(tmp_path):
    boot_finished = tmp_path / "cloud" / "instance" / "boot-finished"
    assert first_boot_finished(str(boot_finished))  # no cloud-init on this host: nothing to wait for
    boot_finished.parent.mkdir(parents=True)
    assert not first_boot_finished(str(boot_finished))  # cloud-init is at work
    boot_finished.touch()
    assert first_boot_finished(str(boot_finished))
