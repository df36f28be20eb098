# Sourced by scripts/install and scripts/test: `make_venv DIR` makes a virtualenv with the system's python3, on a
# minimal Debian or Ubuntu too. There `python3 -m venv` fails ("ensurepip is not available") until the python3.X-venv
# package is installed, and a bare `pip install` is refused ("externally-managed-environment"), so a virtualenv is
# the one way in that needs nothing else.
#
# PYTHON: the interpreter to make it with (default python3; 3.10 or newer).

venv_say() { printf 'scripts/%s: %s\n' "${0##*/}" "$*" >&2; }

# make_venv DIR: a virtualenv with pip in DIR; nothing to do when there is one already. Installs python3.X-venv with
# apt-get (as root, or through sudo) when ensurepip is what is missing, or says which command to run.
make_venv() {
  local dir=$1 python=${PYTHON:-python3} output
  if [ -x "$dir/bin/python" ] && [ -e "$dir/bin/pip" ]; then
    return 0
  fi
  # `venv` writes into an existing directory: never into one that holds something else.
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/pyvenv.cfg" ]; then
    venv_say "$dir is not empty and not a virtualenv: remove it, or choose another directory"
    return 1
  fi
  if ! command -v "$python" >/dev/null; then
    venv_say "no $python found: install Python 3.10 or newer (apt-get install python3), or set PYTHON"
    return 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    venv_say "$python is Python $("$python" -c 'import platform; print(platform.python_version())'): 3.10 or newer is needed (set PYTHON)"
    return 1
  fi
  venv_say "creating a virtualenv in $dir"
  if output=$("$python" -m venv "$dir" 2>&1); then
    return 0
  fi
  if "$python" -c 'import ensurepip' 2>/dev/null || ! command -v apt-get >/dev/null; then
    printf '%s\n' "$output" >&2
    venv_say "$python -m venv $dir failed (above: what it said)"
    return 1
  fi
  install_venv_package "$python" || return 1
  # Debian's failed attempt left a virtualenv without pip behind; venv completes it in place.
  "$python" -m venv "$dir"
}

# install_venv_package PYTHON: install the Debian/Ubuntu package that gives PYTHON its ensurepip.
install_venv_package() {
  local python=$1 package as_root=()
  package="python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      as_root=(sudo)
    else
      local run="apt-get update && apt-get install -y $package"
      command -v sudo >/dev/null && run="sudo apt-get update && sudo apt-get install -y $package"
      venv_say "$python -m venv needs ensurepip, which Debian and Ubuntu ship in $package; run this as root, then run scripts/${0##*/} again:"
      printf '\n    %s\n\n' "$run" >&2
      return 1
    fi
  fi
  venv_say "$python -m venv needs ensurepip: installing $package with ${as_root[*]:+sudo }apt-get"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # python3.X-venv is what Debian's own message names; python3-venv pulls in the same for the default python3.
  apt-cache show "$package" >/dev/null 2>&1 || package=python3-venv
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}
