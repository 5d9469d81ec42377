#!/bin/sh
# Make one of the course's system tools available: dot (Graphviz), chromium or bwrap (bubblewrap).
# usage: sh tools/system_tool.sh dot|chromium|bwrap [--skipping "what goes undone without it"]
# A missing tool is installed with apt-get on Debian/Ubuntu when run as root, and with Homebrew on macOS;
# otherwise this prints one line naming the command that installs it on this system, and exits 1.
# With --skipping, the line also says what goes undone (the caller carries on without the tool).

tool=$1
case $tool in
dot)
	name="Graphviz (dot, which draws the ONNX graph pictures)" apt=graphviz brew=graphviz
	other=' or `conda install -c conda-forge graphviz`'
	windows='; natively, `winget install Graphviz.Graphviz` or `choco install graphviz`'
	;;
chromium) name="Chromium (which checks the web app's page)" apt=chromium brew="--cask chromium" other= windows= ;;
bwrap) name="bubblewrap (bwrap, the grader's sandbox)" apt=bubblewrap brew= other= windows= ;;
*) tool= ;;
esac
if [ -z "$tool" ] || { [ $# -ne 1 ] && { [ $# -ne 3 ] || [ "$2" != --skipping ]; }; }; then
	echo "usage: sh tools/system_tool.sh dot|chromium|bwrap [--skipping WHAT]" >&2
	exit 2
fi
skipping=${3:+, so $3}

command -v "$tool" >/dev/null 2>&1 && exit 0

# missing WHY HOW: the one line (the tool is missing WHY, so SKIPPING: HOW, then run make again), exit 1
missing() {
	echo "$name is missing$1$skipping: $2$other, then run make again."
	exit 1
}

# linux_only SYSTEM: bubblewrap, off Linux
linux_only() {
	echo "$name exists only on Linux: grading cannot sandbox submissions on $1$skipping; run make test and make grade on Linux${2:-}."
	exit 1
}

system=$(uname -s)
case $system in
Linux)
	if ! command -v apt-get >/dev/null 2>&1; then
		command -v dnf >/dev/null 2>&1 && missing "" "install it with \`sudo dnf install $apt\`"
		missing "" "install your distribution's $apt package"
	fi
	how="install it with \`sudo apt-get install $apt\`"
	if [ "$tool" = chromium ] && grep -qsE '^ID(_LIKE)?=.*ubuntu' /etc/os-release; then
		how="install it with \`sudo snap install chromium\` (Ubuntu's apt chromium is a snap)"
	fi
	[ "$(id -u)" = 0 ] || missing "" "$how"
	log=$(mktemp)
	{ apt-get update -qq && apt-get install -y -qq "$apt"; } >/dev/null 2>"$log"
	failed=$(grep '^E:' "$log" | tail -n 1)
	rm -f "$log"
	command -v "$tool" >/dev/null 2>&1 && exit 0
	missing " and \`apt-get install $apt\` did not install it${failed:+ ($failed)}" "$how"
	;;
Darwin)
	[ -n "$brew" ] || linux_only macOS " (a Linux virtual machine or container will do)"
	command -v brew >/dev/null 2>&1 || missing "" "install Homebrew (https://brew.sh), then \`brew install $brew\`"
	# shellcheck disable=SC2086 # for Chromium, brew is two words: --cask chromium
	brew install --quiet $brew >/dev/null && command -v "$tool" >/dev/null 2>&1 && exit 0
	missing " and \`brew install $brew\` did not install it" "install it with \`brew install $brew\`"
	;;
MINGW* | MSYS* | CYGWIN*)
	[ -n "$brew" ] || linux_only Windows " (WSL2: \`wsl --install\`)"
	missing "" "on Windows, run make inside WSL2 (\`wsl --install\`), where \`sudo apt-get install $apt\` installs it$windows"
	;;
*)
	[ -n "$brew" ] || linux_only "$system"
	missing "" "install your system's $apt package"
	;;
esac
