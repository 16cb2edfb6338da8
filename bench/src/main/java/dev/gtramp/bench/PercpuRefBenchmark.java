package dev.gtramp.bench;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.percpu.PerCpuLong;
import dev.gtramp.kernel.percpu.PercpuRef;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The cost of a reference count's get/put pair, one shared counter, each benchmark thread on its own
 * simulated CPU: the model's {@code percpu_ref_get}/{@code percpu_ref_put} ({@link PercpuRef}) in
 * percpu mode and in atomic mode, against {@link AtomicLong} and {@link LongAdder}.
 *
 * <ul>
 *   <li>{@link #percpuRef}: percpu mode; each of get and put is an RCU read-side section (free with
 *       the QSBR kernel used here: an online check) around an acquire load of the mode flags and a
 *       {@code this_cpu_add} of ±1 to the running CPU's slot.</li>
 *   <li>{@link #thisCpuAdd}: the {@code this_cpu_add} pair alone ({@link PerCpuLong#add}), to separate
 *       the counter update from the section and the mode check around it.</li>
 *   <li>{@link #percpuRefAtomic}: a ref switched to atomic mode with
 *       {@code percpu_ref_switch_to_atomic_sync()}: get and put become an atomic add on the shared
 *       {@code atomic_long_t count}, as after {@code percpu_ref_kill}.</li>
 *   <li>{@link #atomicLong}: {@code incrementAndGet}/{@code decrementAndGet} on one shared counter,
 *       what a plain {@code atomic_long_t} refcount costs.</li>
 *   <li>{@link #longAdder}: {@code increment}/{@code decrement}, a striped counter that spreads
 *       contention over cells by CAS.</li>
 * </ul>
 * With one thread the comparison is the uncontended cost of each counter; with two
 * ({@code -t 2}), percpu mode touches only each CPU's own cache line and should cost what it costs
 * alone, while the shared atomic counters (and the atomic-mode ref) bounce one line between the
 * cores. Every get/put must allocate nothing: check with {@code -prof gc}.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main PercpuRefBenchmark -t 1
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main PercpuRefBenchmark -t 2
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main PercpuRefBenchmark -t 2 -prof gc
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(1)
public class PercpuRefBenchmark {

    /** The counters every thread shares, in a QSBR kernel with one CPU per benchmark thread. */
    @State(Scope.Benchmark)
    public static class Counters {
        Kernel kernel;
        PercpuRef percpuRef;
        PercpuRef atomicRef;
        PerCpuLong perCpuLong;
        final AtomicLong atomicLong = new AtomicLong(1);
        final LongAdder longAdder = new LongAdder();

        @Setup(Level.Trial)
        public void boot(BenchmarkParams params) {
            kernel = BenchKernels.boot(params.getThreads(), RcuFlavor.QSBR);
            percpuRef = kernel.percpuRefs().init(ref -> { });
            atomicRef = kernel.percpuRefs().init(ref -> { });
            // No CPU is bound yet, so the grace period of the switch waits for no one.
            atomicRef.switchToAtomicSync();
            perCpuLong = kernel.perCpu().allocLong();
            longAdder.increment();
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            kernel.close();
        }
    }

    /**
     * The benchmark thread's CPU: thread {@code i} binds CPU {@code i}. During an iteration its RCU
     * reader is online, as inside a kernel call, where percpu_ref_get and percpu_ref_put run; between
     * iterations it is offline, so that closing the shared kernel never waits for it.
     */
    @State(Scope.Thread)
    public static class BoundCpu {
        Cpu cpu;
        int id;

        @Setup(Level.Trial)
        public void bind(Counters counters, ThreadParams thread) {
            cpu = counters.kernel.bindCpu(thread.getThreadIndex());
            id = cpu.id();
        }

        @Setup(Level.Iteration)
        public void enterKernel() {
            cpu.rcu().online();
        }

        @TearDown(Level.Iteration)
        public void leaveKernel() {
            cpu.rcu().offline();
        }

        @TearDown(Level.Trial)
        public void unbind() {
            cpu.close();
        }
    }

    @Benchmark
    public void percpuRef(Counters c, BoundCpu b) {
        c.percpuRef.get(b.cpu);
        c.percpuRef.put(b.cpu);
    }

    @Benchmark
    public void thisCpuAdd(Counters c, BoundCpu b) {
        c.perCpuLong.add(b.id, 1);
        c.perCpuLong.add(b.id, -1);
    }

    @Benchmark
    public void percpuRefAtomic(Counters c, BoundCpu b) {
        c.atomicRef.get(b.cpu);
        c.atomicRef.put(b.cpu);
    }

    @Benchmark
    public void atomicLong(Counters c) {
        c.atomicLong.incrementAndGet();
        c.atomicLong.decrementAndGet();
    }

    @Benchmark
    public void longAdder(Counters c) {
        c.longAdder.increment();
        c.longAdder.decrement();
    }
}
