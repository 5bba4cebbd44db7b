#!/usr/bin/env bash
# build.sh: build the patched Go toolchain that gorseq needs.
#
# gorseq patches the Go runtime so that every M registers Linux rseq (see
# design-notes.md section 3). The patch lives in this repo as git
# format-patch files against GOROOT (a/src/..., applied with patch -p1):
#
#   patches/series/*.patch  the upstream CL series, in order: the runtime
#                           change itself, its tests, and what builds on it
#                           (the one copy of the runtime code; test.sh also
#                           applies it with git am to a go1.27.3 tree)
#   patches/gorseq/*.patch  gorseq's own patches on top, not for upstream
#                           (runtime.gorseqABI, the linkname export that
#                           github.com/gorseq/gorseq/percpu reads; the
#                           compiler intrinsic that inlines Counter.Add)
#   patches/goX.Y/NAME      replaces patches/series/NAME or
#                           patches/gorseq/NAME for Go goX.Y, where a hunk's
#                           context differs between versions
#
# From that and the Go toolchain found via $GO (default: `go` on PATH), this
# script makes, under $GORSEQ_TOOLCHAIN_DIR (default _toolchain, relative to
# the repo root):
#
#   goroot/        a full copy of GOROOT with the patches applied, the tools
#                  rebuilt (cmd/compile emits Counter.Add's critical section
#                  inline on linux/amd64 and arm64, cmd/link lists them,
#                  cmd/go embeds internal/godebugs' table, which the series
#                  extends) and GOTOOLCHAIN=local in go.env: put goroot/bin
#                  on PATH and `go build` uses the patched runtime.
#   overlay.json   for `go build -overlay=...` with the stock toolchain: maps
#                  each file the patches add or change, but the tools'
#                  sources, to a patched copy under overlay/ (so Counter.Add
#                  stays the assembly call; the stock go command still rejects
#                  //go:debug rseq=0: use GODEBUG there). Not made
#                  when GOROOT is in the module cache (a toolchain fetched by
#                  GOTOOLCHAIN), whose files an overlay cannot replace.
#   overlay/       the patched copies that overlay.json points at.
#   inputs         the list of inputs that went into the stamp (for humans).
#   stamp          hash of all inputs; when it matches, nothing is rebuilt.
#
# Everything is built in a temporary directory next to the output directory
# and published with renames, so an interrupted or failed run never leaves a
# half-patched toolchain behind. After building (or when up to date) it runs
# ./cmd/percpu info and demo as a smoke test.
#
# Usage: ./build.sh          build if needed, then smoke test
#        ./build.sh clean    remove the output directory and leftovers
#        ./build.sh -h       help

set -euo pipefail

# Go minor versions the patch supports (go1.26.x, go1.27.x). The one place
# to change when a version is added; see also patches/goX.Y/.
SUPPORTED_GO=(go1.26 go1.27)

prog=build.sh
usage() {
	echo "usage: $prog [clean | -h]   (env: GO=path/to/go, GORSEQ_TOOLCHAIN_DIR=dir, default _toolchain)"
}
# die prints a one-line error and exits non-zero.
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
warn() {
	echo "$prog: warning: $*" >&2
}
say() {
	echo "$prog: $*"
}

# ---------------------------------------------------------------------------
# Arguments.

mode=build
case $# in
0) ;;
1)
	case $1 in
	clean) mode=clean ;;
	-h | --help | help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	;;
*)
	usage >&2
	exit 2
	;;
esac

# ---------------------------------------------------------------------------
# Locations. Resolve $GO before changing directory, so that a relative GO
# (GO=./mygo) means relative to the caller's directory; then work from the
# repo root (the directory holding this script) whatever the caller's cwd.

GO=${GO:-go}
if [[ $mode == build ]]; then
	if [[ $GO == */* ]]; then
		[[ -x $GO && ! -d $GO ]] || die "GO=$GO is not an executable file"
		GO="$(cd "$(dirname "$GO")" && pwd)/$(basename "$GO")"
	else
		gopath=$(command -v "$GO" 2>/dev/null) || die "'$GO' not found on PATH (install Go or set GO=/path/to/go)"
		GO=$gopath
	fi
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
cd "$ROOT"

# OUT is the output directory, absolute. A relative GORSEQ_TOOLCHAIN_DIR is
# taken relative to the repo root. Refuse anything that would make `clean` or
# the publish step remove the repo or one of its ancestors.
out_arg=${GORSEQ_TOOLCHAIN_DIR:-_toolchain}
out_arg=${out_arg%/}
[[ -n $out_arg ]] || die "GORSEQ_TOOLCHAIN_DIR must not be empty or /"
[[ $out_arg == /* ]] || out_arg="$ROOT/$out_arg"
out_base=$(basename "$out_arg")
[[ $out_base != . && $out_base != .. ]] || die "GORSEQ_TOOLCHAIN_DIR=$out_arg: must name a directory, not . or .."
out_parent=$(cd "$(dirname "$out_arg")" 2>/dev/null && pwd -P) ||
	die "GORSEQ_TOOLCHAIN_DIR=$out_arg: parent directory does not exist"
OUT="$out_parent/$out_base"
case "$ROOT/" in
"$OUT"/*) die "GORSEQ_TOOLCHAIN_DIR=$OUT would contain the repo itself" ;;
esac
# Display name: relative to the repo root when inside it.
OUT_SHOW=${OUT#"$ROOT"/}

# The temporary build directory and the place the old output is moved aside
# to while publishing both match "$OUT.tmp.*", so `clean` and the EXIT trap
# find them, and both sit next to $OUT, on the same filesystem, so that the
# publishing renames are atomic.
TMP="$OUT.tmp.$$"
OLD="$OUT.tmp.$$.old"

# rmtree removes a directory tree even if parts of it are read-only (a copy
# of a module-cache GOROOT interrupted before it was made writable).
rmtree() {
	local d
	for d in "$@"; do
		if [[ -e $d || -L $d ]]; then
			chmod -R u+w "$d" 2>/dev/null || true
			rm -rf "$d"
		fi
	done
}

# need_write fails with a one-line error unless we may create entries in the
# output directory's parent (the repo root by default). Note that root passes
# this test on any writable filesystem; mkdir below catches the rest.
need_write() {
	[[ -w $out_parent ]] || die "no write access to $out_parent (needed to $1 $OUT_SHOW)"
}

# ---------------------------------------------------------------------------
# clean

if [[ $mode == clean ]]; then
	shopt -s nullglob
	leftovers=("$OUT".tmp.*)
	shopt -u nullglob
	if [[ ! -e $OUT && ${#leftovers[@]} -eq 0 ]]; then
		say "nothing to clean"
		exit 0
	fi
	need_write remove
	rmtree "$OUT" "${leftovers[@]}"
	say "removed $OUT_SHOW${leftovers[*]:+ and ${#leftovers[@]} leftover temporary dir(s)}"
	exit 0
fi

# ---------------------------------------------------------------------------
# Required tools, checked up front so a missing one gives a clear error
# instead of a half-done build.

# patch is the one a minimal machine may lack: install it where we can
# (root with apt-get, as on CI), else say what to do.
if ! command -v patch >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "$prog: installing patch with apt-get" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patch; } >/dev/null 2>&1 ||
		die "required tool 'patch' not found, and 'apt-get install patch' failed"
fi
for tool in patch sha256sum cp find sort mv chmod sed grep; do
	command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found on PATH (install it, e.g. apt-get install $tool)"
done

# ---------------------------------------------------------------------------
# The Go toolchain: GOROOT, version, module cache, C compiler.

goenv=$("$GO" env GOROOT GOVERSION GOMODCACHE CC 2>/dev/null) || die "'$GO env' failed; is GO=$GO a working go command?"
{
	IFS= read -r GOROOT_SRC || true
	IFS= read -r GOVERSION || true
	IFS= read -r GOMODCACHE || true
	IFS= read -r GOCC || true
} <<<"$goenv"
GOVERSION_RAW=$GOVERSION
GOVERSION=${GOVERSION%% *} # drop any " X:experiment" suffix
[[ -n $GOROOT_SRC && -d $GOROOT_SRC/src/runtime ]] || die "'$GO env GOROOT' gave '$GOROOT_SRC', which is not a Go source tree"

# The minor version (go1.26 from go1.26.8, go1.27rc1, ...) picks the
# per-version patch directory and must be in SUPPORTED_GO.
GOMINOR=
if [[ $GOVERSION =~ ^(go1\.[0-9]+)([.a-z]|$) ]]; then
	GOMINOR=${BASH_REMATCH[1]}
fi
supported=no
for v in "${SUPPORTED_GO[@]}"; do
	[[ $GOMINOR == "$v" ]] && supported=yes
done
if [[ $supported == no ]]; then
	die "unsupported Go version '${GOVERSION_RAW:-unknown}' ($GO); supported: ${SUPPORTED_GO[*]/%/.x}"
fi

# runtime/cgo is part of the compile check, so a C compiler is required.
if [[ -z $GOCC ]] || ! command -v "${GOCC%% *}" >/dev/null 2>&1; then
	die "C compiler '${GOCC:-none}' (go env CC) not found; it is needed to check runtime/cgo (install gcc or set CC)"
fi

# A toolchain in the module cache (fetched by GOTOOLCHAIN) cannot have its
# files replaced by an overlay: only the goroot copy works for it.
in_modcache=no
if [[ -n $GOMODCACHE ]]; then
	gr_real=$(cd "$GOROOT_SRC" && pwd -P)
	mc_real=$(cd "$GOMODCACHE" 2>/dev/null && pwd -P) || mc_real=$GOMODCACHE
	case "$GOROOT_SRC/" in "$GOMODCACHE"/*) in_modcache=yes ;; esac
	case "$gr_real/" in "$mc_real"/*) in_modcache=yes ;; esac
fi

# ---------------------------------------------------------------------------
# Inputs: the patches for this version, in order: patches/series/*.patch,
# then patches/gorseq/*.patch, each in name order (C locale), where
# patches/$GOMINOR/NAME replaces the file of the same name.

diffs=()
shopt -s nullglob
for dir in series gorseq; do
	for f in "patches/$dir"/*.patch; do
		[[ -f $f ]] || continue
		v="patches/$GOMINOR/$(basename "$f")"
		[[ -f $v ]] && f=$v
		diffs+=("$f")
	done
done
shopt -u nullglob
[[ ${#diffs[@]} -gt 0 ]] || die "no patches under patches/series: nothing to apply to the runtime"

# ---------------------------------------------------------------------------
# Stamp: a hash over everything the output depends on. The human-readable
# list is kept next to it as "inputs".

inputs_list() {
	echo "gorseq-toolchain-stamp 1"
	echo "goversion $GOVERSION"
	echo "goroot $GOROOT_SRC"
	echo "gomodcache $GOMODCACHE in_modcache=$in_modcache"
	echo "repo $ROOT"
	echo "out $OUT"
	local f
	# sha256sum prints "hash  path": contents and names both count.
	sha256sum -- build.sh
	for f in "${diffs[@]}"; do
		sha256sum -- "$f"
	done
}
inputs=$(inputs_list)
stamp=$(sha256sum <<<"$inputs")
stamp=${stamp%% *}

# Up to date when the stamp matches and the pieces are there (the stamp is
# written last, inside the temporary directory, so its presence means the
# build was complete).
up_to_date=no
if [[ -f $OUT/stamp && -x $OUT/goroot/bin/go ]] &&
	[[ $(<"$OUT/stamp") == "$stamp" ]] &&
	[[ $in_modcache == yes || -f $OUT/overlay.json ]]; then
	up_to_date=yes
fi

# ---------------------------------------------------------------------------
# Build.

# json_str prints $1 as a JSON string (paths: only \ and " need escaping).
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

build() {
	need_write create
	# Remove our temporary directories whatever happens from here on.
	trap 'rmtree "$TMP" "$OLD"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Leftovers of runs that were killed (SIGKILL skips the trap) take a
	# GOROOT's worth of space each: remove those whose process is gone.
	local left pid
	shopt -s nullglob
	for left in "$OUT".tmp.*; do
		pid=${left#"$OUT".tmp.}
		pid=${pid%.old}
		if [[ $pid =~ ^[0-9]+$ && ! -d /proc/$pid ]]; then
			rmtree "$left"
		fi
	done
	shopt -u nullglob
	mkdir "$TMP" 2>/dev/null || die "cannot create $TMP (no write access to $out_parent?)"

	# 1. Copy GOROOT. A module-cache GOROOT is read-only: make the copy
	#    writable. --reflink=auto makes this cheap on filesystems that can.
	say "copying $GOVERSION from $GOROOT_SRC"
	cp -RP --preserve=mode,timestamps --reflink=auto -- "$GOROOT_SRC" "$TMP/goroot" ||
		die "cannot copy $GOROOT_SRC to $TMP/goroot"
	chmod -R u+w "$TMP/goroot"
	local groot="$TMP/goroot"

	local f
	# 2. Apply the patches. --fuzz=0: offsets are fine, but a hunk whose
	#    context changed must not land somewhere approximate in the runtime;
	#    add a patches/$GOMINOR/ variant instead. Record which GOROOT files
	#    each patch added or touched ("patching file X") for overlay.json.
	local d out patched=()
	for d in "${diffs[@]}"; do
		if ! out=$(patch -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch \
			-r - -d "$groot" -i "$ROOT/$d" 2>&1); then
			# One line: the diff, plus patch's own summary of what failed.
			local why
			why=$(grep -E 'FAILED|can.t find|malformed|garbage|Reversed|No such|rror' <<<"$out" | tr '\n' ' ' || true)
			why=${why% }
			die "$d does not apply to $GOVERSION ($GOROOT_SRC): ${why:-$(tr '\n' ' ' <<<"$out")}"
		fi
		while IFS= read -r f; do
			f=${f#patching file }
			f=${f#\'}
			f=${f%\'}
			patched+=("$f")
		done < <(grep '^patching file ' <<<"$out" || true)
	done

	# 3. Never hand a build to another toolchain: GOTOOLCHAIN=local in go.env
	#    (replace the existing line, or append one).
	local goenvf="$groot/go.env"
	if [[ -f $goenvf ]] && grep -q '^GOTOOLCHAIN=' "$goenvf"; then
		local tmpenv
		tmpenv=$(sed 's/^GOTOOLCHAIN=.*/GOTOOLCHAIN=local/' "$goenvf")
		printf '%s\n' "$tmpenv" >"$goenvf"
	else
		printf '\n# Added by gorseq build.sh: never switch to an unpatched toolchain.\nGOTOOLCHAIN=local\n' >>"$goenvf"
	fi

	# 4. gorseq's toolchain patch changes the tools (cmd/compile inlines
	#    percpu's Counter.Add, cmd/link lists the inline sequences, and
	#    internal/buildcfg's new default experiment, rseqinline, is compiled
	#    into every tool): rebuild them before anything is built with them.
	#    The tools' -V=full line then says gorseq=<the stamp below>, so no
	#    build cached by the release's tools, or by another build.sh's, is
	#    reused (the go command takes a release's whole line as the tool's
	#    identity). cmd/go also embeds
	#    internal/godebugs' table, which the series extends (rseq): so
	#    //go:debug rseq=0 and a go.mod godebug line are accepted.
	local tools=()
	if printf '%s\n' "${patched[@]}" | grep -qE '^src/(cmd/|internal/buildcfg/|internal/goexperiment/)'; then
		tools=(cmd/compile cmd/link cmd/asm cmd/cgo cmd/go)
	elif printf '%s\n' "${patched[@]}" | grep -qx 'src/internal/godebugs/table.go'; then
		tools=(cmd/go)
	fi
	if ((${#tools[@]})); then
		say "rebuilding ${tools[*]}"
		if ! out=$(cd "$groot/src" && env -u GOROOT GOTOOLCHAIN=local GOFLAGS= "$groot/bin/go" install \
			-ldflags="-X=cmd/internal/objabi.gorseqTools=${stamp:0:16}" "${tools[@]}" 2>&1); then
			printf '%s\n' "$out" >&2
			die "${tools[*]} do not build with the patched $GOVERSION (see above)"
		fi
	fi

	# 5. Check that the patched runtime compiles: natively with cgo, and for
	#    the other rseq architecture (amd64 <-> arm64) without cgo, so the
	#    other assembly file is checked too. Run from GOROOT/src (module std)
	#    so that the repo's go.mod plays no part; GOROOT is unset so the copy
	#    uses itself.
	say "checking that the patched runtime compiles"
	local goarch cross
	goarch=$(cd "$groot/src" && env -u GOROOT GOTOOLCHAIN=local "$groot/bin/go" env GOARCH)
	case $goarch in amd64) cross=arm64 ;; arm64) cross=amd64 ;; *) cross= ;; esac
	if ! out=$(cd "$groot/src" && env -u GOROOT GOTOOLCHAIN=local CGO_ENABLED=1 \
		"$groot/bin/go" build runtime runtime/cgo 2>&1); then
		printf '%s\n' "$out" >&2
		die "the patched runtime does not compile with $GOVERSION (see above)"
	fi
	if [[ -n $cross ]] && ! out=$(cd "$groot/src" && env -u GOROOT GOTOOLCHAIN=local CGO_ENABLED=0 \
		GOOS=linux GOARCH=$cross "$groot/bin/go" build runtime 2>&1); then
		printf '%s\n' "$out" >&2
		die "the patched runtime does not compile for linux/$cross with $GOVERSION (see above)"
	fi

	#    Compiling is not enough (the runtime checks its own layout at start-up,
	#    e.g. the size class of runtime.m): run a trivial program, with and
	#    without cgo, before publishing. It has its own go.mod in $TMP/check.
	local chk="$TMP/check" cgo
	mkdir "$chk"
	printf 'module gorseqcheck\n\ngo %s\n' "${GOMINOR#go}" >"$chk/go.mod"
	printf 'package main\n\nfunc main() { println("patched runtime starts") }\n' >"$chk/main.go"
	printf '//go:build cgo\n\npackage main\n\nimport "C"\n' >"$chk/cgo.go"
	for cgo in 1 0; do
		if ! out=$(cd "$chk" && env -u GOROOT GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=$cgo \
			"$groot/bin/go" run . 2>&1); then
			printf '%s\n' "$out" >&2
			die "a trivial program built with the patched $GOVERSION runtime (CGO_ENABLED=$cgo) fails (see above)"
		fi
	done
	rm -rf "$chk"

	# 6. overlay.json for the stock toolchain, with the final (published)
	#    paths. Keys are GOROOT-relative paths; a file a patch added or
	#    touched maps to its patched copy (or "" if the patch deleted it).
	#    The tools' sources are left out: an overlay changes what is
	#    compiled, not the stock tools, so with it Counter.Add stays the
	#    assembly call.
	if [[ $in_modcache == yes ]]; then
		warn "$GOVERSION's GOROOT $GOROOT_SRC is in the module cache, where -overlay cannot replace files: only the goroot copy works for this Go; skipping overlay.json"
	else
		declare -A repl=()
		for f in "${patched[@]}"; do
			case $f in src/cmd/* | src/internal/buildcfg/* | src/internal/goexperiment/*) continue ;; esac
			if [[ -f $groot/$f ]]; then
				mkdir -p "$(dirname "$TMP/overlay/$f")"
				cp -- "$groot/$f" "$TMP/overlay/$f"
				repl[$f]="$OUT/overlay/$f"
			else
				repl[$f]=""
			fi
		done
		{
			echo '{'
			echo '  "Replace": {'
			local sep="" k
			while IFS= read -r -d '' k; do
				printf '%s    %s: %s' "$sep" "$(json_str "$GOROOT_SRC/$k")" "$(json_str "${repl[$k]}")"
				sep=$',\n'
			done < <(printf '%s\0' "${!repl[@]}" | LC_ALL=C sort -z)
			printf '\n  }\n}\n'
		} >"$TMP/overlay.json"
	fi

	# 7. Stamp last: its presence marks a complete build.
	printf '%s\n' "$inputs" >"$TMP/inputs"
	printf '%s\n' "$stamp" >"$TMP/stamp"

	# 8. Publish: move the old output aside, rename the new one in, remove
	#    the old. mv -T never moves into an existing directory (a concurrent
	#    run that published first makes ours fail rather than nest).
	if [[ -e $OUT ]]; then
		mv -T -- "$OUT" "$OLD"
	fi
	if ! mv -T -- "$TMP" "$OUT"; then
		[[ -e $OLD && ! -e $OUT ]] && mv -T -- "$OLD" "$OUT"
		die "cannot rename $TMP to $OUT"
	fi
	rmtree "$OLD"
	trap - EXIT INT TERM
	say "built $OUT_SHOW for $GOVERSION"
}

if [[ $up_to_date == yes ]]; then
	say "$OUT_SHOW is up to date for $GOVERSION ($GOROOT_SRC); not rebuilding"
else
	build
fi

# ---------------------------------------------------------------------------
# Smoke test: the percpu command through the patched goroot, and through the
# overlay with the stock toolchain when there is one.

[[ -d cmd/percpu ]] || die "smoke test: ./cmd/percpu does not exist"
pgo=(env -u GOROOT GOTOOLCHAIN=local "$OUT/goroot/bin/go")
say "smoke test: go run ./cmd/percpu info (patched goroot)"
"${pgo[@]}" run ./cmd/percpu info || die "smoke test failed: $OUT_SHOW/goroot/bin/go run ./cmd/percpu info"
say "smoke test: go run ./cmd/percpu demo (patched goroot)"
"${pgo[@]}" run ./cmd/percpu demo || die "smoke test failed: $OUT_SHOW/goroot/bin/go run ./cmd/percpu demo"
if [[ -f $OUT/overlay.json ]]; then
	say "smoke test: go run -overlay ./cmd/percpu info (stock $GOVERSION)"
	"$GO" run -overlay="$OUT/overlay.json" ./cmd/percpu info ||
		die "smoke test failed: $GO run -overlay=$OUT_SHOW/overlay.json ./cmd/percpu info"
fi

# ---------------------------------------------------------------------------
# How to use it.

echo
say "patched $GOVERSION toolchain: $OUT/goroot"
echo "  use it:        export PATH=$OUT/goroot/bin:\$PATH"
if [[ -f $OUT/overlay.json ]]; then
	echo "  or with stock: $GO build -overlay=$OUT/overlay.json ./...   (only this $GOVERSION at $GOROOT_SRC)"
else
	echo "  no overlay.json: $GOROOT_SRC is in the module cache; use the goroot copy"
fi
if [[ -n ${GOROOT:-} ]]; then
	echo "  note: GOROOT is set in your environment; unset it, or the patched go uses GOROOT=$GOROOT instead"
fi
