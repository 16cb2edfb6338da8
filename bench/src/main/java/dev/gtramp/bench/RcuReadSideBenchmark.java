package dev.gtramp.bench;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.kernel.rcu.RcuReader;
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

import java.util.concurrent.TimeUnit;

/**
 * The read-side cost of each RCU flavor of the model, on one thread, against a plain acquire load.
 *
 * <p>Every benchmark does one {@code rcu_dereference(gp)->value} ({@link RcuPointer#deref()}) and
 * differs only in the read-side markers around it, taken from the reader of a bound simulated CPU
 * ({@link Cpu#rcu()}), as kernel code on that CPU would use them:
 * <ul>
 *   <li>{@link #baseline}: no markers; the acquire load and the field read alone.</li>
 *   <li>{@link #qsbrQuiescentEveryOp}: QSBR {@code rcu_read_lock()}/{@code rcu_read_unlock()} inside
 *       a kernel call (the reader is online: they only count) and {@code rcu_qs()} after every
 *       section: an acquire load of the grace-period number and an opaque load of the reader's word,
 *       with a store only when a grace period has started.</li>
 *   <li>{@link #qsbrQuiescentEvery64}: the same, reporting once every 64 sections, as a kernel that
 *       reports from the scheduler tick and context switches amortises it.</li>
 *   <li>{@link #qsbrOutermostCall}: what the CPU pays for QSBR once per outermost kernel call,
 *       going online (store and full fence) and offline (release store).</li>
 *   <li>{@link #general}: the general flavor's ({@code CONFIG_PREEMPT_RCU}) outermost
 *       {@code rcu_read_lock()}, an opaque store of the epoch followed by a full fence, and
 *       {@code rcu_read_unlock()}, a release store of 0.</li>
 *   <li>{@link #generalNested}: two nested sections; only the outer pair publishes and fences, the
 *       inner pair counts in an owner-private field.</li>
 * </ul>
 * A score minus {@code baseline} is the cost of the markers, and a score divided by {@code baseline}
 * from the same run compares the flavors independently of the machine's speed. No grace period runs
 * while this benchmark measures, so every quiescent state takes the no-store path.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main RcuReadSideBenchmark
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(1)
public class RcuReadSideBenchmark {

    /** A QSBR kernel and a general-flavor kernel, each with CPU 0 bound to the benchmark thread. */
    @State(Scope.Thread)
    public static class Readers {
        final RcuPointer gp = new RcuPointer(42);
        Kernel qsbrKernel;
        Kernel generalKernel;
        Cpu qsbrCpu;
        Cpu generalCpu;
        RcuReader qsbr;
        RcuReader general;
        /** Sections since the last quiescent state, for {@link #qsbrQuiescentEvery64}. */
        int sections;

        @Setup(Level.Trial)
        public void boot() {
            qsbrKernel = BenchKernels.boot(1, RcuFlavor.QSBR);
            generalKernel = BenchKernels.boot(1, RcuFlavor.GENERAL);
            qsbrCpu = qsbrKernel.bindCpu(0);
            generalCpu = generalKernel.bindCpu(0);
            qsbr = qsbrCpu.rcu();
            general = generalCpu.rcu();
            // As inside a kernel call: the QSBR reader is online, so lock and unlock only count.
            qsbr.online();
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            qsbr.offline();
            qsbrCpu.close();
            generalCpu.close();
            qsbrKernel.close();
            generalKernel.close();
        }
    }

    @Benchmark
    public long baseline(Readers s) {
        return s.gp.deref();
    }

    @Benchmark
    public long qsbrQuiescentEveryOp(Readers s) {
        RcuReader r = s.qsbr;
        r.lock();
        long v = s.gp.deref();
        r.unlock();
        r.quiescentState();
        return v;
    }

    @Benchmark
    public long qsbrQuiescentEvery64(Readers s) {
        RcuReader r = s.qsbr;
        r.lock();
        long v = s.gp.deref();
        r.unlock();
        if ((++s.sections & 63) == 0) {
            r.quiescentState();
        }
        return v;
    }

    /**
     * What a CPU pays for QSBR at each outermost kernel call ({@code rcu_user_exit} and
     * {@code rcu_user_enter}): an opaque store of the grace-period number and a full fence on entry,
     * a release store on exit, around the same dereference.
     */
    @Benchmark
    public long qsbrOutermostCall(Readers s) {
        RcuReader r = s.qsbr;
        r.offline();
        r.online();
        long v = s.gp.deref();
        return v;
    }

    @Benchmark
    public long general(Readers s) {
        RcuReader r = s.general;
        r.lock();
        long v = s.gp.deref();
        r.unlock();
        return v;
    }

    @Benchmark
    public long generalNested(Readers s) {
        RcuReader r = s.general;
        r.lock();
        r.lock();
        long v = s.gp.deref();
        r.unlock();
        r.unlock();
        return v;
    }
}
