"""Make `ansible_collections.shipyard.ec2_compose` importable from the checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
