package dev.gtramp.study.report;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyResult.Environment;
import dev.gtramp.study.StudyResult.PublishedComparison;
import dev.gtramp.study.StudyResult.Row;
import dev.gtramp.study.StudyResult.Skipped;
import dev.gtramp.study.StudyResult.Stats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.gtramp.study.report.Html.escape;
import static dev.gtramp.study.report.Html.num;
import static dev.gtramp.study.report.Html.raw;

/**
 * The study's report ({@code report.html}): one self-contained HTML5 page, with its CSS inline and
 * no script or external resource. It states how the study ran (the exact command, machine, JVM,
 * image, functions offered, start, wall time, runs per row, seed); embeds every
 * {@link StudyPlots plot} as a PNG data URI; tabulates the rows (model wall time, projected
 * kernel time, retained memory) and each row's three largest projected attach and detach terms;
 * lists the skipped rows with their reasons, the per-call costs with their JMH settings, the
 * published numbers beside their projections, and the cost table used. All text is escaped.
 */
public final class StudyHtml {
    private static final String CSS = """
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:78em;padding:0 1em;color:#222}
            h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
            table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
            th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
            th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            table.kv th{width:11em}code{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
            figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}
            ol,ul{margin:0;padding-left:1.4em}
            """;

    private StudyHtml() {
    }

    /** The report as one HTML5 document. */
    public static String render(StudyResult r) {
        Environment env = r.environment();
        String title = "gtramp study: attach designs on " + (env == null ? "?" : env.image());
        Html h = new Html();
        h.markup("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.element("title", title);
        h.markup("<style>\n" + CSS + "</style>\n</head>\n<body>\n");
        h.element("h1", title);
        environment(h, env);
        plots(h, r);
        rows(h, r);
        skipped(h, r.skipped() == null ? List.of() : r.skipped());
        calls(h, r);
        published(h, r.published() == null ? List.of() : r.published());
        CostTableHtml.append(h, r.costModel());
        h.markup("</body>\n</html>\n");
        return h.toString();
    }

    /** Writes {@link #render} to {@code file}, UTF-8, atomically (a temporary file renamed over it). */
    public static void write(StudyResult r, Path file) throws IOException {
        AtomicFiles.write(file, render(r));
    }

    private static void environment(Html h, Environment e) {
        h.markup("<section id=\"environment\">\n").element("h2", "How the study ran");
        if (e == null) {
            h.p("The result records no environment.").markup("</section>\n");
            return;
        }
        h.markup("<table class=\"kv\">\n");
        kv(h, "command", "<code>" + escape(e.command()) + "</code>");
        kv(h, "machine", escape(e.machine()));
        kv(h, "JVM", escape(e.jvm()));
        kv(h, "kernel image", escape(e.image()));
        kv(h, "functions offered", escape(Fmt.count(e.functions())) + " traceable functions in the selection");
        kv(h, "started", escape(e.started()));
        kv(h, "wall time", escape(Fmt.seconds(e.seconds())));
        kv(h, "repeat", escape(e.repeat() + " measured run(s) per row, after one warm-up cycle"));
        kv(h, "seed", escape(Long.toString(e.seed())));
        h.markup("</table>\n</section>\n");
    }

    private static void kv(Html h, String key, String valueHtml) {
        h.markup("<tr><th>" + escape(key) + "</th><td>" + valueHtml + "</td></tr>\n");
    }

    private static void plots(Html h, StudyResult r) {
        List<StudyPlots.Plot> plots = StudyPlots.plots(r);
        h.markup("<section id=\"plots\">\n").element("h2", "Plots");
        if (plots.isEmpty()) {
            h.p("The result has no data to plot.");
        }
        for (StudyPlots.Plot p : plots) {
            String data = Base64.getEncoder().encodeToString(StudyPlots.png(p));
            h.markup("<figure id=\"plot-" + escape(p.name()) + "\"><img src=\"data:image/png;base64," + data + "\" alt=\""
                    + escape(p.title()) + "\" width=\"" + p.chart().getWidth() + "\" height=\"" + p.chart().getHeight()
                    + "\"><figcaption>" + escape(p.title()) + " (" + escape(p.name()) + ".png, " + escape(p.name())
                    + ".svg)</figcaption></figure>\n");
        }
        h.markup("</section>\n");
    }

    private static void rows(Html h, StudyResult r) {
        List<Row> rows = r.rows() == null ? List.of() : r.rows();
        h.markup("<section id=\"rows\">\n").element("h2", "Attach, detach and memory by design and size");
        if (rows.isEmpty()) {
            h.p("The study measured no row.").markup("</section>\n");
            return;
        }
        h.p("Model: the model's own wall time, milliseconds, median [min–max] over the measured runs. "
                + "Projected: the kernel time the cost table gives the counted events. "
                + "Retained: kernel memory held after the attach, per function attached.");
        List<List<?>> cells = new ArrayList<>();
        for (Row row : rows) {
            cells.add(Html.cells(row.design(), row.kind(), row.size(),
                    num(row.attached() == row.n() ? Fmt.count(row.attached())
                            : Fmt.count(row.attached()) + " of " + Fmt.count(row.n())),
                    num(Fmt.count(row.programs())), num(Fmt.count(row.links())),
                    num(range(row.attach() == null ? null : row.attach().millis())),
                    num(range(row.detach() == null ? null : row.detach().millis())),
                    num(row.projected() == null ? "–" : Fmt.seconds(row.projected().loadSeconds())),
                    num(row.projected() == null ? "–" : Fmt.seconds(row.projected().attachSeconds())),
                    num(row.projected() == null ? "–" : Fmt.seconds(row.projected().detachSeconds())),
                    num(row.retained() == null ? "–" : Fmt.sig(row.retained().bytesPerFunction()))));
        }
        h.table("rows", List.of("design", "kind", "size", "attached", "programs", "links", "model attach ms",
                "model detach ms", "projected load", "projected attach", "projected detach", "retained B/function"), cells);
        h.element("h3", "What dominates the projected time");
        h.p("The three largest terms (counted events × unit cost) of each row's projected attach and detach time, "
                + "with their share of the phase's total.");
        List<List<?>> terms = new ArrayList<>();
        for (Row row : rows) {
            terms.add(Html.cells(row.design(), row.kind(), row.size(),
                    top(row.projected() == null ? null : row.projected().attachTerms(),
                            row.projected() == null ? 0 : row.projected().attachSeconds()),
                    top(row.projected() == null ? null : row.projected().detachTerms(),
                            row.projected() == null ? 0 : row.projected().detachSeconds())));
        }
        h.table("terms", List.of("design", "kind", "size", "largest attach terms", "largest detach terms"), terms);
        h.markup("</section>\n");
    }

    private static String range(Stats s) {
        if (s == null) {
            return "–";
        }
        return Fmt.sig(s.median()) + " [" + Fmt.sig(s.min()) + "–" + Fmt.sig(s.max()) + "]";
    }

    /** The three largest terms as an ordered list. */
    private static Html.Raw top(Map<String, Double> terms, double total) {
        if (terms == null || terms.isEmpty()) {
            return raw("–");
        }
        StringBuilder b = new StringBuilder("<ol>");
        terms.entrySet().stream().filter(t -> t.getValue() != null)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(3)
                .forEach(t -> b.append("<li><code>").append(escape(t.getKey())).append("</code> ")
                        .append(escape(Fmt.seconds(t.getValue()))).append(" (")
                        .append(escape(Fmt.share(t.getValue(), total))).append(")</li>"));
        return raw(b.append("</ol>").toString());
    }

    private static void skipped(Html h, List<Skipped> skipped) {
        h.markup("<section id=\"skipped\">\n").element("h2", "Skipped rows");
        if (skipped.isEmpty()) {
            h.p("No row was skipped.");
        } else {
            List<List<?>> cells = new ArrayList<>();
            for (Skipped s : skipped) {
                cells.add(Html.cells(s.design(), s.kind(), s.size(), num(Fmt.count(s.n())),
                        num(Fmt.seconds(s.predictedSeconds())), s.reason()));
            }
            h.table("skipped", List.of("design", "kind", "size", "functions", "predicted model time per cycle", "reason"),
                    cells);
        }
        h.markup("</section>\n");
    }

    private static void calls(Html h, StudyResult r) {
        List<CallCost> calls = r.calls() == null ? List.of() : r.calls();
        h.markup("<section id=\"calls\">\n").element("h2", "Per-call cost");
        if (calls.isEmpty()) {
            h.p("Per-call costs were not measured in this study.").markup("</section>\n");
            return;
        }
        h.p("Measured with " + (r.callSettings() == null ? "unrecorded JMH settings" : r.callSettings())
                + ". ns/call: the model's mean time per call ± JMH's 99.9% error. Ratio: throughput relative to "
                + "per-function fentry with one function attached in the same run (fentry ns / this ns). "
                + "Kernel ratio: the same ratio in the kernel's bench_trigger, where it has the case.");
        List<List<?>> cells = new ArrayList<>();
        for (CallCost c : calls) {
            cells.add(Html.cells(c.design(), c.kind(), num(c.attached() == 1 ? "1" : "all (" + Fmt.count(c.attached()) + ")"),
                    num(Fmt.sig(c.nsPerCall()) + " ± " + Fmt.sig(c.error())), num(Fmt.sig(c.ratio())),
                    num(c.kernelRatio() == null ? "–" : Fmt.sig(c.kernelRatio()))));
        }
        h.table("calls", List.of("design", "kind", "attached", "ns/call", "ratio", "kernel ratio"), cells);
        h.markup("</section>\n");
    }

    private static void published(Html h, List<PublishedComparison> published) {
        h.markup("<section id=\"published\">\n").element("h2", "Projections beside published numbers");
        if (published.isEmpty()) {
            h.p("No published scenario was run in this study.").markup("</section>\n");
            return;
        }
        long fitted = published.stream().filter(p -> "fitted".equals(p.role())).count();
        h.p(String.format(Locale.ROOT, "Fitted rows (%d) were used to fit the cost table's free parameters, so their "
                + "agreement is by construction; held-out rows (%d) are predictions. Ratio: projected / published.",
                fitted, published.size() - fitted));
        List<List<?>> cells = new ArrayList<>();
        for (PublishedComparison p : published) {
            cells.add(Html.cells(p.id(), p.what(), p.design(), num(Fmt.count(p.functions())),
                    num(Fmt.count(p.modelFunctions())), num(Fmt.seconds(p.publishedSeconds())),
                    num(Fmt.seconds(p.projectedSeconds())), num(Fmt.sig(p.ratio())), p.role(), p.includes(),
                    Html.linked(p.source())));
        }
        h.table("published", List.of("id", "what", "design", "functions", "model functions", "published", "projected",
                "ratio", "role", "includes", "source"), cells);
        h.markup("</section>\n");
    }
}
