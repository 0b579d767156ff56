#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<namespace>/<name> and its
# dependencies beside it: build that tree from the tracked files in a scratch directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.ansible/sanity"
dest="$work/ansible_collections/shipyard/ec2_compose"
bundled=$("$root/.venv/bin/python" -c 'import ansible_collections.amazon.aws as a, os; print(os.path.dirname(os.path.dirname(a.__path__[0])))')

rm -rf "$work" && mkdir -p "$dest"
cd "$root"
git ls-files --cached --others --exclude-standard | grep -v '^\.collections/' | tar -cf - -T - | tar -xf - -C "$dest"
for dependency in amazon ansible community; do
  ln -s "$bundled/$dependency" "$work/ansible_collections/$dependency"
done

# ansible-test installs pip in its venvs with a script it downloads; offline, use ours + a pip wheel.
cache="$HOME/.ansible/test/cache"
pip_version=$("$root/.venv/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages as p; import types; print(p(types.SimpleNamespace(version="3.11"))["pip"])')
mkdir -p "$cache"
if [ ! -f "$cache/get_pip_${pip_version//./_}.py" ] || grep -q "Stand-in for the pip bootstrap" "$cache/get_pip_${pip_version//./_}.py"; then
  cp "$root/tests/sanity/get_pip_offline.py" "$cache/get_pip_${pip_version//./_}.py"
  "$root/.venv/bin/python" -m pip download --quiet --no-deps --dest "$cache" "pip==$pip_version"
fi

cd "$dest"
git init --quiet && git add --all
"$root/.venv/bin/ansible-test" sanity --local --python 3.11 --color no "$@"
