#!/bin/sh
# Print the Python that creates the course's environment: 3.13 (Colab's) or 3.12, the versions its pins have wheels for.
# usage: sh tools/find_python.sh [PYTHON]   (PYTHON: the one `make PYTHON=...` names; empty: search)
# Without PYTHON it tries python3.13, python3.12 and python3 on PATH, then pyenv's own 3.13 and 3.12 (pyenv keeps
# them out of PATH unless they are selected). When none fits it prints one sentence saying what it found and how to
# install Python 3.13 on this system, and exits 1. `make` also asks it whether an existing environment's Python fits.
# A shell script, not Python: it has to run before a suitable Python exists.

# version COMMAND: its major.minor, or nothing when it is missing or does not run (a pyenv shim, say)
version() {
	command -v "$1" >/dev/null 2>&1 || return 1
	"$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

supported() {
	case $1 in 3.13 | 3.12) return 0 ;; *) return 1 ;; esac
}

# pyenv's Pythons 3.13 and 3.12, newest first (free-threaded builds, named 3.13.0t, and pre-releases left out)
pyenv_pythons() {
	root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
	for minor in 3.13 3.12; do
		ls "$root/versions" 2>/dev/null | grep "^$minor\.[0-9]*$" | sort -t. -k3,3nr |
			while read -r version; do echo "$root/versions/$version/bin/python$minor"; done
	done
}

if [ -n "$1" ]; then
	found=$(version "$1")
	if supported "$found"; then echo "$1" && exit 0; fi
	if [ -n "$found" ]; then
		what="PYTHON=$1, which is Python $found"
	elif command -v "$1" >/dev/null 2>&1; then
		what="PYTHON=$1, which does not run"
	else
		what="PYTHON=$1, which is not there"
	fi
else
	python3_version=$(version python3)
	for candidate in python3.13 python3.12 python3 $(pyenv_pythons); do
		found=$(version "$candidate")
		if supported "$found"; then echo "$candidate" && exit 0; fi
	done
	if [ -n "$python3_version" ]; then what="only Python $python3_version (python3)"; else what="no python3.13, python3.12 or python3"; fi
fi

case $(uname -s) in
Darwin) how='install one with `brew install python@3.13`' ;;
Linux)
	if command -v apt-get >/dev/null 2>&1; then
		how='install one with `sudo apt-get install python3.13-venv` (Debian 13, Ubuntu 25.04 or newer), `sudo apt-get install python3.12-venv` (Ubuntu 24.04) or, where apt has neither (Debian 12), `pyenv install 3.13` or `uv python install 3.13` and `make PYTHON=$(uv python find 3.13)`'
	elif command -v dnf >/dev/null 2>&1; then
		how='install one with `sudo dnf install python3.13`'
	else
		how='install one with `uv python install 3.13` and `make PYTHON=$(uv python find 3.13)`'
	fi
	;;
MINGW* | MSYS* | CYGWIN*) how='on Windows run make inside WSL2 (`wsl --install`), or follow the README'"'"'s native Windows commands with `py -3.13`' ;;
*) how='install one with `uv python install 3.13` and `make PYTHON=$(uv python find 3.13)`' ;;
esac

echo "make needs Python 3.13 or 3.12 and found $what: $how, then run make again (or name it: make PYTHON=/path/to/python3.13)." >&2
exit 1
