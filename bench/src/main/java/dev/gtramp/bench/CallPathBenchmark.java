package dev.gtramp.bench;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
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
 * The cost of calling a kernel function whose entry site is a NOP ({@link Cpu#call(KernelFunction,
 * long)}), against a direct Java call of the same body ({@code a + 1}, as in
 * {@code bpf_fentry_test1}): the reference point for trampoline benchmarks, which add their cost on
 * top of this path when the site is patched into a call.
 *
 * <p>{@link #nopEntrySite} is the whole call path: the owner check, the frame push and pop, the
 * entry instruction's fetch window (an opaque store, one full fence, acquire loads of the opcode and
 * the operand, a release store; at the outermost call the same fence also brings the CPU's readers
 * of the kernel's RCU and of tasks RCU online, a store per QSBR domain), the acquire load of the body
 * and the body through its {@code FunctionBody} interface, and, when the outermost call returns, the
 * readers going offline (a release store per QSBR domain; the general flavor's reader does nothing
 * on entry or exit). {@code FtraceCallSiteBenchmark} measures the same call through patched sites.
 * {@link #directCall} is the body as a Java method the JIT inlines; {@link #directCallNotInlined}
 * keeps a real call instruction, the closer match to the kernel's {@code call} of a function.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main CallPathBenchmark
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(1)
public class CallPathBenchmark {

    /** A one-CPU kernel bound to the benchmark thread, and a one-argument function with body {@code a + 1}. */
    @State(Scope.Thread)
    public static class BoundCpu {
        @Param({"QSBR", "GENERAL"})
        public RcuFlavor flavor;

        Kernel kernel;
        Cpu cpu;
        KernelFunction fn;
        /** Read from a field each time, so the JIT cannot fold the call into a constant. */
        long arg = 41;

        @Setup(Level.Trial)
        public void boot() {
            kernel = BenchKernels.boot(1, flavor);
            fn = kernel.functions().stream().filter(f -> f.argWords() == 1).findFirst().orElseThrow(
                    () -> new KernelException(Errno.ENOENT, "no one-argument function in " + kernel.image().name()));
            fn.setBody(frame -> body(frame.arg(0)));
            cpu = kernel.bindCpu(0);
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            cpu.close();
            kernel.close();
        }
    }

    /** The body: {@code return a + 1;}. */
    static long body(long a) {
        return a + 1;
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    static long bodyNotInlined(long a) {
        return a + 1;
    }

    @Benchmark
    public long nopEntrySite(BoundCpu s) {
        return s.cpu.call(s.fn, s.arg);
    }

    @Benchmark
    public long directCall(BoundCpu s) {
        return body(s.arg);
    }

    @Benchmark
    public long directCallNotInlined(BoundCpu s) {
        return bodyNotInlined(s.arg);
    }
}
