package dev.gtramp.study.report;

import dev.gtramp.study.CostModel;
import dev.gtramp.study.StudyOptions;
import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyResult.Environment;
import dev.gtramp.study.StudyResult.Memory;
import dev.gtramp.study.StudyResult.Phase;
import dev.gtramp.study.StudyResult.Projection;
import dev.gtramp.study.StudyResult.PublishedComparison;
import dev.gtramp.study.StudyResult.Row;
import dev.gtramp.study.StudyResult.Skipped;
import dev.gtramp.study.StudyResult.Stats;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Hand-built study results for the report writers' tests. */
final class StudyFixtures {
    /** A command with markup in it, which every writer must keep as text. */
    static final String COMMAND = "gtramp study --designs tracing-multi,classic --match '<script>alert(1)</script>&x'";

    private StudyFixtures() {
    }

    /**
     * Two designs (tracing-multi, classic) at two sizes (100, 1000) of fentry: events that differ
     * between the designs, a zero projected detach time (tracing-multi at 100), a skipped row,
     * per-call costs (some without a kernel ratio), two published comparisons (fitted, held-out)
     * and a cost table.
     */
    static StudyResult sample() {
        List<Row> rows = List.of(
                row("tracing-multi", "fentry", 100, 100, 0.0, 2.5, 1.2, 64),
                row("tracing-multi", "fentry", 1000, 1000, 0.5, 11.0, 6.0, 40),
                row("classic", "fentry", 100, 100, 2.0, 35.0, 20.0, 4200),
                row("classic", "fentry", 1000, 998, 20.0, 900.0, 450.0, 4150));
        List<Skipped> skipped = List.of(new Skipped("classic", "fentry", "all", 70123, 1234.5,
                "one cycle would take about 1235 s of model time, over the row budget of 20 s (--full has none)"));
        List<CallCost> calls = List.of(
                new CallCost("tracing-multi", "fentry", 1, 12.5, 0.4, 0.96, 0.93),
                new CallCost("tracing-multi", "fentry", 1000, 13.1, 0.5, 0.92, null),
                new CallCost("classic", "fentry", 1, 12.0, 0.3, 1.0, 1.0),
                new CallCost("classic", "fexit", 1000, 15.0, 0.6, 0.8, null),
                new CallCost("nop", "kernel-count", 1, 1.5, 0.05, 8.0, 9.5));
        List<PublishedComparison> published = List.of(
                new PublishedComparison("classic-1000", "attach fentry to 1,000 functions with bpftrace", "classic", 1000,
                        998, 12.0, 11.2, 11.2 / 12.0, "fitted", "attach of 998 functions scaled to 1000, bpftrace start-up",
                        "https://lore.kernel.org/bpf/example"),
                new PublishedComparison("tracing-multi-all", "attach fentry to every function", "tracing-multi", 50000,
                        1000, 0.8, 1.3, 1.3 / 0.8, "held-out", "attach of 1000 functions scaled to 50000",
                        "v2 cover letter"));
        return new StudyResult(environment(COMMAND), rows, skipped, calls, StudyOptions.CallSettings.QUICK.toString(),
                published, costTable());
    }

    /** {@link #sample()} without per-call costs or published comparisons. */
    static StudyResult withoutCallsOrPublished() {
        StudyResult r = sample();
        return new StudyResult(r.environment(), r.rows(), List.of(), List.of(), null, List.of(), r.costModel());
    }

    /** {@link #sample()} with a NaN median, an infinite projection term and a NaN call ratio. */
    static StudyResult withNonFinite() {
        StudyResult r = sample();
        Row first = r.rows().get(0);
        Map<String, Double> terms = new TreeMap<>(first.projected().attachTerms());
        terms.put("ftrace.core_syncs", Double.POSITIVE_INFINITY);
        Row odd = new Row(first.design(), first.kind(), first.size(), first.n(), first.attached(), first.programs(),
                first.links(), new Phase(new Stats(Double.NaN, Double.NaN, Double.NaN, 1), first.load().events()),
                first.attach(), first.detach(), first.retained(),
                new Projection(first.projected().loadSeconds(), Double.POSITIVE_INFINITY, first.projected().detachSeconds(),
                        terms, first.projected().detachTerms()));
        List<Row> rows = new java.util.ArrayList<>(r.rows());
        rows.set(0, odd);
        List<CallCost> calls = new java.util.ArrayList<>(r.calls());
        calls.set(0, new CallCost("tracing-multi", "fentry", 1, Double.NaN, Double.NaN, Double.NaN, Double.NaN));
        return new StudyResult(r.environment(), rows, r.skipped(), calls, r.callSettings(), r.published(), r.costModel());
    }

    static Environment environment(String command) {
        return new Environment(command, "linux-6.18-x86_64", 70123, "Linux 6.1.0 amd64, 8 processors",
                "OpenJDK 64-Bit Server VM 17.0.15, max heap 2048 MiB, [-Xmx2g]", "2025-06-01T12:00:00Z", 42.5, 3, 1);
    }

    /**
     * One row. Attach counts scale with {@code attached}; classic (per-function trampolines)
     * builds one image per function and waits a tasks-RCU grace period per detach.
     */
    static Row row(String design, String kind, int n, int attached, double detachProjected, double attachMs,
                   double detachMs, double bytesPerFunction) {
        boolean classic = design.equals("classic");
        Map<String, Long> load = new TreeMap<>(Map.of("bpf.prog_load", classic ? (long) attached : 1L,
                "alloc.bpf_prog", classic ? (long) attached : 1L));
        Map<String, Long> attach = new TreeMap<>();
        attach.put("ftrace.text_pokes", (long) attached);
        attach.put("ftrace.core_syncs", classic ? 3L * attached : 3L);
        attach.put("alloc.bpf_tramp_image", classic ? (long) attached : 1L);
        attach.put("bpf.link_create", classic ? (long) attached : 1L);
        if (!classic) {
            attach.put("alloc.kfunc_md", (long) attached);
        }
        Map<String, Long> detach = new TreeMap<>();
        detach.put("ftrace.text_pokes", (long) attached);
        detach.put("free.bpf_tramp_image", classic ? (long) attached : 1L);
        if (classic) {
            detach.put("ftrace.grace_periods_tasks", (long) attached);
        }
        Map<String, Double> attachTerms = new TreeMap<>();
        attach.forEach((e, c) -> attachTerms.put(e, c * unit(e) / 1e9));
        Map<String, Double> detachTerms = new TreeMap<>();
        if (detachProjected > 0) {
            detachTerms.put("ftrace.text_pokes", detachProjected * 0.25);
            detachTerms.put(classic ? "ftrace.grace_periods_tasks" : "free.bpf_tramp_image", detachProjected * 0.75);
        }
        double attachSeconds = attachTerms.values().stream().mapToDouble(Double::doubleValue).sum();
        double loadSeconds = load.getOrDefault("bpf.prog_load", 0L) * 50e-6;
        Map<String, long[]> byType = new LinkedHashMap<>();
        byType.put("bpf_tramp_image", new long[] {classic ? attached : 1, classic ? 4096L * attached : 4096});
        byType.put("kfunc_md", new long[] {classic ? 0 : attached, classic ? 0 : 32L * attached});
        long bytes = Math.round(bytesPerFunction * attached);
        return new Row(design, kind, Integer.toString(n), n, attached, classic ? attached : 1, classic ? attached : 1,
                new Phase(new Stats(attachMs / 10, attachMs / 11, attachMs / 9, 3), load),
                new Phase(new Stats(attachMs, attachMs * 0.9, attachMs * 1.2, 3), attach),
                new Phase(new Stats(detachMs, detachMs * 0.95, detachMs * 1.1, 3), detach),
                new Memory(bytes, classic ? 2L * attached : attached + 2L, bytesPerFunction, byType),
                new Projection(loadSeconds, attachSeconds, detachProjected, attachTerms, detachTerms));
    }

    private static double unit(String event) {
        return switch (event) {
            case "ftrace.text_pokes", "bpf.link_create" -> 1000;
            case "ftrace.core_syncs" -> 8000;
            case "alloc.bpf_tramp_image" -> 10000;
            default -> 100;
        };
    }

    static CostModel.Table costTable() {
        return new CostModel.Table("linux-6.18-x86_64", 3, "Unit costs for <x86-64> & Linux 6.18; two fitted.",
                List.of(new CostModel.EventCost("ftrace.text_pokes", 1000.0, 3.0, false, "text_poke_bp, LPC 2022"),
                        new CostModel.EventCost("ftrace.core_syncs", 8000.0, 3.0, false, "https://example.org/ipi"),
                        new CostModel.EventCost("ftrace.grace_periods_tasks", 1e8, 3.0, false, "rcu tasks docs"),
                        new CostModel.EventCost("alloc.bpf_tramp_image", 10000.0, 3.0, true, "fitted to classic-1000"),
                        new CostModel.EventCost("alloc.*", 100.0, 3.0, false, "slab"),
                        new CostModel.EventCost("free.*", 50.0, 3.0, false, "slab"),
                        new CostModel.EventCost("bpf.prog_load", 50000.0, 3.0, false, "verifier, empty program"),
                        new CostModel.EventCost("bpf.link_create", 1000.0, 3.0, false, "syscall")),
                List.of(new CostModel.ToolCost("bpftrace", 1e9, 2.0, true, "fitted to classic-1000")),
                List.of(new CostModel.Era("before-6.10", "register_ftrace_direct waited synchronize_rcu_tasks",
                        Map.of("ftrace.call_rcu_tasks", "ftrace.grace_periods_tasks"),
                        Map.of("ftrace.ops_registered", "ftrace.grace_periods_rcu"))),
                List.of(new CostModel.Published("classic-1000", "attach fentry to 1,000 functions with bpftrace", "classic",
                        1000, "1000", List.of("load", "attach"), "bpftrace", "before-6.10", 12.0, "fitted",
                        "https://lore.kernel.org/bpf/example")));
    }
}
