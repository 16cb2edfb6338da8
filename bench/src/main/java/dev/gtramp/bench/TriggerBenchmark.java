package dev.gtramp.bench;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.KfuncMdInfo;
import dev.gtramp.trampoline.KfuncMdTableKind;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;
import dev.gtramp.trampoline.TracingMultiOpts;
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

import static dev.gtramp.bench.FtraceCallSiteBenchmark.FUNCTION;

/**
 * The model's {@code bench_trigger}: the cost of one call of {@code bpf_fentry_test1} (its real body,
 * {@code return a + 1;}, from {@code KernelImage.linux618()}) with one empty program
 * ({@code c -> 0}, reading nothing) attached, through a per-function trampoline and through
 * Menglong Dong's global trampoline with each {@code kfunc_md} lookup. Every trial boots its own
 * one-CPU kernel (QSBR RCU, the default), attaches as the case says, binds the CPU to the benchmark
 * thread and checks one call: it returns {@code a + 1}, the program ran once, and the function is
 * served by what the case names. The parameter {@code kind} is {@code bench_trigger}'s case,
 * {@code trig-<kind>}.
 *
 * <p>{@link #single}, without a multi link ({@code TrampolinesConfig.defaults()}: per-function
 * trampolines on the single direct ops):
 * <ul>
 *   <li>{@code kernel-count}: nothing attached, the entry site is the NOP (the attach point called
 *       with no hook): the reference point, as {@code FtraceCallSiteBenchmark.nopSite}.</li>
 *   <li>{@code fentry}, {@code fexit}, {@code fmodret}: a fentry, fexit or fmod_ret program linked
 *       into the function's trampoline; the site calls the {@code bpf_tramp_image}. fentry runs the
 *       program and returns into the body; fexit and fmod_ret make the origin call inside
 *       {@code __bpf_tramp_enter/exit}, a per-CPU {@code percpu_ref} get and put. The fmod_ret
 *       program attaches to {@code bpf_fentry_test1} itself, which the fmodret BTF id set of
 *       {@code net/bpf/test_run.c} allows ({@code ModifyReturnTargets}, no {@code allow()} needed).
 *       {@code trig-fmodret} calls {@code bpf_modify_return_test_tp} instead and its program returns
 *       {@code -EINVAL}, skipping the function; the program here returns 0, so the body runs: the
 *       work of fexit plus the return slot's store.</li>
 * </ul>
 *
 * <p>{@link #multi}, one tracing multi link served by {@code bpf_global_caller}, for each
 * {@link Lookup} of the function's {@code kfunc_md}: {@code GLOBAL_HASH} with
 * {@code RcuLongHashTable} ({@code HASH_RCU_TABLE}) or JCTools {@code NonBlockingHashMapLong}
 * ({@code HASH_NON_BLOCKING_MAP}), or {@code GLOBAL_PADDING}, the md's index in the function's
 * padding ({@code PADDING}):
 * <ul>
 *   <li>{@code fentry-multi}, {@code fexit-multi}, {@code fmodret-multi}: the program as
 *       fentry.multi, fexit.multi or fmod_ret.multi on {@code bpf_fentry_test1} alone.</li>
 *   <li>{@code fentry-multi-all}: one fentry.multi link on every traceable function of the image
 *       that the attach checks accept ({@code KernelImage.match("*")} less the functions whose
 *       prototype the trampoline does not support or with more than {@code MAX_BPF_FUNC_ARGS}
 *       argument registers, as libbpf's {@code skip_invalid} drops them: 52,377 of 52,681,
 *       attached by BTF id in {@code @Setup(Level.Trial)}, 1 to 2 s once per fork), then the same
 *       call. 1,058 functions with stack arguments fall back to their own trampolines;
 *       {@code bpf_fentry_test1} stays on the global caller. The md table holds every md: this is
 *       where a hash lookup and the padding index may differ.</li>
 * </ul>
 *
 * <p>Read the scores as ratios in one run: each case over {@code fentry} (the kernel's v2 numbers,
 * §1.10 of the reference: fentry-multi about 10% slower than fentry, fexit-multi about equal to
 * fexit, fmodret-multi about 5% slower than fmodret), {@code fentry-multi-all} over
 * {@code fentry-multi} with the same lookup (about 1 in the kernel: the lookup behaves as O(1)), and
 * each case minus {@code kernel-count} for the hook's own cost. {@code bench_trigger} reports
 * M calls/s; with one thread that is {@code 1000 / (ns/op)}, or run with {@code -bm thrpt -tu us}
 * (ops/µs = M/s). The model's call path is far slower than the kernel's ({@code kernel-count}, the
 * NOP site, measured 12 to 17 ns in the runs bench/README.md reports), so compare ratios, not
 * absolute numbers. Every fork measures one case, so the JIT sees one
 * program body, one image and one md: the best case for inlining. Nothing on the traced call
 * allocates: {@code -prof gc} gave {@code gc.alloc.rate.norm} of at most 0.001 B/op in every case,
 * JMH's own (measured while every global case used the {@code NonBlockingHashMapLong} index; the
 * table's lookup is measured the same way by {@code KfuncMdTableBenchmark -prof gc}).
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main TriggerBenchmark
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main TriggerBenchmark.multi -p kind=fentry-multi,fentry-multi-all -p lookup=PADDING
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main TriggerBenchmark -prof gc
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main TriggerBenchmark -bm thrpt -tu us
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class TriggerBenchmark {
    /** How {@code bpf_global_caller} finds the function's {@code kfunc_md}. */
    public enum Lookup {
        /** {@code GLOBAL_HASH} with {@link KfuncMdTableKind#RCU_HASH_TABLE}. */
        HASH_RCU_TABLE(TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH).withMdTable(KfuncMdTableKind.RCU_HASH_TABLE)),
        /** {@code GLOBAL_HASH} with {@link KfuncMdTableKind#NON_BLOCKING_HASH_MAP}. */
        HASH_NON_BLOCKING_MAP(TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH)
                .withMdTable(KfuncMdTableKind.NON_BLOCKING_HASH_MAP)),
        /** {@code GLOBAL_PADDING}: the md's index in the function's padding. */
        PADDING(TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));

        final TrampolinesConfig config;

        Lookup(TrampolinesConfig config) {
            this.config = config;
        }
    }

    /**
     * A one-CPU kernel booted from the Linux 6.18 image with the subclass's trampolines and
     * attachment, the CPU bound to the benchmark thread (JMH runs a thread-scoped state's trial setup
     * and teardown on the benchmark's thread).
     */
    @State(Scope.Thread)
    public abstract static class Trigger {
        Kernel kernel;
        Trampolines trampolines;
        Cpu cpu;
        KernelFunction fn;
        /** The empty program, or null for the NOP site. */
        BpfProg prog;
        /** Read from a field each time, so the JIT cannot fold the call into a constant. */
        long arg = 1;

        @Setup(Level.Trial)
        public void boot() {
            kernel = BenchKernels.bootLinux618(1, RcuFlavor.QSBR);
            trampolines = Trampolines.create(kernel, config());
            fn = kernel.function(FUNCTION);
            attach();
            cpu = kernel.bindCpu(0);
            long before = runs();
            long r = call();
            long ran = runs() - before;
            if (r != arg + 1 || ran != (prog == null ? 0 : 1)) {
                throw new IllegalStateException(FUNCTION + "(" + arg + ") returned " + r + " and ran " + prog
                        + " " + ran + " times through " + fn.site().read());
            }
            checkServed();
        }

        /** The measured call: {@code bpf_fentry_test1(arg)} on the bound CPU. */
        final long call() {
            return cpu.call(fn, arg);
        }

        TrampolinesConfig config() {
            return TrampolinesConfig.defaults();
        }

        /** Loads and attaches the program, if any. */
        abstract void attach();

        /** Throws unless the function is served by what the case measures. */
        abstract void checkServed();

        BpfProg load(BpfAttachType type) {
            return BpfProg.builder(kernel, "bench_trigger_" + type.section().replace('.', '_'), type)
                    .body(c -> 0).load();
        }

        private long runs() {
            return prog == null ? 0 : prog.stats().runs();
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            cpu.close();
            kernel.close();
        }
    }

    /** The cases without a multi link: nothing attached, or one program on the per-function trampoline. */
    public static class Single extends Trigger {
        /** {@code bench_trigger}'s case: {@code trig-<kind>}. */
        @Param({"kernel-count", "fentry", "fexit", "fmodret"})
        public String kind;

        @Override
        void attach() {
            if (!kind.equals("kernel-count")) {
                prog = load(attachType(kind));
                trampolines.attach(prog, fn);
            }
        }

        @Override
        void checkServed() {
            if (prog == null ? fn.site().read() != null : trampolines.trampoline(fn).isEmpty()) {
                throw new IllegalStateException(FUNCTION + ": expected " + (prog == null ? "the NOP" : "a trampoline")
                        + ", the site calls " + fn.site().read());
            }
        }
    }

    /** One tracing multi link on the global trampoline with the md lookup of {@link #lookup}. */
    public static class Multi extends Trigger {
        /** {@code bench_trigger}'s case: {@code trig-<kind>}. */
        @Param({"fentry-multi", "fexit-multi", "fmodret-multi", "fentry-multi-all"})
        public String kind;

        @Param
        public Lookup lookup;

        @Override
        TrampolinesConfig config() {
            return lookup.config;
        }

        @Override
        void attach() {
            long start = System.nanoTime();
            prog = load(attachType(kind));
            long[] ids = kind.endsWith("-all") ? allTargets() : new long[] {fn.imageFunction().index()};
            BpfTracingMultiLink link = trampolines.attachMulti(prog, null, TracingMultiOpts.create().ids(ids));
            if (ids.length > 1) {
                System.out.printf("%s (%s): %d functions, %d kfunc_mds, %d fallbacks to trampolines, attached in %.1f s%n",
                        kind, lookup, link.size(), trampolines.kfuncMdCount(), link.fallbacks().size(),
                        (System.nanoTime() - start) / 1e9);
            }
        }

        @Override
        void checkServed() {
            KfuncMdInfo md = trampolines.kfuncMd(fn).orElseThrow(
                    () -> new IllegalStateException(FUNCTION + " has no kfunc_md with " + lookup));
            if (md.servedByTrampoline() || trampolines.trampoline(fn).isPresent()) {
                throw new IllegalStateException(FUNCTION + " is not served by bpf_global_caller: " + md);
            }
        }

        /**
         * Every traceable function the attach checks accept for an untyped fentry.multi program
         * ({@code AttachChecks.refusal} without the fmod_ret and first-target rules, which do not
         * apply): a supported prototype with at most {@code MAX_BPF_FUNC_ARGS} argument registers.
         */
        long[] allTargets() {
            return kernel.image().match("*").stream()
                    .filter(f -> accepts(kernel.function(f)))
                    .mapToLong(ImageFunction::index)
                    .toArray();
        }

        private boolean accepts(KernelFunction f) {
            FunctionPrototype p = f.prototype();
            return f.isTraceable() && p.isBpfSupported() && p.argRegs() <= FunctionPrototype.MAX_BPF_FUNC_ARGS
                    && prog.prototypeMismatch(f.name(), p.argRegs(), p.returnSize() == 0) == null;
        }
    }

    @Benchmark
    public long single(Single s) {
        return s.call();
    }

    @Benchmark
    public long multi(Multi s) {
        return s.call();
    }

    /** The program type of {@code kind}: fentry, fexit or fmod_ret, multi if it says so. */
    static BpfAttachType attachType(String kind) {
        BpfAttachType t;
        if (kind.startsWith("fentry")) {
            t = BpfAttachType.TRACE_FENTRY;
        } else if (kind.startsWith("fexit")) {
            t = BpfAttachType.TRACE_FEXIT;
        } else if (kind.startsWith("fmodret")) {
            t = BpfAttachType.MODIFY_RETURN;
        } else {
            throw new IllegalArgumentException("no program for " + kind);
        }
        return kind.contains("-multi") ? t.multi() : t;
    }
}
