"""Build the sandbox's images, cached; rebuilt only when their recipe changes.

    python sandbox/images.py build [SUITE ...]   # default: trixie bookworm

For each Debian suite:
* ``shipyard-sandbox/debian:SUITE``: the base image. A registry's ``debian:SUITE-slim`` when it is
  already on this engine (or SANDBOX_PULL=1 lets us pull it), else ``debootstrap`` + ``docker import``
  from the Debian mirror, the path that works with no registry.
* ``shipyard-sandbox/vm:SUITE``: sandbox/vm/Dockerfile on that base: what an instance boots.

And ``shipyard-sandbox/app-base:trixie`` (sandbox/app-base/Dockerfile): the trixie base with the
packages the example apps install, what the hosts build the apps FROM; and on it
``shipyard-sandbox/services:trixie`` (sandbox/services/Dockerfile): HAProxy, PostgreSQL and dnsmasq,
what backs load balancers, databases and the VPC's resolver (services.py). The app base is saved as
.sandbox/images/app-base-trixie.tar: the backer mounts that folder into every instance, like an AMI
with images baked in, and the app loads it where no registry answers.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VM_RECIPE = ROOT / "sandbox" / "vm"
SERVICES_RECIPE = ROOT / "sandbox" / "services"
APP_BASE_RECIPE = ROOT / "sandbox" / "app-base"
IMAGE_DIR = ROOT / ".sandbox" / "images"  # shared by every sandbox instance of this checkout
MIRROR = os.environ.get("SANDBOX_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITES = ("trixie", "bookworm")
PRELOADED_SUITE = "trixie"


def base_image(suite):
    return f"shipyard-sandbox/debian:{suite}"


def vm_image(suite):
    return f"shipyard-sandbox/vm:{suite}"


def services_image():
    """What backs load balancers, databases and the VPC's resolver (sandbox/services)."""
    return f"shipyard-sandbox/services:{PRELOADED_SUITE}"


def app_base_image():
    """What the hosts build the apps FROM (sandbox/app-base)."""
    return f"shipyard-sandbox/app-base:{PRELOADED_SUITE}"


def preloaded_tarball():
    """The file name, in IMAGE_DIR, of the saved app base image."""
    return f"app-base-{PRELOADED_SUITE}.tar"


def docker(*args, **kwargs):
    return subprocess.run(["docker", *args], check=True, **kwargs)


def inspect(image, template):
    found = subprocess.run(["docker", "image", "inspect", "--format", template, image],
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def build_base(suite):
    recipe = hashlib.sha256(f"debootstrap minbase {suite} {MIRROR}".encode()).hexdigest()[:12]
    if inspect(base_image(suite), '{{ index .Config.Labels "shipyard.recipe" }}') in (recipe, "registry"):
        return
    registry_image = f"debian:{suite}-slim"
    pulled = os.environ.get("SANDBOX_PULL") == "1" and subprocess.run(
        ["docker", "pull", registry_image], capture_output=True, check=False).returncode == 0
    if pulled or inspect(registry_image, "{{.Id}}"):
        docker("build", "--quiet", "--label", "shipyard.recipe=registry", "-t", base_image(suite), "-",
               input=f"FROM {registry_image}\n".encode(), stdout=subprocess.DEVNULL)
        return
    print(f"building {base_image(suite)} with debootstrap from {MIRROR} (about a minute)", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"sandbox-{suite}-") as rootfs:
        subprocess.run(["debootstrap", "--variant=minbase", suite, rootfs, MIRROR], check=True,
                       stdout=subprocess.DEVNULL)
        # debootstrap leaves the mirror's lists out; a base image ships none either.
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        docker("import", "--change", f"LABEL shipyard.recipe={recipe}", "--change", 'CMD ["/bin/bash"]',
               "-", base_image(suite), stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            sys.exit(f"tar of the {suite} root filesystem failed")


def build_vm(suite):
    docker("build", "--quiet", "--build-arg", f"BASE_IMAGE={base_image(suite)}", "-t", vm_image(suite),
           str(VM_RECIPE), stdout=subprocess.DEVNULL)


def build_services():
    docker("build", "--quiet", "--build-arg", f"BASE_IMAGE={app_base_image()}", "-t", services_image(),
           str(SERVICES_RECIPE), stdout=subprocess.DEVNULL)


def build_app_base():
    docker("build", "--quiet", "--build-arg", f"BASE_IMAGE={base_image(PRELOADED_SUITE)}", "-t", app_base_image(),
           str(APP_BASE_RECIPE), stdout=subprocess.DEVNULL)


def save_preloaded():
    """docker save the image that instances preload, unless the saved copy is current."""
    IMAGE_DIR.mkdir(parents=True, exist_ok=True)
    image_id = inspect(app_base_image(), "{{.Id}}")
    tarball = IMAGE_DIR / preloaded_tarball()
    stamp = tarball.with_suffix(".id")
    for old in IMAGE_DIR.glob("*.tar"):  # an image saved by an earlier version, no longer mounted
        if old != tarball:
            old.unlink()
            old.with_suffix(".id").unlink(missing_ok=True)
    if tarball.exists() and stamp.exists() and stamp.read_text() == image_id:
        return
    docker("save", "-o", str(tarball), app_base_image())
    stamp.write_text(image_id)


def build(suites=SUITES):
    for suite in dict.fromkeys([PRELOADED_SUITE, *suites]):
        build_base(suite)
        build_vm(suite)
        print(f"{vm_image(suite)} ready", flush=True)
    build_app_base()
    print(f"{app_base_image()} ready", flush=True)
    build_services()
    print(f"{services_image()} ready", flush=True)
    save_preloaded()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["build"]:
        sys.exit(f"usage: {sys.argv[0]} build [SUITE ...]")
    sys.exit(build(sys.argv[2:] or SUITES))
