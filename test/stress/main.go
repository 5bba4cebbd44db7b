// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorseq/gorseq/percpu"
	"golang.org/x/sys/unix"
)

// Exit codes of the command.
const (
	exitOK          = 0
	exitFail        = 1 // an invariant does not hold, or an operation misbehaved
	exitUsage       = 2 // bad flags, or a flag this binary cannot honour
	exitUnsupported = 3 // the process or kernel lacks what the scenario needs
	exitNoAborts    = 4 // -min-aborts not reached in -max-time
	exitWatchdog    = 5 // the run did not finish in time (a deadlock?)
)

// config is the command line.
type config struct {
	scenario   string
	threads    int
	reps       int64
	duration   time.Duration
	minAborts  uint64
	maxTime    time.Duration
	loops      [5]int // delay loops at injection points 1..4 (index 0 unused)
	modulo     int
	yield      bool
	signal     bool
	sigName    string
	sleep      int // ms
	disableMod int
	verbose    bool
	gomaxprocs int
	items      int
	seed       uint64
	allowNo    bool // run even without rseq (everything takes the fallbacks)

	fakeNoMembarrier bool // pretend the kernel lacks the membarrier RSEQ command

	// Go stressors.
	preempt    bool
	profile    bool
	gc         bool
	procs      bool // GOMAXPROCS changes
	threadExit bool
	affinity   bool
	cgoThreads int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// parseFlags parses args into a config; it returns the exit code to use
// when parsing failed or only help was asked for.
func parseFlags(args []string, stderr io.Writer) (*config, int) {
	c := &config{}
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: stress [flags]\n\nScenarios (-T): %s.\n\n", strings.Join(scenarioNames(), ", "))
		fs.PrintDefaults()
	}
	fs.StringVar(&c.scenario, "T", "spinlock", "scenario: "+strings.Join(scenarioNames(), ", "))
	fs.IntVar(&c.threads, "t", 6*runtime.NumCPU(), "worker threads (goroutines locked to OS threads)")
	fs.Int64Var(&c.reps, "r", 5000, "repetitions per thread (unless -d)")
	fs.DurationVar(&c.duration, "d", 0, "run for this long instead of -r repetitions")
	fs.Uint64Var(&c.minAborts, "min-aborts", 0, "keep running past -d until AbortCount grew by this much and every stressor acted (at most -max-time); fail if aborts fall short")
	fs.DurationVar(&c.maxTime, "max-time", 30*time.Second, "give up waiting for -min-aborts after this long")
	for p := 1; p <= 4; p++ {
		fs.IntVar(&c.loops[p], fmt.Sprint(p), 0, fmt.Sprintf("delay loops at injection point %d of every critical section (needs -tags gorseq_inject)", p))
	}
	fs.IntVar(&c.modulo, "m", 0, "yield/signal/sleep every N-th time at the points outside the critical sections (0: never)")
	fs.BoolVar(&c.yield, "y", false, "yield (sched_yield and runtime.Gosched) every -m-th time")
	fs.BoolVar(&c.signal, "k", false, "signal the thread itself every -m-th time (see -sig)")
	fs.StringVar(&c.sigName, "sig", "usr1", "signal for -k: usr1 (a handler installed with signal.Notify) or urg (the runtime's preemption signal)")
	fs.IntVar(&c.sleep, "s", 0, "sleep this many milliseconds every -m-th time")
	fs.IntVar(&c.disableMod, "M", 0, "unregister rseq (percpu.ThreadRseq) on every M-th thread: those take the fallback paths (needs -tags gorseq_inject)")
	fs.BoolVar(&c.verbose, "v", false, "verbose: per-thread counts and aborts")
	fs.IntVar(&c.gomaxprocs, "P", -1, "GOMAXPROCS (-1: threads+1, so that the kernel schedules every worker; 0: Go's default)")
	fs.IntVar(&c.items, "items", 0, "items in the list, buffer and memcpy scenarios (0: a default per scenario)")
	fs.Uint64Var(&c.seed, "seed", 0, "random seed (0: from the clock)")
	fs.BoolVar(&c.allowNo, "allow-fallback", false, "run without rseq too (every operation takes its fallback)")
	fs.BoolVar(&c.fakeNoMembarrier, "membarrier-missing", false, "pretend the kernel lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (tests the error path)")
	fs.BoolVar(&c.preempt, "preempt", false, "Go stressor: goroutines in tight loops that the runtime must preempt with SIGURG")
	fs.BoolVar(&c.profile, "profile", false, "Go stressor: CPU profiling at 10 kHz (SIGPROF)")
	fs.BoolVar(&c.gc, "gc", false, "Go stressor: runtime.GC in a loop with SetGCPercent(1)")
	fs.BoolVar(&c.procs, "procs", false, "Go stressor: change GOMAXPROCS during the run")
	fs.BoolVar(&c.threadExit, "thread-exit", false, "Go stressor: workers' threads exit now and then (goroutine returns locked) and are replaced")
	fs.BoolVar(&c.affinity, "affinity", false, "Go stressor: pin and re-pin worker threads to random CPUs (sched_setaffinity) to force migrations")
	fs.IntVar(&c.cgoThreads, "cgo", 0, "Go stressor: this many C pthreads calling into Go (cgo callbacks) to run scenario steps")
	all := fs.Bool("go-stressors", false, "all Go stressors except -cgo")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "stress: unexpected arguments %q\n", fs.Args())
		return nil, exitUsage
	}
	if *all {
		c.preempt, c.profile, c.gc, c.procs, c.threadExit, c.affinity = true, true, true, true, true, true
	}
	return c, -1
}

// validate checks what flags alone can tell.
func (c *config) validate() error {
	if findScenario(c.scenario) == nil {
		return fmt.Errorf("unknown scenario %q (have %s)", c.scenario, strings.Join(scenarioNames(), ", "))
	}
	switch {
	case c.threads < 1:
		return fmt.Errorf("-t %d: need at least one thread", c.threads)
	case c.reps < 1 && c.duration <= 0:
		return fmt.Errorf("-r %d: need at least one repetition", c.reps)
	case c.modulo < 0, c.sleep < 0, c.disableMod < 0, c.cgoThreads < 0, c.items < 0:
		return fmt.Errorf("-m, -s, -M, -cgo and -items must not be negative")
	case c.modulo > 0 && !c.yield && !c.signal && c.sleep == 0:
		return fmt.Errorf("-m %d without -y, -k or -s does nothing", c.modulo)
	case c.modulo == 0 && (c.yield || c.signal || c.sleep > 0):
		return fmt.Errorf("-y, -k and -s need -m N (every N-th time)")
	case c.sigName != "usr1" && c.sigName != "urg":
		return fmt.Errorf("-sig %q: want usr1 or urg", c.sigName)
	}
	for p := 1; p <= 4; p++ {
		if c.loops[p] < 0 {
			return fmt.Errorf("-%d %d: loops must not be negative", p, c.loops[p])
		}
		if c.loops[p] > 0 && !injectBuilt {
			return fmt.Errorf("-%d %d: %w", p, c.loops[p], errNoInject)
		}
	}
	if c.cgoThreads > 0 && !cgoBuilt {
		return fmt.Errorf("-cgo %d: this binary was built without cgo (CGO_ENABLED=0)", c.cgoThreads)
	}
	if c.disableMod > 0 && !injectBuilt {
		return fmt.Errorf("-M %d: %w", c.disableMod, errNoInject)
	}
	return nil
}

func (c *config) injecting() bool {
	for _, l := range c.loops {
		if l > 0 {
			return true
		}
	}
	return false
}

// run is the command: it returns the exit code. Results go to stdout as
// key=value lines, ending with done=1; errors as error=... lines.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, code := parseFlags(args, stderr)
	if cfg == nil {
		return code
	}
	out := &reporter{w: stdout}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "stress: %v\n", err)
		out.kv("error", err.Error())
		return exitUsage
	}
	st := percpu.Status()
	out.kv("scenario", cfg.scenario)
	out.kv("mode", st.Mode.String())
	out.kv("inject_build", injectBuilt)
	if !st.Mode.Rseq() && !cfg.allowNo {
		err := fmt.Errorf("the process has no rseq (%s): build with the patched toolchain (_toolchain/goroot/bin/go), or pass -allow-fallback", st.Reason)
		fmt.Fprintf(stderr, "stress: %v\n", err)
		out.kv("error", err.Error())
		return exitUnsupported
	}
	if injectBuilt {
		for p := 1; p <= 4; p++ {
			if err := setInjectDelay(p, cfg.loops[p]); err != nil {
				fmt.Fprintf(stderr, "stress: %v\n", err)
				out.kv("error", err.Error())
				return exitUsage
			}
		}
		defer func() {
			for p := 1; p <= 4; p++ {
				setInjectDelay(p, 0)
			}
		}()
	}

	e, err := newEnv(cfg, out)
	if err != nil {
		fmt.Fprintf(stderr, "stress: %v\n", err)
		out.kv("error", err.Error())
		return exitFail
	}
	sc := findScenario(cfg.scenario).make()
	if err := sc.setup(e); err != nil {
		var u unsupportedError
		fmt.Fprintf(stderr, "stress: %v\n", err)
		out.kv("error", err.Error())
		if errors.As(err, &u) {
			return exitUnsupported
		}
		return exitFail
	}
	defer sc.close()
	e.sc = sc
	return e.run()
}

// unsupportedError: the kernel or process lacks what a scenario needs.
type unsupportedError struct{ msg string }

func (u unsupportedError) Error() string { return u.msg }

// reporter prints key=value lines, one writer for the whole process.
type reporter struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *reporter) kv(k string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "%s=%v\n", k, v)
}

// env is one run: the configuration, the scenario, the workers and the
// stressors.
type env struct {
	cfg  *config
	out  *reporter
	sc   scenario
	cpus []int // CPUs the process may run on

	stop    atomic.Bool // workers finish their step and leave
	failed  atomic.Bool
	errMu   sync.Mutex
	errs    []string
	nerrs   int
	workers []*worker

	threads   threadSet // live worker threads, for the affinity stressor
	sigRecv   atomic.Int64
	incarnate atomic.Int64 // worker threads started (> threads with -thread-exit)
}

func newEnv(cfg *config, out *reporter) (*env, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	e := &env{cfg: cfg, out: out}
	for i := 0; i < percpu.Shards() && i < 1024; i++ {
		if set.IsSet(i) {
			e.cpus = append(e.cpus, i)
		}
	}
	if len(e.cpus) == 0 {
		return nil, errors.New("no CPU in the affinity mask")
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	return e, nil
}

// fail records a broken invariant or a misbehaving operation and stops the
// run.
func (e *env) fail(format string, args ...any) {
	e.failed.Store(true)
	e.stop.Store(true)
	e.errMu.Lock()
	defer e.errMu.Unlock()
	e.nerrs++
	if len(e.errs) < 20 {
		e.errs = append(e.errs, fmt.Sprintf(format, args...))
	}
}

// run starts the stressors and workers, waits for them, checks the
// scenario's invariants and prints the results.
func (e *env) run() int {
	cfg := e.cfg
	out := e.out
	oldProcs := runtime.GOMAXPROCS(0)
	switch {
	case cfg.gomaxprocs < 0:
		runtime.GOMAXPROCS(cfg.threads + 1)
	case cfg.gomaxprocs > 0:
		runtime.GOMAXPROCS(cfg.gomaxprocs)
	}
	defer runtime.GOMAXPROCS(oldProcs)
	watchdog := time.AfterFunc(cfg.maxTime+max(cfg.duration, 0)+90*time.Second, func() {
		fmt.Fprintf(out.w, "error=watchdog: the run did not finish; goroutines on stderr\n")
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		os.Exit(exitWatchdog)
	})
	defer watchdog.Stop()

	stopSignals := e.startSignalHandler()
	defer stopSignals()

	abortsBefore, inlineBefore := percpu.AbortCount(), inlineAbortCount()
	startT := time.Now()
	stressors := e.startStressors()

	var wg sync.WaitGroup
	for i := 0; i < cfg.threads; i++ {
		w := newWorker(e, i)
		e.workers = append(e.workers, w)
	}
	bg := e.sc.background(e)
	for _, w := range e.workers {
		wg.Add(1)
		go w.thread(&wg)
	}
	cgoStop, err := e.startCgo()
	if err != nil {
		e.fail("cgo callbacks: %v", err)
	}

	// Wait: for the repetitions, or for the duration and the aborts.
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	timedOut := false
	if cfg.duration > 0 {
		tick := time.NewTicker(2 * time.Millisecond)
	wait:
		for {
			select {
			case <-allDone:
				break wait
			case <-tick.C:
			}
			el := time.Since(startT)
			if e.stop.Load() {
				break
			}
			if el >= cfg.duration && percpu.AbortCount()-abortsBefore >= cfg.minAborts && stressors.acted() {
				break
			}
			if el >= cfg.duration+cfg.maxTime {
				timedOut = true
				break
			}
		}
		tick.Stop()
		e.stop.Store(true)
		<-allDone
	} else {
		<-allDone
	}
	if cgoStop != nil {
		cgoStop()
	}
	if bg != nil {
		if err := bg(); err != nil {
			e.fail("%v", err)
		}
	}
	stressors.stop()
	elapsed := time.Since(startT)
	aborts := percpu.AbortCount() - abortsBefore
	inlineAborts := inlineAbortCount() - inlineBefore
	runtime.GOMAXPROCS(oldProcs)

	if err := e.sc.check(e); err != nil {
		e.fail("invariant: %v", err)
	}

	var steps, fallbacks, retries, disabled int64
	for _, w := range e.workers {
		steps += w.steps
		fallbacks += w.fallbacks
		retries += w.retries
		if w.disabled {
			disabled++
		}
	}
	cgoSteps, cgoFallbacks := e.cgoCounts()
	out.kv("threads", cfg.threads)
	out.kv("cpus", len(e.cpus))
	out.kv("gomaxprocs", gomaxprocsFor(cfg))
	out.kv("loops", fmt.Sprintf("%d,%d,%d,%d", cfg.loops[1], cfg.loops[2], cfg.loops[3], cfg.loops[4]))
	out.kv("steps", steps)
	out.kv("fallback_steps", fallbacks)
	out.kv("retries", retries)
	out.kv("rseq_disabled_threads", disabled)
	out.kv("thread_incarnations", e.incarnate.Load())
	if cfg.cgoThreads > 0 {
		out.kv("cgo_steps", cgoSteps)
		out.kv("cgo_fallback_steps", cgoFallbacks)
	}
	if cfg.signal {
		out.kv("signals_received", e.sigRecv.Load())
	}
	for _, kv := range stressors.report() {
		out.kv(kv[0], kv[1])
	}
	for _, kv := range e.sc.report() {
		out.kv(kv[0], kv[1])
	}
	out.kv("aborts", aborts)
	// Of them, in Counter.Add's sequences inlined by gorseq's compiler.
	out.kv("inline_sequences", percpu.Status().InlineSequences)
	out.kv("inline_aborts", inlineAborts)
	out.kv("elapsed_ms", elapsed.Milliseconds())
	if cfg.verbose {
		for _, w := range e.workers {
			out.kv(fmt.Sprintf("thread_%d", w.id), fmt.Sprintf("steps %d fallback %d retries %d rseq_disabled %v incarnations %d", w.steps, w.fallbacks, w.retries, w.disabled, w.incarnations))
		}
		out.kv("aborts_per_kstep", fmt.Sprintf("%.3f", float64(aborts)*1000/float64(max(steps+cgoSteps, 1))))
	}
	code := exitOK
	e.errMu.Lock()
	errs := append([]string(nil), e.errs...)
	nerrs := e.nerrs
	e.errMu.Unlock()
	sort.Strings(errs)
	for _, s := range errs {
		out.kv("error", s)
	}
	if nerrs > len(errs) {
		out.kv("error", fmt.Sprintf("... and %d more errors", nerrs-len(errs)))
	}
	switch {
	case nerrs > 0:
		out.kv("invariant", "FAIL")
		code = exitFail
	default:
		out.kv("invariant", "ok")
	}
	if code == exitOK && aborts < cfg.minAborts {
		out.kv("error", fmt.Sprintf("only %d aborts in %v (timed out: %v), -min-aborts %d", aborts, elapsed.Round(time.Millisecond), timedOut, cfg.minAborts))
		code = exitNoAborts
	}
	out.kv("done", 1)
	return code
}

func gomaxprocsFor(cfg *config) int {
	switch {
	case cfg.gomaxprocs < 0:
		return cfg.threads + 1
	case cfg.gomaxprocs > 0:
		return cfg.gomaxprocs
	}
	return runtime.NumCPU()
}

// setGCPercent is debug.SetGCPercent, here so that the GC stressor's
// setting is undone in one place.
func setGCPercent(p int) int { return debug.SetGCPercent(p) }
