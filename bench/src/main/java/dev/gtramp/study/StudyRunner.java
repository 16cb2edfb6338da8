package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.study.StudyResult.Environment;
import dev.gtramp.study.StudyResult.Projection;
import dev.gtramp.study.StudyResult.PublishedComparison;
import dev.gtramp.study.StudyResult.Row;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a study: every selected design, kind and size measured by {@link AttachMeasurement} and
 * projected by the {@link CostModel}, the per-call costs, and the published scenarios beside their
 * numbers. Reports each finished row to a {@link Listener}, so a caller can write what it has
 * before the study ends.
 */
public final class StudyRunner {
    /** What the study has done so far. */
    public interface Listener {
        /** A step starts: {@code total} steps in all, {@code done} finished. */
        default void step(String what, int done, int total) {
        }

        /** The result so far, after each finished row. */
        default void partial(StudyResult soFar) {
        }
    }

    private final StudyDesigns registry;
    private final CallCostMeasurer calls;

    /**
     * @param registry the designs the study may run
     * @param calls    measures the per-call costs
     */
    public StudyRunner(StudyDesigns registry, CallCostMeasurer calls) {
        this.registry = registry;
        this.calls = calls;
    }

    /** Measures the per-call costs of designs (JMH in the CLI: {@code dev.gtramp.study.calls.JmhCallCosts}). */
    public interface CallCostMeasurer {
        /**
         * Measures every case of {@code request}: for each design and each of fentry, fexit and
         * fmod_ret, one empty program on one traced function with only it attached, and with
         * {@link CallRequest#allAttached()} functions attached, and a call through a NOP site.
         *
         * @return one {@link StudyResult.CallCost} per case, ratios to the per-function fentry case
         *         of the same run
         */
        List<StudyResult.CallCost> measure(CallRequest request);
    }

    /**
     * What the per-call measurement runs on. Plain values, so that a forked JVM can rebuild the
     * image, the selection and each design from them.
     *
     * @param designs     the designs' names, as the registry knows them
     * @param allAttached for each design, how many functions its "all attached" cases attach: the
     *                    largest size the study ran for it whose attach and detach took at most
     *                    {@link StudyRunner#CALL_SETUP_BUDGET_MILLIS} of model time (every JMH fork attaches
     *                    them again), else its smallest size
     * @param synthetic   functions of the synthetic image, or 0 for Linux 6.18
     * @param seed        the seed of the sample (and of the synthetic image)
     * @param match       the selection's glob, or null
     * @param deny        globs left out of the selection
     * @param settings    the JMH settings
     */
    public record CallRequest(List<String> designs, Map<String, Integer> allAttached, int synthetic, long seed,
                              String match, List<String> deny, StudyOptions.CallSettings settings) {
        public CallRequest {
            designs = List.copyOf(designs);
            allAttached = Map.copyOf(allAttached);
            deny = List.copyOf(deny);
        }
    }

    /**
     * Runs the study.
     *
     * @param command the command line, for the report
     * @throws KernelException naming the culprit for a bad option (unknown design or kind, a size
     *         beyond the selection, a malformed cost table)
     */
    public StudyResult run(StudyOptions o, String command, Listener listener) {
        long start = System.nanoTime();
        String started = Instant.now().toString();
        List<StudyDesign> designs = o.designs().isEmpty() ? registry.all() : registry.select(o.designs());
        CostModel costs = o.costModel() == null ? CostModel.committed() : CostModel.read(o.costModel());
        if (o.synthetic() < 0) {
            throw new KernelException(Errno.EINVAL, "--synthetic " + o.synthetic() + " must be positive");
        }
        KernelImage image = o.synthetic() > 0 ? KernelImage.synthetic(o.synthetic(), o.seed()) : KernelImage.linux618();
        StudyTargets targets = StudyTargets.select(image, o.match(), o.deny(), o.kinds(), o.seed());
        List<Integer> sizes = new ArrayList<>(new java.util.TreeSet<>(o.sizes().stream().map(targets::resolve).toList()));
        if (sizes.isEmpty()) {
            throw new KernelException(Errno.EINVAL, "--sizes names no size");
        }
        List<CostModel.Published> published = o.published() && o.synthetic() == 0 && o.match() == null
                ? costs.published().stream().filter(p -> designs.stream().anyMatch(d -> d.name().equals(p.design())))
                        .toList()
                : List.of();
        int total = designs.size() * o.kinds().size() * sizes.size() + published.size() + (o.calls() == null ? 0 : 1);
        int done = 0;
        List<Row> rows = new ArrayList<>();
        List<StudyResult.CallCost> callCosts = List.of();
        List<PublishedComparison> comparisons = new ArrayList<>();
        List<StudyResult.Skipped> skipped = new ArrayList<>();
        for (StudyDesign d : designs) {
            for (BpfTrampKind kind : o.kinds()) {
                listener.step(d.name() + " " + Kinds.label(kind) + " warm-up", done, total);
                try (AttachMeasurement.Series series = new AttachMeasurement.Series(image, targets, d, kind, sizes.get(0))) {
                    for (int n : sizes) {
                        String size = label(o.sizes(), targets, n);
                        double predicted = series.predictSeconds(n);
                        if (o.rowBudgetSeconds() > 0 && predicted > o.rowBudgetSeconds()) {
                            skipped.add(new StudyResult.Skipped(d.name(), Kinds.label(kind), size, n, predicted,
                                    String.format(java.util.Locale.ROOT, "one cycle would take about %.0f s of model time, "
                                            + "over the row budget of %.0f s (--full has none)", predicted, o.rowBudgetSeconds())));
                            done++;
                            continue;
                        }
                        int runs = o.rowBudgetSeconds() > 0
                                ? (int) Math.max(1, Math.min(o.repeat(), Math.floor(o.rowBudgetSeconds() / Math.max(predicted, 1e-9))))
                                : o.repeat();
                        listener.step(d.name() + " " + Kinds.label(kind) + " x" + n, done, total);
                        AttachMeasurement.Outcome m = series.measure(n, runs);
                        rows.add(row(costs, d, kind, size, n, m));
                        done++;
                        listener.partial(result(o, command, image, targets, started, start, rows, skipped, callCosts,
                                comparisons, costs));
                    }
                }
            }
        }
        Map<String, AttachMeasurement.Outcome> scenarios = new HashMap<>();
        for (CostModel.Published p : published) {
            listener.step("published " + p.id(), done++, total);
            comparisons.add(price(costs, p, scenarios.computeIfAbsent(scenarioKey(p), k -> runScenario(p))));
            listener.partial(result(o, command, image, targets, started, start, rows, skipped, callCosts, comparisons, costs));
        }
        if (o.calls() != null) {
            listener.step("per-call costs (JMH)", done++, total);
            Map<String, Integer> largest = new java.util.LinkedHashMap<>();
            for (StudyDesign d : designs) {
                largest.put(d.name(), rows.stream()
                        .filter(r -> r.design().equals(d.name()) && cycleMillis(r) <= CALL_SETUP_BUDGET_MILLIS)
                        .mapToInt(Row::n).max().orElse(sizes.get(0)));
            }
            callCosts = calls.measure(new CallRequest(designs.stream().map(StudyDesign::name).toList(), largest,
                    o.synthetic(), o.seed(), o.match(), o.deny(), o.calls()));
        }
        listener.step("done", total, total);
        return result(o, command, image, targets, started, start, rows, skipped, callCosts, comparisons, costs);
    }

    /**
     * The most model time attaching and detaching the "all attached" functions of a per-call case
     * may take: every JMH fork attaches them again, for each of three kinds. Classic's 52,377
     * functions take about 20 s a cycle, so its per-call cases are measured at its largest size
     * under this.
     */
    public static final double CALL_SETUP_BUDGET_MILLIS = 2000;

    private static double cycleMillis(Row r) {
        return r.attach().millis().median() + r.detach().millis().median();
    }

    private static String label(List<String> asked, StudyTargets targets, int n) {
        for (String s : asked) {
            if (targets.resolve(s) == n) {
                return s.trim();
            }
        }
        return Integer.toString(n);
    }

    private static Row row(CostModel costs, StudyDesign d, BpfTrampKind kind, String size, int n,
                           AttachMeasurement.Outcome m) {
        Map<String, Double> attachTerms = costs.terms(m.attach().events(), null);
        Map<String, Double> detachTerms = costs.terms(m.detach().events(), null);
        Projection p = new Projection(costs.seconds(m.load().events(), null), sum(attachTerms), sum(detachTerms),
                attachTerms, detachTerms);
        return new Row(d.name(), Kinds.label(kind), size, n, m.attached(), m.programs(), m.links(), m.load(), m.attach(),
                m.detach(), m.retained(), p);
    }

    private static double sum(Map<String, Double> terms) {
        return terms.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * The projection of one published scenario: its design attaching fentry to its selection of the
     * Linux 6.18 image once (the counts are exact, one cycle is enough), the phases it covers priced
     * in its era, its tool's start-up added, scaled to the published number of functions.
     */
    public static PublishedComparison compare(CostModel costs, CostModel.Published p) {
        return price(costs, p, runScenario(p));
    }

    /** What a published scenario runs: its design and selection (scenarios that share both share one run). */
    private static String scenarioKey(CostModel.Published p) {
        return p.design() + " " + p.select();
    }

    private static AttachMeasurement.Outcome runScenario(CostModel.Published p) {
        StudyDesign design = StudyDesigns.load().select(List.of(p.design())).get(0);
        KernelImage image = KernelImage.linux618();
        boolean glob = !p.select().equalsIgnoreCase("all") && !p.select().chars().allMatch(Character::isDigit);
        StudyTargets targets = StudyTargets.select(image, glob ? p.select() : null, List.of(),
                List.of(BpfTrampKind.FENTRY), 1);
        int n = glob ? targets.size() : targets.resolve(p.select());
        try (AttachMeasurement.Series series = new AttachMeasurement.Series(image, targets, design, BpfTrampKind.FENTRY, n)) {
            return series.measure(n, 1);
        }
    }

    private static PublishedComparison price(CostModel costs, CostModel.Published p, AttachMeasurement.Outcome m) {
        Map<String, Long> events = new HashMap<>();
        for (String phase : p.phases()) {
            StudyResult.Phase ph = switch (phase) {
                case "load" -> m.load();
                case "attach" -> m.attach();
                default -> m.detach();
            };
            ph.events().forEach((e, c) -> events.merge(e, c, Long::sum));
        }
        double seconds = costs.seconds(events, p.era()) * p.functions() / m.attached();
        String includes = String.join(" + ", p.phases()) + " of " + m.attached() + " functions"
                + (p.functions() != m.attached() ? " scaled to " + p.functions() : "")
                + (p.era() != null ? ", priced as in era " + p.era() : "");
        if (p.tool() != null) {
            seconds += costs.startupSeconds(p.tool());
            includes += ", " + p.tool() + " start-up";
        }
        return new PublishedComparison(p.id(), p.what(), p.design(), p.functions(), m.attached(), p.seconds(), seconds,
                seconds / p.seconds(), p.role(), includes, p.source());
    }

    private static StudyResult result(StudyOptions o, String command, KernelImage image, StudyTargets targets,
                                      String started, long start, List<Row> rows, List<StudyResult.Skipped> skipped,
                                      List<StudyResult.CallCost> calls,
                                      List<PublishedComparison> published, CostModel costs) {
        Runtime rt = Runtime.getRuntime();
        String machine = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + ", " + rt.availableProcessors() + " processors";
        String jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + ", max heap "
                + rt.maxMemory() / (1 << 20) + " MiB, " + ManagementFactory.getRuntimeMXBean().getInputArguments();
        Environment env = new Environment(command, image.name(), targets.size(), machine, jvm, started,
                (System.nanoTime() - start) / 1e9, o.repeat(), o.seed());
        return new StudyResult(env, List.copyOf(rows), List.copyOf(skipped), List.copyOf(calls),
                o.calls() == null ? null : o.calls().toString(), List.copyOf(published), costs.table());
    }
}
