package dev.gtramp.study.calls;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.study.Kinds;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.study.StudyDesigns;
import dev.gtramp.study.StudyTargets;
import dev.gtramp.trampoline.KfuncMdInfo;
import dev.gtramp.trampoline.TrampolineInfo;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The study's per-call cost of one case: one call of a traced function with one empty program
 * ({@code c -> 0}) attached by a study design, as the model's {@code bench_trigger}
 * ({@code dev.gtramp.bench.TriggerBenchmark}) measures it. {@link JmhCallCosts} runs one case per
 * JMH run with the study's settings; the annotations here are only the defaults of a run from the
 * command line.
 *
 * <p><b>Trial setup.</b> Boots a one-CPU kernel (QSBR RCU, as the benchmarks' kernels) on the image
 * ({@link #synthetic} functions of {@code KernelImage.synthetic(synthetic, seed)}, or Linux 6.18
 * for 0), creates its trampolines with the design's {@link StudyDesign#config()}, and chooses the
 * measured function: {@code bpf_fentry_test1} (its real body, {@code return a + 1;}) when the image
 * has it and the attach checks accept an empty program of the kind on it, else the first function of
 * the study's sample ({@link StudyTargets}, the selection of {@link #match} less {@link #deny} in the
 * seeded order, chosen as for the kinds fentry, fexit and fmod_ret together) that accepts the kind
 * and takes one argument word. It then attaches through the design's own code path,
 * {@code design.load(trampolines, kind, functions).attach()}, where {@code functions} is the
 * measured function alone ({@link #attached} = 1) or it and the first {@code attached - 1} other
 * functions of the sample that accept the kind. When the sample has fewer (fmod_ret accepts only
 * error-injection points, fmodret BTF ids and security hooks), what there is is attached:
 * {@link #attachedCount()} and {@link Choice#functions()} give the count, and {@link JmhCallCosts}
 * reports it.
 *
 * <p><b>The check</b>, as {@code TriggerBenchmark}'s: one call before attaching gives the body's
 * result ({@code a + 1} for {@code bpf_fentry_test1}, checked); one call after must return the
 * same (the fmod_ret program returns 0, so the body runs), must run the design's programs exactly
 * once in all, and the function must be served by what the design names: its per-function trampoline
 * with one program of the kind, or for a design whose multi links go to the global trampoline its
 * {@code kfunc_md} on {@code bpf_global_caller} with one program; for {@code nop}, the NOP site.
 * The run count is that of the programs the design's attachment lists
 * ({@link StudyDesign.Attachment#programs()}). A failed check throws, naming the case. The setup ends by
 * waiting for the RCU callbacks it queued, so that their frees do not run during the measurement.
 *
 * <p><b>The measured call</b> is {@code cpu.call(fn, arg)} on the CPU bound to the benchmark thread
 * (JMH runs a thread-scoped state's trial setup and teardown on the benchmark's thread); it
 * allocates nothing. Teardown unbinds the CPU, closes the attachment and the kernel.
 *
 * <pre>{@code
 * java -cp bench/target/gtramp.jar org.openjdk.jmh.Main StudyCallBenchmark -p design=global-hash -p kind=fexit -p attached=1000
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
@Threads(1)
public class StudyCallBenchmark {
    /** The design of the call through a NOP site: nothing attached. */
    public static final String NOP = "nop";
    /** The kind of the {@link #NOP} case ({@code bench_trigger}'s {@code trig-kernel-count}). */
    public static final String KERNEL_COUNT = "kernel-count";
    /** The function measured when the image has it. */
    public static final String PREFERRED_FUNCTION = "bpf_fentry_test1";
    /** The kinds the sample is chosen for (the order of a sample depends on them). */
    static final List<BpfTrampKind> SAMPLE_KINDS = List.of(BpfTrampKind.FENTRY, BpfTrampKind.FEXIT,
            BpfTrampKind.MODIFY_RETURN);

    /** A registered design's name ({@link StudyDesigns}), or {@link #NOP}. */
    @Param({"single-ops"})
    public String design;

    /** {@code fentry}, {@code fexit}, {@code fmod_ret}, or {@link #KERNEL_COUNT} with {@link #NOP}. */
    @Param({"fentry"})
    public String kind;

    /** Functions to attach: 1, or the study's largest size (ignored by {@link #NOP}). */
    @Param({"1"})
    public int attached;

    /** Functions of the synthetic image, or 0 for Linux 6.18. */
    @Param({"0"})
    public int synthetic;

    /** The seed of the sample and of a synthetic image. */
    @Param({"1"})
    public long seed;

    /** The selection's glob, empty for none (every function). */
    @Param({""})
    public String match;

    /** Globs left out of the selection, comma-joined; empty for none. */
    @Param({""})
    public String deny;

    private Kernel kernel;
    private Trampolines trampolines;
    private Cpu cpu;
    private KernelFunction fn;
    private StudyDesign.Attachment attachment;
    private int attachedCount;
    private boolean runsChecked;
    /** Read from a field each time, so the JIT cannot fold the call into a constant. */
    private long arg = 1;

    /** What a case attaches: the measured function first, then the others. */
    public record Choice(KernelFunction measured, List<KernelFunction> functions) {
    }

    @Setup(Level.Trial)
    public void setUp() {
        StudyDesign d = design();
        BpfTrampKind k = kindOf(d);
        KernelImage image = image(synthetic, seed);
        StudyTargets targets = StudyTargets.select(image, matchOrNull(match), denyList(deny), SAMPLE_KINDS, seed);
        kernel = Kernel.boot(image, KernelConfig.defaults().withCpus(1).withRcu(RcuFlavor.QSBR));
        try {
            trampolines = Trampolines.create(kernel, d == null ? TrampolinesConfig.defaults() : d.config());
            Choice choice = choose(kernel, trampolines, targets, k == null ? BpfTrampKind.FENTRY : k,
                    d == null ? 1 : attached);
            fn = choice.measured();
            cpu = kernel.bindCpu(0);
            long expected = cpu.call(fn, arg);
            cpu.close();
            cpu = null;
            if (fn.name().equals(PREFERRED_FUNCTION) && expected != arg + 1) {
                throw fail(fn.name() + "(" + arg + ") returned " + expected + " with nothing attached, not " + (arg + 1));
            }
            Set<BpfProg> progs = Set.of();
            if (d != null) {
                attachment = d.load(trampolines, k, choice.functions()).attach();
                attachedCount = choice.functions().size();
                progs = Set.copyOf(attachment.programs());
            }
            runsChecked = !progs.isEmpty();
            cpu = kernel.bindCpu(0);
            long before = runs(progs);
            long r = call();
            long ran = runs(progs) - before;
            if (r != expected || (runsChecked && ran != 1)) {
                throw fail(fn.name() + "(" + arg + ") returned " + r + " (expected " + expected + ") and ran the "
                        + progs.size() + " program(s) " + ran + " times (expected once) through " + fn.site().read());
            }
            checkServed(d, k);
            settle();
        } catch (RuntimeException e) {
            try {
                tearDown();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Runs the work the setup deferred (the probes' and the replaced hashes' and images' frees by
     * RCU callbacks) before the first iteration, so that it neither allocates nor competes for the
     * CPU while the call is measured. The bound CPU is idle, hence quiescent.
     */
    private void settle() {
        trampolines.drainRetiredImages(16);
        kernel.rcu().barrier();
        kernel.tasksRcu().barrier();
    }

    /** The measured call: {@code fn(arg)} on the bound CPU. */
    @Benchmark
    public long call() {
        return cpu.call(fn, arg);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (cpu != null) {
                cpu.close();
            }
        } finally {
            cpu = null;
            try {
                if (attachment != null) {
                    attachment.close();
                }
            } finally {
                attachment = null;
                if (kernel != null) {
                    kernel.close();
                }
                kernel = null;
            }
        }
    }

    /** Functions attached by the last setup (0 for {@link #NOP}). */
    public int attachedCount() {
        return attachedCount;
    }

    /** The function the last setup measures. */
    public String function() {
        return fn == null ? null : fn.name();
    }

    /** Whether the last setup could count the programs' runs (see the class comment). */
    public boolean runsChecked() {
        return runsChecked;
    }

    /** This case, as {@code design=... kind=... attached=...}. */
    public String label() {
        return "design=" + design + " kind=" + kind + " attached=" + attached
                + (synthetic > 0 ? " synthetic=" + synthetic : "") + " seed=" + seed
                + (match == null || match.isEmpty() ? "" : " match=" + match)
                + (deny == null || deny.isEmpty() ? "" : " deny=" + deny);
    }

    // ------------------------------------------------------------------ the case

    /** The design, null for {@link #NOP}; throws naming an unknown one. */
    private StudyDesign design() {
        if (design == null || design.isBlank()) {
            throw new KernelException(Errno.EINVAL, "StudyCallBenchmark: no design given (design=" + design + ")");
        }
        if (design.trim().equals(NOP)) {
            return null;
        }
        try {
            return StudyDesigns.load().select(List.of(design)).get(0);
        } catch (KernelException e) {
            throw new KernelException(e.errno(), "StudyCallBenchmark " + label() + ": " + e.getMessage(), e);
        }
    }

    /** The kind of the case, null for {@link #NOP}; throws for a kind the design cannot have. */
    private BpfTrampKind kindOf(StudyDesign d) {
        if (d == null) {
            if (!KERNEL_COUNT.equals(kind)) {
                throw fail("design " + NOP + " measures kind " + KERNEL_COUNT + " only, not '" + kind + "'");
            }
            return null;
        }
        if (KERNEL_COUNT.equals(kind)) {
            throw fail("kind " + KERNEL_COUNT + " is the " + NOP + " case's; design " + d.name()
                    + " attaches fentry, fexit or fmod_ret");
        }
        if (attached < 1) {
            throw fail("attached must be at least 1, not " + attached);
        }
        try {
            return Kinds.parse(kind);
        } catch (KernelException e) {
            throw fail(e.getMessage());
        }
    }

    private void checkServed(StudyDesign d, BpfTrampKind k) {
        if (d == null) {
            if (fn.site().read() != null) {
                throw fail(fn.name() + ": expected the NOP, the site calls " + fn.site().read());
            }
            return;
        }
        String prefix = Kinds.label(k) + ":";
        if (isGlobal(d)) {
            KfuncMdInfo md = trampolines.kfuncMd(fn).orElseThrow(() -> fail(fn.name() + " has no kfunc_md"));
            if (md.servedByTrampoline() || trampolines.trampoline(fn).isPresent()) {
                throw fail(fn.name() + " is not served by bpf_global_caller: " + md);
            }
            if (md.programs().size() != 1 || !md.programs().get(0).startsWith(prefix)) {
                throw fail(fn.name() + ": expected one " + Kinds.label(k) + " program in its kfunc_md, found "
                        + md.programs());
            }
        } else {
            TrampolineInfo tr = trampolines.trampoline(fn).orElseThrow(
                    () -> fail(fn.name() + " has no trampoline; the site calls " + fn.site().read()));
            if (tr.programOrder().size() != 1 || !tr.programOrder().get(0).startsWith(prefix)) {
                throw fail(fn.name() + ": expected one " + Kinds.label(k) + " program in its trampoline image, found "
                        + tr.programOrder());
            }
        }
    }

    private KernelException fail(String what) {
        return new KernelException(Errno.EINVAL, "StudyCallBenchmark " + label() + ": " + what);
    }

    // ------------------------------------------------------------------ shared with JmhCallCosts

    /** Whether {@code d}'s multi links go to the global trampoline ({@code bpf_global_caller}). */
    static boolean isGlobal(StudyDesign d) {
        return d.config().multiLinkMode().isGlobal();
    }

    /** The image of a case: {@code synthetic} functions with {@code seed}, or Linux 6.18 for 0. */
    static KernelImage image(int synthetic, long seed) {
        if (synthetic < 0) {
            throw new KernelException(Errno.EINVAL, "synthetic " + synthetic + " must be 0 (Linux 6.18) or positive");
        }
        return synthetic > 0 ? KernelImage.synthetic(synthetic, seed) : KernelImage.linux618();
    }

    static String matchOrNull(String match) {
        return match == null || match.isBlank() ? null : match.trim();
    }

    static List<String> denyList(String deny) {
        if (deny == null || deny.isBlank()) {
            return List.of();
        }
        return Arrays.stream(deny.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * The measured function and what is attached with it: {@value #PREFERRED_FUNCTION} if the image
     * has it and the attach checks accept {@code kind} on it, else the sample's first function that
     * accepts {@code kind} and takes one argument word; then the sample's first functions that accept
     * {@code kind}, at another address, up to {@code attached} in all (fewer if the sample has fewer).
     *
     * @throws KernelException ENOENT if no function of the image can be measured for {@code kind}
     */
    static Choice choose(Kernel kernel, Trampolines t, StudyTargets targets, BpfTrampKind kind, int attached) {
        List<KernelFunction> sample = targets.first(kernel, targets.size(), kind);
        KernelFunction measured = kernel.find(PREFERRED_FUNCTION)
                .filter(f -> f.argWords() == 1 && accepts(kernel, t, f, kind))
                .or(() -> sample.stream().filter(f -> f.argWords() == 1).findFirst())
                .orElseThrow(() -> new KernelException(Errno.ENOENT, "no function of " + kernel.image().name()
                        + " to measure " + Kinds.label(kind) + " on: " + PREFERRED_FUNCTION
                        + " is missing or refused, and none of the " + sample.size()
                        + " functions of the sample that accept it takes one argument"));
        List<KernelFunction> functions = new ArrayList<>(Math.min(Math.max(attached, 1), sample.size() + 1));
        functions.add(measured);
        for (KernelFunction f : sample) {
            if (functions.size() >= attached) {
                break;
            }
            if (f.ip() != measured.ip()) {
                functions.add(f);
            }
        }
        return new Choice(measured, List.copyOf(functions));
    }

    private static boolean accepts(Kernel kernel, Trampolines t, KernelFunction f, BpfTrampKind kind) {
        BpfProg probe = BpfProg.builder(kernel, "study_call_probe", Kinds.regular(kind)).body(c -> 0).load();
        try {
            return t.attachRefusal(probe, f).isEmpty();
        } finally {
            probe.close();
        }
    }

    private static long runs(Set<BpfProg> progs) {
        long n = 0;
        for (BpfProg p : progs) {
            n += p.stats().runs();
        }
        return n;
    }
}
