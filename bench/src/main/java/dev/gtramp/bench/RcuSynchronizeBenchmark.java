package dev.gtramp.bench;

import dev.gtramp.kernel.Kernel;
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
 * The latency of {@code synchronize_rcu()} ({@link dev.gtramp.kernel.rcu.Rcu#synchronize()}) for one
 * caller, with 0, 1 or 2 busy reader CPUs, for both RCU flavors the kernel can be booted with.
 *
 * <p>The caller is a thread bound to no CPU. The readers are {@link BusyReaders}: each binds its own
 * CPU and runs {@code rcu_read_lock(); rcu_dereference(); rcu_read_unlock(); rcu_qs();} back to
 * back, so a grace period always has someone to wait for but never waits long for a running reader.
 * With {@code readers = 0} the score is the fixed cost of a grace period: the snapshot, the lock,
 * two full fences around the counter increment, and a scan of offline (QSBR) or idle (general)
 * reader words.
 *
 * <p>Sample mode reports the mean and the percentiles; the tail matters here. On a machine with two
 * cores, {@code readers = 2} runs three busy threads on two cores. A QSBR reader that the operating
 * system has descheduled reports no quiescent state until it runs again, so the grace period waits
 * for a scheduler time slice (milliseconds), as a real kernel waits for a CPU that does not pass
 * through the scheduler; the waiting caller spins, then parks with backoff, which gives its core to
 * the descheduled reader. A descheduled general-flavor reader delays the grace period only if it was
 * preempted inside its (very short) read-side section, so that flavor is far less affected.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main RcuSynchronizeBenchmark
 * }</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(1)
@State(Scope.Benchmark)
public class RcuSynchronizeBenchmark {
    @Param({"QSBR", "GENERAL"})
    public RcuFlavor flavor;

    @Param({"0", "1", "2"})
    public int readers;

    private Kernel kernel;
    private BusyReaders busy;

    @Setup(Level.Trial)
    public void boot() {
        kernel = BenchKernels.boot(readers, flavor);
        busy = BusyReaders.start(kernel, readers);
    }

    @TearDown(Level.Trial)
    public void shutdown() {
        busy.close();
        kernel.close();
    }

    @Benchmark
    public void synchronize() {
        kernel.rcu().synchronize();
    }
}
