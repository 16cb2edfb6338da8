package dev.gtramp.bench;

import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.fault.FaultPoint;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.AllocatorConfig;
import dev.gtramp.kernel.mm.KernelObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the use-after-free guard of a live {@link KernelObject} and a disarmed {@link FaultPoint}
 * cost on the paths that keep them on: a field read with and without {@code guard()}, with
 * {@code checkLive(String)}, and {@code shouldFail()} of a disarmed point.
 *
 * <pre>{@code
 * mvn -B -q -DskipTests -pl bench -am package
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main GuardBenchmark
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GuardBenchmark {
    /** A kernel object with one field, read with and without the guard. */
    static final class Guarded extends KernelObject {
        private long value = 1;

        Guarded() {
            super("bench_object", 8);
        }

        long guardedRead() {
            guard();
            return value;
        }

        long unguardedRead() {
            return value;
        }
    }

    private Guarded object;
    private FaultPoint disarmed;

    @Setup
    public void setup() {
        FaultInjector faults = new FaultInjector();
        Allocator allocator = new Allocator(new KernelLog(false), faults, AllocatorConfig.defaults());
        object = allocator.alloc(new Guarded());
        disarmed = faults.point("bench:disarmed");
    }

    @Benchmark
    public long unguardedRead() {
        return object.unguardedRead();
    }

    @Benchmark
    public long guardedRead() {
        return object.guardedRead();
    }

    @Benchmark
    public long checkLiveRead() {
        object.checkLive("bench");
        return object.unguardedRead();
    }

    @Benchmark
    public boolean disarmedFaultPoint() {
        return disarmed.shouldFail();
    }
}
