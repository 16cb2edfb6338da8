package dev.gtramp.cli;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyResult.PublishedComparison;
import dev.gtramp.study.StudyResult.Row;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** The study's tables on stdout: one row per design, kind and size, the per-call costs, the published numbers. */
final class StudyTable {
    private StudyTable() {
    }

    static void print(StudyResult r, Path out, PrintWriter w) {
        StudyResult.Environment e = r.environment();
        w.printf(Locale.ROOT, "gtramp study on %s (%,d attachable functions), up to %d run(s) per row after a warm-up, seed %d%n%n",
                e.image(), e.functions(), e.repeat(), e.seed());
        w.printf(Locale.ROOT, "%-15s %-8s %8s %21s %21s %11s %11s %8s  %s%n", "design", "kind", "N",
                "model attach ms", "model detach ms", "kernel att", "kernel det", "B/func", "attach dominated by");
        for (Row row : r.rows()) {
            w.printf(Locale.ROOT, "%-15s %-8s %,8d %21s %21s %11s %11s %,8.0f  %s%n", row.design(), row.kind(),
                    row.attached(), range(row.attach().millis()), range(row.detach().millis()),
                    seconds(row.projected().attachSeconds()), seconds(row.projected().detachSeconds()),
                    row.retained().bytesPerFunction(), top(row.projected().attachTerms(), row.projected().attachSeconds()));
        }
        for (StudyResult.Skipped k : r.skipped()) {
            w.printf(Locale.ROOT, "%-15s %-8s %,8d  skipped: %s%n", k.design(), k.kind(), k.n(), k.reason());
        }
        w.println();
        w.println("model ms: median [min-max] of the model's own wall time; kernel: projected kernel time "
                + "(counted events x the cost table's unit costs, " + r.costModel().name() + " v" + r.costModel().version() + ")");
        if (!r.calls().isEmpty()) {
            w.printf(Locale.ROOT, "%nper call (%s)%n", r.callSettings());
            w.printf(Locale.ROOT, "%-15s %-12s %8s %10s %8s %8s%n", "design", "kind", "attached", "ns/call", "ratio",
                    "kernel");
            for (CallCost c : r.calls()) {
                w.printf(Locale.ROOT, "%-15s %-12s %,8d %10.1f %8.2f %8s%n", c.design(), c.kind(), c.attached(),
                        c.nsPerCall(), c.ratio(), c.kernelRatio() == null ? "-" : String.format(Locale.ROOT, "%.2f", c.kernelRatio()));
            }
            w.println("ratio: throughput over per-function fentry with one function attached, in this run; kernel: "
                    + "the same ratio in bench_trigger (v2 cover letter)");
        }
        if (!r.published().isEmpty()) {
            w.printf(Locale.ROOT, "%nprojected against published%n");
            w.printf(Locale.ROOT, "%-28s %-14s %9s %11s %11s %7s  %s%n", "scenario", "design", "functions",
                    "published", "projected", "ratio", "role");
            for (PublishedComparison p : r.published()) {
                w.printf(Locale.ROOT, "%-28s %-14s %,9d %10.3fs %10.3fs %7.2f  %s%n", p.id(), p.design(), p.functions(),
                        p.publishedSeconds(), p.projectedSeconds(), p.ratio(), p.role());
            }
        }
        w.printf(Locale.ROOT, "%nwrote %s: study.json, study.csv, plots (PNG, SVG), report.html%n", out);
    }

    private static String range(StudyResult.Stats s) {
        return String.format(Locale.ROOT, "%s [%s-%s]", num(s.median()), num(s.min()), num(s.max()));
    }

    private static String num(double ms) {
        return ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms) : String.format(Locale.ROOT, "%.2g", ms);
    }

    private static String seconds(double s) {
        return s >= 1 ? String.format(Locale.ROOT, "%.2f s", s)
                : s >= 1e-3 ? String.format(Locale.ROOT, "%.1f ms", s * 1e3) : String.format(Locale.ROOT, "%.0f us", s * 1e6);
    }

    /** The largest term of a projection and its share. */
    private static String top(Map<String, Double> terms, double total) {
        return terms.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(t -> String.format(Locale.ROOT, "%s %.0f%%", t.getKey(), 100 * t.getValue() / total)).orElse("-");
    }
}
