#!/usr/bin/env bash
# test.sh: gorseq's whole test suite, the README's test command (.ci/run
# runs exactly this). It builds the patched toolchain first (./build.sh is
# quick when nothing changed), then tests percpu with the stock toolchain
# (fallback), the patched one (rseq), the overlay, GODEBUG=rseq=0 and Go
# 1.27, and runs Go's own runtime tests with the patch.
set -euo pipefail
cd "$(dirname "$0")"

GO=${GO:-go}
step() { printf '\n== %s\n' "$*"; }
# work holds what the steps build for themselves.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "build the patched toolchain"
./build.sh
PGO=$PWD/_toolchain/goroot/bin/go
OVERLAY=$PWD/_toolchain/overlay.json

step "gofmt and go vet"
# Every Go file of the repository, contrib/ included. The runtime code is
# in patches/ (test/series.sh vets it in its Go tree).
unformatted=$(git ls-files '*.go' | xargs gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
"$GO" vet ./...
GOARCH=arm64 "$GO" vet ./...
# An architecture without critical sections builds the fallback.
GOARCH=riscv64 "$GO" vet ./percpu/... ./cmd/...

step "percpuvet over the repository"
# cmd/percpuvet's own checks (README, "Checking code that uses percpu"),
# as go vet -vettool, for both architectures and the inject build.
vettool=$work/percpuvet
"$GO" build -o "$vettool" ./cmd/percpuvet
"$GO" vet -vettool="$vettool" ./...
GOARCH=arm64 "$GO" vet -vettool="$vettool" ./...
"$GO" vet -tags gorseq_inject -vettool="$vettool" ./percpu ./test/...

step "stock toolchain: percpu falls back"
GORSEQ_EXPECT=fallback "$GO" test -count=1 ./percpu/...

step "stock toolchain with cgo: percpu on glibc's registration"
# -tags gorseq_cgo links runtime/cgo into percpu's tests: every thread is
# a glibc thread, and percpu finds glibc's areas without the patch.
GORSEQ_EXPECT=glibc CGO_ENABLED=1 "$GO" test -count=1 -tags gorseq_cgo ./percpu/...
GLIBC_TUNABLES=glibc.pthread.rseq=0 GORSEQ_EXPECT=fallback CGO_ENABLED=1 "$GO" test -short -count=1 -tags gorseq_cgo ./percpu/...

step "stock toolchain, race detector"
# A race build links runtime/cgo, so percpu runs on glibc's registration;
# GODEBUG=rseq=0 sends it through the Go fallback paths, which the race
# detector sees (it does not see assembly).
GODEBUG=rseq=0 GORSEQ_EXPECT=fallback "$GO" test -race -count=1 ./percpu/...
GORSEQ_EXPECT=glibc "$GO" test -race -short -count=1 ./percpu/...

step "patched toolchain: rseq (all packages but the stress suite and the VMs, later)"
# One package at a time: tests that count aborts need the CPUs to themselves.
# test/buildmodes runs here too: it builds its stock rows with the stock go on PATH.
GORSEQ_EXPECT=rseq "$PGO" test -p 1 -count=1 $("$PGO" list ./... | grep -v -e '/test/stress$' -e '/test/vm$')

step "patched toolchain: critical sections with test-only delay injection"
"$GO" vet -tags gorseq_inject ./percpu
GORSEQ_EXPECT=rseq "$PGO" test -tags gorseq_inject -count=1 ./percpu

step "stress suite (bounded)"
# test/stress builds its command with -tags gorseq_inject and runs the
# scenario x injection point x kind matrix as child processes (a few
# minutes); GORSEQ_STRESS_LONG=1 is the soak (README).
"$GO" vet -tags gorseq_inject ./test/...
GORSEQ_EXPECT=rseq "$PGO" test -count=1 -v ./test/stress

step "real kernels in VMs (qemu: amd64 and arm64 x Debian 6.1 and 6.12)"
# test/vm builds percpu's, test/registration's and test/stress's test
# binaries (and the suites' children) with the patched go for each guest
# GOARCH, boots each kernel under qemu with them in an initramfs, one
# guest at a time, and fails on any guest failure (logs in _vm/logs/). It
# installs qemu, the arm64 cross compiler and glibc with apt-get and
# downloads the kernels into _vm/ when they are missing. Run by the
# patched go like the other suites that build children: its GOROOT/bin
# comes first on the harness's PATH. 15 to 20 minutes (TCG, 4 guests).
"$PGO" test -count=1 -timeout 40m -v ./test/vm

step "patched toolchain, GODEBUG=rseq=0: fallback"
GODEBUG=rseq=0 GORSEQ_EXPECT=fallback "$PGO" test -count=1 ./percpu/...

step "stock toolchain with go build -overlay: rseq"
GORSEQ_EXPECT=rseq "$GO" test -overlay="$OVERLAY" -count=1 ./percpu/...

step "contrib/percpuprom: its own module, on the real Prometheus client"
# Stock go with cgo (percpu on glibc's registration) and without (the
# fallback), the race detector, and the patched go with and without cgo.
(
	cd contrib/percpuprom
	"$GO" vet ./...
	GOARCH=arm64 "$GO" vet ./...
	GORSEQ_EXPECT=glibc CGO_ENABLED=1 "$GO" test -count=1 ./...
	GORSEQ_EXPECT=fallback CGO_ENABLED=0 "$GO" test -count=1 ./...
	GORSEQ_EXPECT=glibc CGO_ENABLED=1 "$GO" test -race -short -count=1 ./...
	GODEBUG=rseq=0 GORSEQ_EXPECT=fallback "$GO" test -race -short -count=1 ./...
	GORSEQ_EXPECT=rseq "$PGO" test -count=1 ./...
	GORSEQ_EXPECT=own CGO_ENABLED=0 "$PGO" test -count=1 ./...
)

step "Go 1.27: the patch applies, builds and runs"
GO127=$(GOTOOLCHAIN=go1.27.3 "$GO" env GOROOT)/bin/go
GO="$GO127" GORSEQ_TOOLCHAIN_DIR=_toolchain127 ./build.sh
PGO127=$PWD/_toolchain127/goroot/bin/go
# test/buildmodes stays with go1.26: its stock rows use the stock go on
# PATH anyway, and its race and c-shared builds of a second standard
# library would cost minutes.
GORSEQ_EXPECT=rseq GORSEQ_GO="$PGO127" "$PGO127" test -count=1 ./percpu/... $("$PGO127" list ./test/... | grep -v -e '/test/stress$' -e '/test/vm$' -e '/test/buildmodes$')

step "the upstream series: git am onto go1.27.3, every commit built and tested"
# test/series.sh: patches/series applied with git am to a git repository
# of the go1.27.3 GOROOT, each commit's packages built, vetted and tested,
# Go's own runtime, sync and os/signal tests at the last one, and the
# result compared with what build.sh made of the same files (above).
GO="$GO" ./test/series.sh "$work/series"

step "Go's own tests with gorseq's whole patch (go1.27.3: runtime, compiler, linker)"
# The series' runtime was tested above; this is the toolchain users get
# from build.sh, with patches/gorseq on top: the compiler that emits
# Counter.Add inline (its intrinsic table test, the SSA package, the
# assemblers that fill in the descriptors) and the runtime built by it.
# From a copy outside this module, as below.
std127=$work/std127
mkdir "$std127"
cp -al _toolchain127/goroot "$std127/goroot" 2>/dev/null || cp -a _toolchain127/goroot "$std127/goroot"
(cd "$std127" && "$std127/goroot/bin/go" test -short runtime sync cmd/compile/internal/ssa \
	cmd/compile/internal/ssagen cmd/internal/obj/x86 cmd/internal/obj/arm64 internal/buildcfg)

step "Go's own tests with the patched runtime (go1.26)"
# From a copy of the patched GOROOT outside this module: some runtime
# tests run the go command in GOROOT, which would otherwise find this
# module's go.mod above _toolchain/goroot (TestAtomicAlignment). Hard
# links where the file system allows, so the copy is quick.
stdroot=$work/std
mkdir "$stdroot"
cp -al _toolchain/goroot "$stdroot/goroot" 2>/dev/null || cp -a _toolchain/goroot "$stdroot/goroot"
# The runtime's own package runs its rseq tests only here: all of its
# -short tests ran on go1.27.3 with the series (test/series.sh), and this
# step is about what differs in go1.26 (the series' tests, the m layout
# at start-up, signals, exec).
(cd "$stdroot" && "$stdroot/goroot/bin/go" test -short -run 'Rseq' runtime &&
	"$stdroot/goroot/bin/go" test -short os/signal sync syscall os/exec)

printf '\nall tests passed\n'
