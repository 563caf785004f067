# Sourced by scripts/demo and scripts/test: makes sure .venv exists and holds the project with the
# extras asked for, reinstalling only when pyproject.toml changed since the last install.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin="$candidate"; break; fi
  done
fi
[ -n "$python_bin" ] || { echo "error: Python 3.11 or newer is needed (python3 not found)" >&2; exit 1; }
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: Python 3.11 or newer is needed ($python_bin is $("$python_bin" -V 2>&1))" >&2; exit 1; }

venv="$top/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating $venv ..." >&2
  "$python_bin" -m venv "$venv"
fi

ensure_installed() {  # ensure_installed EXTRAS (e.g. "test" or "")
  local extras="$1" spec="." stamp
  [ -n "$extras" ] && spec=".[$extras]"
  stamp="$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-base}"
  if [ ! -f "$stamp" ]; then
    echo "Installing media-pipeline${extras:+ with [$extras]} into .venv (log: .venv/install.log) ..." >&2
    if ! { "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
           && "$venv/bin/python" -m pip install --disable-pip-version-check -e "$spec"; } >"$venv/install.log" 2>&1; then
      tail -n 40 "$venv/install.log" >&2
      echo "error: installing into .venv failed; the whole log is in .venv/install.log" >&2
      exit 1
    fi
    touch "$stamp"
  fi
}
