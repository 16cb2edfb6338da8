package dev.gtramp.bench;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.kernel.rcu.RcuStats;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * Concurrent {@code synchronize_rcu()} callers sharing grace periods: the throughput of
 * {@link dev.gtramp.kernel.rcu.Rcu#synchronize()} with {@code @Threads(2)} callers (override with
 * {@code -t}), and, as auxiliary counters over the same window, the {@code synchronize} calls and the
 * grace periods completed, both from {@link dev.gtramp.kernel.rcu.Rcu#stats()}.
 *
 * <p>The kernel's {@code rcu_seq} snapshot lets a caller return at the end of the first grace period
 * that started after it called, whoever ran it. A caller that arrives while a grace period runs
 * waits for the next one, which every caller that arrived during the same grace period shares, so N
 * callers calling back to back complete about N calls per two grace periods: {@code gracePeriods /
 * synchronizeCalls} tends to 2/N, against exactly 1 for a single caller ({@code -t 1}). Two callers
 * share only when one of them arrives between grace periods while the other still waits for the
 * grace-period lock, so their ratio lies between 1/2 and 1 and depends on how long a grace period
 * lasts compared with a lock handoff (a park and unpark, microseconds): with no readers a grace
 * period takes about 0.1 µs and two callers barely share. {@code readers} busy reader CPUs
 * ({@link BusyReaders}) make each grace period wait for someone; on a two-core machine two callers
 * and one reader already oversubscribe the cores. The primary score (calls per millisecond, all
 * callers together) shows what the sharing buys.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main RcuSharedGracePeriodBenchmark
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main RcuSharedGracePeriodBenchmark -t 1   # no sharing
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main RcuSharedGracePeriodBenchmark -t 4
 * }</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@Threads(2)
public class RcuSharedGracePeriodBenchmark {

    /** The kernel whose RCU the callers share, and its busy readers. */
    @State(Scope.Benchmark)
    public static class Domain {
        @Param({"QSBR", "GENERAL"})
        public RcuFlavor flavor;

        @Param({"0", "1"})
        public int readers;

        Kernel kernel;
        BusyReaders busy;

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
    }

    /**
     * The domain's counters over one iteration. Only the first caller thread fills them, from the
     * domain's statistics, so that the sums JMH takes over threads count each call and each grace
     * period once.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {
        /** {@code synchronize} calls made by all callers during the iteration. */
        public long synchronizeCalls;
        /** Grace periods completed during the iteration. */
        public long gracePeriods;

        private boolean counting;
        private RcuStats start;

        @Setup(Level.Iteration)
        public void open(Domain domain, ThreadParams thread) {
            synchronizeCalls = 0;
            gracePeriods = 0;
            counting = thread.getThreadIndex() == 0;
            start = counting ? domain.kernel.rcu().stats() : null;
        }

        @TearDown(Level.Iteration)
        public void close(Domain domain) {
            if (counting) {
                RcuStats end = domain.kernel.rcu().stats();
                synchronizeCalls = end.synchronizeCalls() - start.synchronizeCalls();
                gracePeriods = end.gracePeriods() - start.gracePeriods();
            }
        }
    }

    @Benchmark
    public void synchronize(Domain domain, Counters counters) {
        domain.kernel.rcu().synchronize();
    }
}
