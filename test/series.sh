#!/usr/bin/env bash
# test/series.sh: the upstream CL series (patches/series) as a Go reviewer
# takes it. It copies the go1.27.3 GOROOT (the one GOTOOLCHAIN=go1.27.3
# fetches) into a fresh git repository, applies the series with git am
# (failing when any commit does not apply), and at every commit builds the
# standard library and vets and tests the packages the commit touches
# (rebuilding the go command, which embeds internal/godebugs, when the
# commit changes that); at the last commit it vets every package the
# series touches for arm64 too, and runs `go test -short runtime sync
# os/signal`.
# Then it applies patches/gorseq with git am as well and checks that the
# result is what build.sh makes of the same files with patch(1)
# (_toolchain127/goroot): one source, two ways of applying it.
#
# Usage: test/series.sh [WORKDIR]   (default: a temporary directory)
# Env:   GO (default go), GORSEQ_SERIES_FULL=1: at every commit, the whole
#        -short test of each package it touches (else the runtime's rseq
#        tests only, before the last commit).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GO=${GO:-go}

say() { printf 'series: %s\n' "$*"; }
die() {
	printf 'series: error: %s\n' "$*" >&2
	exit 1
}

work=${1:-}
if [[ -z $work ]]; then
	work=$(mktemp -d)
	trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fi
mkdir -p "$work"
tree=$work/go

command -v git >/dev/null || die "git is needed (apt-get install git)"
src=$(GOTOOLCHAIN=go1.27.3 "$GO" env GOROOT) || die "cannot fetch go1.27.3 (GOTOOLCHAIN=go1.27.3 $GO env GOROOT)"
[[ $(cat "$src/VERSION" | head -1) == go1.27.3 ]] || die "$src is not go1.27.3"

say "copying $src to a git repository"
rm -rf "$tree"
cp -a "$src" "$tree"
chmod -R u+w "$tree"
export GIT_AUTHOR_NAME=series GIT_AUTHOR_EMAIL=series@localhost
export GIT_COMMITTER_NAME=series GIT_COMMITTER_EMAIL=series@localhost
git -C "$tree" init -q
# The distribution's binaries and packages are not sources.
printf '/bin/\n/pkg/\n' >"$tree/.git/info/exclude"
git -C "$tree" add -A
git -C "$tree" commit -q -m go1.27.3
git -C "$tree" tag base

say "git am patches/series/*.patch"
git -C "$tree" am -q "$ROOT"/patches/series/*.patch ||
	die "a commit of the series does not apply to go1.27.3 (see above); git am --abort in $tree"
mapfile -t commits < <(git -C "$tree" rev-list --reverse base..HEAD)
say "${#commits[@]} commits"

export PATH=$tree/bin:$PATH GOTOOLCHAIN=local GOFLAGS=
unset GOROOT
gotree() { (cd "$tree/src" && go "$@"); }

# touched lists the packages (import paths) whose Go, assembly or C files
# changed between two revisions of the tree, testdata left out.
touched() {
	git -C "$tree" diff --name-only "$1" "$2" -- 'src/*.go' 'src/*.s' 'src/*.c' |
		grep -v '/testdata/' | sed -E 's|^src/||; s|/[^/]+$||' | LC_ALL=C sort -u
}

last=${commits[${#commits[@]}-1]}
for c in "${commits[@]}"; do
	git -C "$tree" checkout -q "$c"
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	say "commit $(git -C "$tree" rev-parse --short "$c"): $subject"
	mapfile -t pkgs < <(touched "$c^" "$c")
	gotree build std || die "$subject: the standard library does not build"
	gotree vet "${pkgs[@]}" || die "$subject: go vet ${pkgs[*]}"
	if printf '%s\n' "${pkgs[@]}" | grep -qx 'internal/godebugs'; then
		# cmd/go embeds the table of GODEBUG settings: the commit's
		# tests build programs that name the new one.
		gotree install cmd/go || die "$subject: cmd/go does not build"
	fi
	if [[ $c == "$last" ]]; then
		break
	fi
	for p in "${pkgs[@]}"; do
		if [[ $p == runtime && ${GORSEQ_SERIES_FULL:-} != 1 ]]; then
			gotree test -short -count=1 -run 'Rseq' runtime || die "$subject: go test -short -run Rseq runtime"
		else
			gotree test -short -count=1 "$p" || die "$subject: go test -short $p"
		fi
	done
done

say "the last commit: vet for arm64 too, rebuild cmd/go, then go test -short runtime sync os/signal and the packages it touches"
mapfile -t allpkgs < <(touched base HEAD)
GOARCH=arm64 gotree vet "${allpkgs[@]}" || die "go vet ${allpkgs[*]} (arm64)"
gotree install cmd/go || die "cmd/go does not build"
gotree test -short -count=1 runtime sync os/signal internal/godebugs "${pkgs[@]}" || die "go test -short at the last commit"

say "git am patches/gorseq/*.patch, and compare with build.sh's goroot"
git -C "$tree" am -q "$ROOT"/patches/gorseq/*.patch || die "patches/gorseq does not apply on top of the series"
built=$ROOT/_toolchain127/goroot
if [[ -d $built ]]; then
	mapfile -t files < <(git -C "$tree" diff --name-only --diff-filter=AM base HEAD)
	for f in "${files[@]}"; do
		cmp -s "$tree/$f" "$built/$f" || die "$f differs between git am and build.sh's $built (stale _toolchain127? run GO=go1.27.3 GORSEQ_TOOLCHAIN_DIR=_toolchain127 ./build.sh)"
	done
	say "build.sh's goroot has the same ${#files[@]} files"
else
	die "no $built to compare with: run GO=\$(GOTOOLCHAIN=go1.27.3 go env GOROOT)/bin/go GORSEQ_TOOLCHAIN_DIR=_toolchain127 ./build.sh first"
fi
say "ok"
