package dev.gtramp.study.calls;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.study.Kinds;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.study.StudyDesigns;
import dev.gtramp.study.StudyOptions;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyRunner;
import dev.gtramp.study.StudyTargets;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The study's per-call costs, measured by JMH's {@link Runner}: one run of
 * {@link StudyCallBenchmark} per case, so that no two cases share a run's cartesian product of
 * parameters (and, with forks, a JVM).
 *
 * <p><b>The cases</b> ({@link #plan}): for each design of the request, in order, and each of fentry,
 * fexit and fmod_ret, one empty program on the measured function alone (attached = 1) and with
 * {@link StudyRunner.CallRequest#allAttached()} functions attached (left out when that is 1, or when
 * the sample offers no other function of the kind); then one {@code nop} / {@code kernel-count}
 * case, the function called through its NOP site. Each case's {@link CallCost#attached()} is the
 * number of functions actually attached, fewer than asked when the sample has fewer that accept the
 * kind (fmod_ret accepts only error-injection points, fmodret BTF ids and security hooks); the plan
 * computes it as the benchmark's setup does ({@link StudyCallBenchmark#choose}), so it holds for a
 * forked run too. A kind with no function to measure at all (no {@code bpf_fentry_test1}, and none
 * of the sample's functions of that kind takes one argument) has no case.
 *
 * <p><b>JMH settings</b> from {@link StudyOptions.CallSettings}: mode average time in ns, one thread,
 * {@code forks} forks (0: in this JVM; then every case runs in one JVM, whose JIT has seen the
 * earlier cases, so the numbers are rougher), {@code warmups} warm-up and {@code iterations}
 * measured iterations of {@code millis} ms, failing on the first error, and silent
 * ({@link VerboseMode#SILENT}) so that the study's progress bar owns the terminal. A forked JVM
 * gets this JVM's class path ({@code java.class.path}) and input arguments. Each result's
 * {@link CallCost#nsPerCall()} is the primary score and {@link CallCost#error()} its 99.9% error
 * (NaN with fewer than 3 measured
 * iterations: JMH gives no error for 2 or fewer).
 *
 * <p><b>Ratios.</b> {@link CallCost#ratio()} is {@code reference ns / case ns}, the throughput
 * relative to the reference case ({@link #reference}): the fentry case with one function attached of
 * {@code single-ops} if the request has it, else of the request's first design served by
 * per-function trampolines (its multi links do not go to {@code bpf_global_caller}: classic,
 * single-ops, tracing-multi), else of the request's first design. The reference's ratio is exactly
 * 1. {@link CallCost#kernelRatio()} is the matching {@code bench_trigger} case's ratio to
 * {@code trig-fentry} from {@link BenchTriggerV2}, or null where it has none
 * ({@link BenchTriggerV2#forCase}); whether a design is global is asked of its
 * {@link StudyDesign#config()} ({@code multiLinkMode().isGlobal()}), not of its name.
 */
public final class JmhCallCosts implements StudyRunner.CallCostMeasurer {
    /** The benchmark every case runs: exactly {@link StudyCallBenchmark#call()}. */
    public static final String BENCHMARK = "^" + Pattern.quote(StudyCallBenchmark.class.getName() + ".call") + "$";

    /** What the measurement has done so far: the same shape as {@code StudyRunner.Listener#step}. */
    @FunctionalInterface
    public interface Progress {
        /** Case {@code what} starts: {@code total} cases in all, {@code done} finished ({@code done == total}: all done). */
        void step(String what, int done, int total);

        /** Reports nothing. */
        Progress NONE = (what, done, total) -> {
        };
    }

    /**
     * One case of the measurement.
     *
     * @param design   the design's name, or {@code nop}
     * @param kind     {@code fentry}, {@code fexit}, {@code fmod_ret}, or {@code kernel-count}
     * @param asked    the functions asked for (the JMH parameter {@code attached}): 1, or the study's size
     * @param attached the functions the case actually attaches (0 for {@code nop})
     * @param global   whether the design's multi links go to {@code bpf_global_caller}
     * @param measured the function called
     */
    public record Case(String design, String kind, int asked, int attached, boolean global, String measured) {
        /** {@code design kind xN}, for progress and errors. */
        public String label() {
            return design + " " + kind + (design.equals(StudyCallBenchmark.NOP) ? "" : " x" + attached);
        }

        /** bench_trigger's matching case, if any. */
        public Optional<BenchTriggerV2> kernelCase() {
            return BenchTriggerV2.forCase(global, kind, attached > 1);
        }
    }

    private final StudyDesigns registry;
    private final Progress progress;

    /** Every registered design, no progress. */
    public JmhCallCosts() {
        this(StudyDesigns.load(), Progress.NONE);
    }

    /** Every registered design, reporting each case to {@code progress}. */
    public JmhCallCosts(Progress progress) {
        this(StudyDesigns.load(), progress);
    }

    /**
     * @param registry resolves the request's design names here (a forked benchmark resolves them from
     *                 its own class path's registry, {@link StudyDesigns#load()})
     * @param progress told of each case as it starts
     */
    public JmhCallCosts(StudyDesigns registry, Progress progress) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /**
     * Runs every case of {@link #plan}, one JMH run each.
     *
     * @throws KernelException naming the case whose benchmark failed (its setup check, or JMH), or a
     *         bad request (unknown design, no design)
     */
    @Override
    public List<CallCost> measure(StudyRunner.CallRequest request) {
        List<Case> cases = plan(request);
        List<double[]> scores = new ArrayList<>(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            progress.step(c.label(), i, cases.size());
            scores.add(run(c, request));
        }
        progress.step("done", cases.size(), cases.size());
        Case ref = reference(cases);
        double refNs = scores.get(cases.indexOf(ref))[0];
        List<CallCost> out = new ArrayList<>(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            double[] s = scores.get(i);
            out.add(new CallCost(c.design(), c.kind(), c.attached(), s[0], s[1], c == ref ? 1.0 : refNs / s[0],
                    c.kernelCase().map(BenchTriggerV2::ratio).orElse(null)));
        }
        return List.copyOf(out);
    }

    /**
     * The cases of {@code request}, in the order they run, with the number of functions each
     * actually attaches (boots one kernel on the request's image to choose them as the benchmark
     * does).
     */
    public List<Case> plan(StudyRunner.CallRequest request) {
        if (request.designs().isEmpty()) {
            throw new KernelException(Errno.EINVAL, "the per-call measurement needs at least one design");
        }
        List<StudyDesign> designs = registry.select(request.designs());
        KernelImage image = StudyCallBenchmark.image(request.synthetic(), request.seed());
        StudyTargets targets = StudyTargets.select(image, StudyCallBenchmark.matchOrNull(request.match()),
                request.deny(), StudyCallBenchmark.SAMPLE_KINDS, request.seed());
        List<Case> cases = new ArrayList<>();
        try (Kernel kernel = Kernel.boot(image, KernelConfig.defaults().withCpus(1).withRcu(RcuFlavor.QSBR))) {
            Trampolines t = Trampolines.create(kernel, TrampolinesConfig.defaults());
            for (StudyDesign d : designs) {
                int all = request.allAttached().getOrDefault(d.name(), 1);
                boolean global = StudyCallBenchmark.isGlobal(d);
                for (BpfTrampKind k : StudyCallBenchmark.SAMPLE_KINDS) {
                    StudyCallBenchmark.Choice one;
                    try {
                        one = StudyCallBenchmark.choose(kernel, t, targets, k, 1);
                    } catch (KernelException e) {
                        if (e.errno() == Errno.ENOENT) {
                            continue;
                        }
                        throw e;
                    }
                    cases.add(new Case(d.name(), Kinds.label(k), 1, 1, global, one.measured().name()));
                    if (all > 1) {
                        int n = StudyCallBenchmark.choose(kernel, t, targets, k, all).functions().size();
                        if (n > 1) {
                            cases.add(new Case(d.name(), Kinds.label(k), all, n, global, one.measured().name()));
                        }
                    }
                }
            }
            StudyCallBenchmark.Choice nop = StudyCallBenchmark.choose(kernel, t, targets, BpfTrampKind.FENTRY, 1);
            cases.add(new Case(StudyCallBenchmark.NOP, StudyCallBenchmark.KERNEL_COUNT, 1, 0, false,
                    nop.measured().name()));
        }
        return List.copyOf(cases);
    }

    /**
     * The case every ratio is relative to: the fentry case with one function attached of
     * {@code single-ops} if present, else of the first design served by per-function trampolines,
     * else of the first design.
     *
     * @throws IllegalArgumentException if {@code cases} has no fentry case with one function
     */
    public static Case reference(List<Case> cases) {
        List<Case> fentry = cases.stream()
                .filter(c -> c.kind().equals("fentry") && c.asked() == 1 && !c.design().equals(StudyCallBenchmark.NOP))
                .toList();
        return fentry.stream().filter(c -> c.design().equals("single-ops")).findFirst()
                .or(() -> fentry.stream().filter(c -> !c.global()).findFirst())
                .or(() -> fentry.stream().findFirst())
                .orElseThrow(() -> new IllegalArgumentException("no fentry case with one function attached in " + cases));
    }

    /** One JMH run of {@code c}: {score, error} in ns per call. */
    private static double[] run(Case c, StudyRunner.CallRequest r) {
        StudyOptions.CallSettings s = r.settings();
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(BENCHMARK)
                .param("design", c.design())
                .param("kind", c.kind())
                .param("attached", Integer.toString(c.asked()))
                .param("synthetic", Integer.toString(r.synthetic()))
                .param("seed", Long.toString(r.seed()))
                .param("match", r.match() == null ? "" : r.match())
                .param("deny", String.join(",", r.deny()))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .forks(s.forks())
                .warmupForks(0)
                .warmupIterations(s.warmups())
                .warmupTime(TimeValue.milliseconds(s.millis()))
                .measurementIterations(s.iterations())
                .measurementTime(TimeValue.milliseconds(s.millis()))
                .threads(1)
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT);
        Collection<RunResult> results;
        try {
            results = new Runner(o.build()).run();
        } catch (RunnerException | RuntimeException e) {
            throw new KernelException(Errno.EINVAL, "per-call case " + c.label() + " failed: " + rootMessage(e), e);
        }
        if (results.size() != 1) {
            throw new IllegalStateException("per-call case " + c.label() + ": JMH returned " + results.size()
                    + " results, expected 1 (benchmark " + BENCHMARK + ")");
        }
        RunResult result = results.iterator().next();
        double score = result.getPrimaryResult().getScore();
        if (!(score > 0) || Double.isInfinite(score)) {
            throw new IllegalStateException("per-call case " + c.label() + ": JMH scored " + score + " ns per call");
        }
        return new double[] {score, result.getPrimaryResult().getScoreError()};
    }

    /** The most specific message in {@code e}'s causes and suppressed exceptions (JMH wraps the benchmark's). */
    static String rootMessage(Throwable e) {
        String best = e.toString();
        Throwable t = e;
        for (int depth = 0; t != null && depth < 16; depth++) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                best = t.getMessage();
            }
            for (Throwable s : t.getSuppressed()) {
                if (s.getMessage() != null && !s.getMessage().isBlank()) {
                    best = rootMessage(s);
                }
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return best;
    }
}
