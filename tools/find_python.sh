#!/bin/sh
# Print the Python that creates the course's environment: 3.11 or 3.12, the versions its pins have wheels for.
# usage: sh tools/find_python.sh [PYTHON]   (PYTHON: the one `make PYTHON=...` names; empty: search PATH)
# Without PYTHON it tries python3.11, python3.12, then python3. When none fits it prints one sentence saying
# what it found and how to install Python 3.11 or 3.12 on this system, and exits 1.
# A shell script, not Python: it has to run before a suitable Python exists.

# version COMMAND: its major.minor, or nothing when it is missing or does not run (a pyenv shim, say)
version() {
	command -v "$1" >/dev/null 2>&1 || return 1
	"$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

supported() {
	case $1 in 3.11 | 3.12) return 0 ;; *) return 1 ;; esac
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
	for candidate in python3.11 python3.12 python3; do
		found=$(version $candidate)
		if supported "$found"; then echo $candidate && exit 0; fi
	done
	# found: python3's version, the loop's last
	if [ -n "$found" ]; then what="only Python $found (python3)"; else what="no python3.11, python3.12 or python3"; fi
fi

case $(uname -s) in
Darwin) how='install one with `brew install python@3.12`' ;;
Linux)
	if command -v apt-get >/dev/null 2>&1; then
		how='install one with `sudo apt-get install python3.11-venv` (Debian 12), `sudo apt-get install python3.12-venv` (Ubuntu 24.04) or, on other releases, `uv python install 3.12`'
	elif command -v dnf >/dev/null 2>&1; then
		how='install one with `sudo dnf install python3.12`'
	else
		how='install one with `uv python install 3.12`'
	fi
	;;
MINGW* | MSYS* | CYGWIN*) how='on Windows run make inside WSL2 (`wsl --install`), or follow the README'"'"'s native Windows commands with `py -3.12`' ;;
*) how='install one with `uv python install 3.12`' ;;
esac

echo "make needs Python 3.11 or 3.12 and found $what: $how, then run make again (or name it: make PYTHON=/path/to/python3.12)." >&2
exit 1
