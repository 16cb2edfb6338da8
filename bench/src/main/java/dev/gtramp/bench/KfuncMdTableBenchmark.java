package dev.gtramp.bench;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.lib.RcuLongHashTable;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.jctools.maps.NonBlockingHashMapLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The global trampoline's lookup of a function's {@code kfunc_md} by its address, the hash lookup
 * every traced call makes: {@link RcuLongHashTable#lookup} against JCTools'
 * {@link NonBlockingHashMapLong#get(long)}, a lock-free open-addressing map with primitive keys.
 *
 * <p>The keys are the entry addresses of a synthetic image ({@code KernelImage.synthetic}: 16-byte
 * aligned functions with real-sized gaps, as {@code kallsyms} shows them), {@code 2 * entries}
 * functions of which every other one is in the tables. Each benchmark call looks up the next of
 * {@value #LOOKUPS} keys drawn at random, with a fixed seed, from the functions in the tables
 * ({@code lookup}, {@code get}) or from the others ({@code lookupMiss}, {@code getMiss}), so the
 * accesses jump around the table as calls of many traced functions do. {@code entries} is 1,000,
 * 48,000 (about what attaching to every traceable function of a distribution kernel gives) and
 * 200,000.
 *
 * <p>Both are measured bare: the RCU read-side section that the table's lookup needs is one the
 * trampoline holds anyway (it runs inside the traced call), and would cost both the same. Neither
 * allocates: check with {@code -prof gc}.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main KfuncMdTableBenchmark
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main KfuncMdTableBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KfuncMdTableBenchmark {
    /** Keys per sequence: a power of two, so the next index is a mask away. */
    static final int LOOKUPS = 1 << 16;
    private static final int MASK = LOOKUPS - 1;
    /** The image's and the draws' seed: every run measures the same keys in the same order. */
    private static final long SEED = 1;

    @Param({"1000", "48000", "200000"})
    int entries;

    private Kernel kernel;
    private RcuLongHashTable<Object> table;
    private NonBlockingHashMapLong<Object> nbhm;
    private final long[] present = new long[LOOKUPS];
    private final long[] absent = new long[LOOKUPS];
    private int next;

    @Setup
    public void setup() {
        kernel = BenchKernels.boot(1, RcuFlavor.QSBR);
        table = new RcuLongHashTable<>(kernel, "kfunc_md");
        nbhm = new NonBlockingHashMapLong<>();
        List<ImageFunction> functions = KernelImage.synthetic(2 * entries, SEED).functions();
        long[] in = new long[entries];
        long[] out = new long[entries];
        for (int i = 0; i < entries; i++) {
            in[i] = functions.get(2 * i).ip();
            out[i] = functions.get(2 * i + 1).ip();
            Object md = new Object();
            table.insert(in[i], md);
            nbhm.put(in[i], md);
        }
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < LOOKUPS; i++) {
            present[i] = in[random.nextInt(entries)];
            absent[i] = out[random.nextInt(entries)];
        }
    }

    @TearDown
    public void tearDown() {
        kernel.close();
    }

    @Benchmark
    public Object lookup() {
        return table.lookup(present[next++ & MASK]);
    }

    @Benchmark
    public Object get() {
        return nbhm.get(present[next++ & MASK]);
    }

    @Benchmark
    public Object lookupMiss() {
        return table.lookup(absent[next++ & MASK]);
    }

    @Benchmark
    public Object getMiss() {
        return nbhm.get(absent[next++ & MASK]);
    }
}
