package dev.gtramp.bench;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The cost of one call of {@code bpf_fentry_test1} (its real body, {@code return a + 1;}) through
 * each kind of entry site ftrace makes: the site's NOP, a direct call of a BPF trampoline, and the
 * shared {@code ftrace_caller}/{@code ftrace_regs_caller} with the list function. Each benchmark has
 * its own one-CPU kernel booted from {@code KernelImage.linux618()}, traced the one way it measures
 * and bound to the benchmark thread.
 *
 * <ul>
 *   <li>{@link #nopSite}: nothing traces the function; the entry instruction is the 5-byte NOP and
 *       {@code Cpu.run} runs the body. The same path as {@link CallPathBenchmark#nopEntrySite}
 *       with the image's real body.</li>
 *   <li>{@link #directSite}: one direct ops ({@code FtraceOps.staticDirect}, attached with
 *       {@code update_ftrace_direct_add} as BPF's single {@code direct_ops} is) traces the function,
 *       so the site is {@code call <trampoline>}; the trampoline only makes the origin call
 *       ({@code frame.callOrigin()}), like a BPF trampoline with no program, or an fentry program
 *       that costs nothing.</li>
 *   <li>{@link #listFuncSite}: the same direct ops plus a function tracer (a callback ops whose
 *       callback increments a field) on the same function. Two ops share the site, so it calls
 *       {@code ftrace_regs_caller}, which calls {@code ftrace_ops_list_func}: an RCU read-side
 *       section that tests both ops' filter hashes, runs the tracer's callback and
 *       {@code call_direct_funcs} (a lookup of the ip in {@code direct_functions} that sets
 *       {@code orig_ax}); the regs caller then enters the trampoline instead of returning into the
 *       body.</li>
 *   <li>{@link #tracerSite}: the tracer alone. A callback ops allocated at run time is
 *       {@code DYNAMIC}, so {@code ftrace_caller} calls it through the list function too
 *       ({@code ftrace_ops_get_list_func}); x86 would give it an ops trampoline
 *       ({@code FTRACE_OPS_FL_ALLOC_TRAMP}), which the model does not have.</li>
 * </ul>
 *
 * <p>Kernel counterpart: {@code tools/testing/selftests/bpf/benchs/bench_trigger.c}, whose
 * {@code trigger_driver} program calls the attach point {@code bpf_get_numa_node_id()} in a loop:
 * {@link #nopSite} is the baseline, like {@code trig-kernel-count} (the attach point called with
 * nothing attached), {@link #directSite} is {@code trig-fentry} with an empty program,
 * {@link #listFuncSite} is {@code trig-fentry} while the {@code function} tracer also traces the
 * attach point, and {@link #tracerSite} is the {@code function} tracer alone. Read the scores as
 * differences from {@link #nopSite} in the same run, and against
 * {@link CallPathBenchmark#directCallNotInlined} for the body alone (run both classes with one
 * command, as below).
 *
 * <p>Every fork measures one kind of site, so each virtual call on the path (the site's target,
 * {@code ftrace_call}, the ops' callbacks, the body) sees one receiver and the JIT inlines what its
 * size limits allow: the best case. With many traced functions these calls see many receivers, as
 * the kernel's list function makes indirect calls. With {@link RcuFlavor#GENERAL} the list
 * function's {@code rcu_read_lock} is the model's epoch read side, a store and a full fence; with
 * {@link RcuFlavor#QSBR} it is free inside a kernel call. Nothing on these paths allocates
 * ({@code -prof gc}: {@code gc.alloc.rate.norm} below 0.001 B/op, JMH's own).
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main 'FtraceCallSiteBenchmark|CallPathBenchmark'
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(1)
public class FtraceCallSiteBenchmark {
    /** The traced function: {@code int bpf_fentry_test1(int a) { return a + 1; }}. */
    static final String FUNCTION = "bpf_fentry_test1";

    /** A direct trampoline that only makes the origin call (a BPF trampoline without programs). */
    static final class OriginCallTrampoline implements CallTarget {
        @Override
        public long enter(Frame frame) {
            return frame.callOrigin();
        }

        @Override
        public String toString() {
            return "bench_trampoline";
        }
    }

    /**
     * A one-CPU kernel booted from the Linux 6.18 image, with {@code bpf_fentry_test1} traced as
     * the subclass says and the CPU bound to the benchmark thread. JMH runs a thread-scoped state's
     * trial setup and teardown on the thread that runs the benchmark, as in
     * {@link CallPathBenchmark}.
     */
    @State(Scope.Thread)
    public abstract static class TracedKernel {
        @Param({"QSBR", "GENERAL"})
        public RcuFlavor flavor;

        Kernel kernel;
        Ftrace ftrace;
        Cpu cpu;
        KernelFunction fn;
        /** Read from a field each time, so the JIT cannot fold the call into a constant. */
        long arg = 41;
        /** The tracer's callback counts here. */
        long hits;

        @Setup(Level.Trial)
        public void boot() {
            kernel = BenchKernels.bootLinux618(1, flavor);
            ftrace = Ftrace.of(kernel);
            fn = kernel.function(FUNCTION);
            CallTarget expected = trace();
            CallTarget actual = fn.site().read();
            if (actual != expected) {
                throw new IllegalStateException(fn.site() + ": expected "
                        + (expected == null ? "nop" : "call " + expected));
            }
            cpu = kernel.bindCpu(0);
            long before = hits;
            long r = cpu.call(fn, arg);
            if (r != arg + 1 || hits != before + expectedHitsPerCall()) {
                throw new IllegalStateException(FUNCTION + "(" + arg + ") returned " + r + " with "
                        + (hits - before) + " tracer hits through " + actual);
            }
        }

        /** Traces the function; returns what its site must then call ({@code null}: the NOP). */
        abstract CallTarget trace();

        /** How many times the tracer's callback runs per call. */
        int expectedHitsPerCall() {
            return 0;
        }

        /** Attaches {@code tramp} to the function with the single-ops API, as BPF does. */
        void attachDirect(CallTarget tramp) {
            FtraceOps ops = FtraceOps.staticDirect("bench_direct_ops", null);
            FtraceHash hash = ftrace.allocHash(1);
            hash.add(fn.ip(), tramp);
            ftrace.updateFtraceDirectAdd(ops, hash);
            ftrace.freeHash(hash);
        }

        /** Registers a function tracer on the function whose callback increments {@link #hits}. */
        void registerTracer() {
            FtraceOps tracer = FtraceOps.callback("bench_tracer", (ip, parentIp, op, regs) -> hits++, 0);
            ftrace.setFilterIp(tracer, fn.ip(), false, false);
            ftrace.registerFtraceFunction(tracer);
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            cpu.close();
            kernel.close();
        }
    }

    /** Nothing traces the function: its site is the NOP. */
    public static class NopSite extends TracedKernel {
        @Override
        CallTarget trace() {
            return null;
        }
    }

    /** One direct ops: the site calls the trampoline. */
    public static class DirectSite extends TracedKernel {
        @Override
        CallTarget trace() {
            CallTarget tramp = new OriginCallTrampoline();
            attachDirect(tramp);
            return tramp;
        }
    }

    /** The direct ops and a tracer: the site calls {@code ftrace_regs_caller} and the list function. */
    public static class ListFuncSite extends TracedKernel {
        @Override
        CallTarget trace() {
            attachDirect(new OriginCallTrampoline());
            registerTracer();
            return ftrace.ftraceRegsCaller();
        }

        @Override
        int expectedHitsPerCall() {
            return 1;
        }
    }

    /** A tracer alone: the site calls {@code ftrace_caller}. */
    public static class TracerSite extends TracedKernel {
        @Override
        CallTarget trace() {
            registerTracer();
            return ftrace.ftraceCaller();
        }

        @Override
        int expectedHitsPerCall() {
            return 1;
        }
    }

    @Benchmark
    public long nopSite(NopSite s) {
        return s.cpu.call(s.fn, s.arg);
    }

    @Benchmark
    public long directSite(DirectSite s) {
        return s.cpu.call(s.fn, s.arg);
    }

    @Benchmark
    public long listFuncSite(ListFuncSite s) {
        return s.cpu.call(s.fn, s.arg);
    }

    @Benchmark
    public long tracerSite(TracerSite s) {
        return s.cpu.call(s.fn, s.arg);
    }
}
