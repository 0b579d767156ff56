"""Stand-in for the pip bootstrap script that ansible-test downloads from the internet.

ansible-test creates an empty virtual environment per sanity test and runs this script in it
to install pip. Where that download is not reachable, `make sanity` copies this file into
ansible-test's cache, with the pip wheel that ansible-test asks for beside it (fetched from the
package index by the project's own venv): this installs ensurepip's bundled pip, then that wheel.
"""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
here = os.path.dirname(os.path.abspath(__file__))
# get-pip.py options that `pip install` does not know.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", here, *args]
sys.exit(subprocess.call(command))
