package dev.gtramp.study.report;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyResult.PublishedComparison;
import dev.gtramp.study.StudyResult.Row;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The study's plots, drawn with XChart, each only when the result has data for it:
 * <ul>
 *   <li>{@code attach-time}, {@code detach-time}: log-log, functions attached against seconds, per
 *       design (and kind, when the study ran several) the model's median wall time (solid) and
 *       the projected kernel time (dashed, same colour);</li>
 *   <li>{@code memory-per-function}: functions attached (log) against retained bytes per function;</li>
 *   <li>{@code call-cost}: per design, kind and attached count the per-call throughput ratio to
 *       per-function fentry, beside bench_trigger's where it has the case;</li>
 *   <li>{@code projected-vs-published}: log-log, published seconds against projected seconds per
 *       published scenario, fitted and held-out apart, with the line where they agree.</li>
 * </ul>
 * Points a logarithmic axis cannot show (zero, negative, NaN) are left out, and so is a series left
 * without points.
 */
public final class StudyPlots {
    /** Plot size, pixels. */
    static final int WIDTH = 800;
    static final int HEIGHT = 500;

    private static final List<Color> PALETTE = List.of(new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf));

    /**
     * One plot.
     *
     * @param name  the file name without extension, e.g. {@code attach-time}
     * @param title what it shows, also the HTML report's alt text
     * @param chart the chart (mutable XChart object; render it, do not share it between threads)
     */
    public record Plot(String name, String title, Chart<?, ?> chart) {
    }

    private StudyPlots() {
    }

    /** Every plot {@code result} has data for, in the order listed in the class comment. */
    public static List<Plot> plots(StudyResult result) {
        List<Plot> out = new ArrayList<>();
        List<Row> rows = result.rows() == null ? List.of() : result.rows();
        boolean kinds = rows.stream().map(Row::kind).distinct().count() > 1;
        Map<String, Color> colours = colours(rows, result.calls());
        timePlot("attach-time", "Attach time against functions attached", rows, kinds, colours,
                r -> r.attach() == null ? Double.NaN : r.attach().millis().median() / 1e3,
                r -> r.projected() == null ? Double.NaN : r.projected().attachSeconds()).ifPresent(out::add);
        timePlot("detach-time", "Detach time against functions attached", rows, kinds, colours,
                r -> r.detach() == null ? Double.NaN : r.detach().millis().median() / 1e3,
                r -> r.projected() == null ? Double.NaN : r.projected().detachSeconds()).ifPresent(out::add);
        memoryPlot(rows, kinds, colours).ifPresent(out::add);
        callPlot(result.calls() == null ? List.of() : result.calls()).ifPresent(out::add);
        publishedPlot(result.published() == null ? List.of() : result.published()).ifPresent(out::add);
        return out;
    }

    /** The plot as PNG. */
    public static byte[] png(Plot plot) {
        try {
            return BitmapEncoder.getBitmapBytes(plot.chart(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The plot as SVG (VectorGraphics2D). */
    public static byte[] svg(Plot plot) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            VectorGraphicsEncoder.saveVectorGraphic(plot.chart(), out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes {@code <name>.png} and {@code <name>.svg} of every plot into {@code dir} (created if
     * missing), each atomically.
     *
     * @return the files written, PNG then SVG for each plot
     */
    public static List<Path> write(StudyResult result, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Plot p : plots(result)) {
            Path png = dir.resolve(p.name() + ".png");
            AtomicFiles.write(png, png(p));
            written.add(png);
            Path svg = dir.resolve(p.name() + ".svg");
            AtomicFiles.write(svg, svg(p));
            written.add(svg);
        }
        return written;
    }

    /** One colour per design, in the order the designs first appear. */
    private static Map<String, Color> colours(List<Row> rows, List<CallCost> calls) {
        Set<String> designs = new LinkedHashSet<>();
        rows.forEach(r -> designs.add(r.design()));
        if (calls != null) {
            calls.forEach(c -> designs.add(c.design()));
        }
        Map<String, Color> m = new LinkedHashMap<>();
        for (String d : designs) {
            m.put(d, PALETTE.get(m.size() % PALETTE.size()));
        }
        return m;
    }

    /** Rows grouped by design (and kind), in order of first appearance. */
    private static Map<String, List<Row>> groups(List<Row> rows, boolean kinds) {
        Map<String, List<Row>> g = new LinkedHashMap<>();
        for (Row r : rows) {
            g.computeIfAbsent(kinds ? r.design() + " " + r.kind() : r.design(), k -> new ArrayList<>()).add(r);
        }
        return g;
    }

    private static Optional<Plot> timePlot(String name, String title, List<Row> rows, boolean kinds,
                                                     Map<String, Color> colours, ToDoubleFunction<Row> model,
                                                     ToDoubleFunction<Row> projected) {
        XYChart chart = xyChart(title, "functions attached", "time (s)", true);
        int series = 0;
        for (Map.Entry<String, List<Row>> g : groups(rows, kinds).entrySet()) {
            Color c = colours.get(g.getValue().get(0).design());
            series += line(chart, g.getKey() + " model", g.getValue(), model, c, SeriesLines.SOLID, true) ? 1 : 0;
            series += line(chart, g.getKey() + " projected", g.getValue(), projected, c, SeriesLines.DASH_DASH, true)
                    ? 1 : 0;
        }
        return series == 0 ? Optional.empty()
                : Optional.of(new Plot(name, title + " (model wall time solid, projected kernel time dashed)",
                chart));
    }

    private static Optional<Plot> memoryPlot(List<Row> rows, boolean kinds, Map<String, Color> colours) {
        String title = "Kernel memory retained per function attached";
        XYChart chart = xyChart(title, "functions attached", "retained bytes per function", false);
        int series = 0;
        for (Map.Entry<String, List<Row>> g : groups(rows, kinds).entrySet()) {
            Color c = colours.get(g.getValue().get(0).design());
            series += line(chart, g.getKey(), g.getValue(),
                    r -> r.retained() == null ? Double.NaN : r.retained().bytesPerFunction(), c, SeriesLines.SOLID, false)
                    ? 1 : 0;
        }
        return series == 0 ? Optional.empty() : Optional.of(new Plot("memory-per-function", title, chart));
    }

    private static Optional<Plot> callPlot(List<CallCost> calls) {
        if (calls.isEmpty()) {
            return Optional.empty();
        }
        List<String> categories = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        List<Double> kernel = new ArrayList<>();
        boolean anyKernel = false;
        for (CallCost c : calls) {
            String label = c.design() + " " + c.kind() + (c.attached() == 0 ? ", NOP site"
                    : c.attached() == 1 ? ", 1 fn" : ", all " + c.attached() + " fn");
            String unique = label;
            for (int i = 2; categories.contains(unique); i++) {
                unique = label + " #" + i;
            }
            categories.add(unique);
            ratios.add(finiteOrNull(c.ratio()));
            Double k = c.kernelRatio() == null ? null : finiteOrNull(c.kernelRatio());
            kernel.add(k);
            anyKernel |= k != null;
        }
        String title = "Per-call throughput relative to per-function fentry with 1 function attached";
        CategoryChart chart = new CategoryChart(Math.max(WIDTH, Math.min(2400, 30 * categories.size())), HEIGHT + 100);
        chart.setTitle(title);
        chart.setXAxisTitle("design, kind, functions attached while measuring");
        chart.setYAxisTitle("throughput ratio (fentry ns / ns)");
        style(chart.getStyler());
        chart.getStyler().setXAxisLabelRotation(60);
        chart.getStyler().setAvailableSpaceFill(0.8);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        CategorySeries model = chart.addSeries("model", categories, ratios);
        model.setFillColor(PALETTE.get(0));
        if (anyKernel) {
            CategorySeries k = chart.addSeries("kernel (bench_trigger)", categories, kernel);
            k.setFillColor(PALETTE.get(3));
        }
        return Optional.of(new Plot("call-cost", title, chart));
    }

    private static Optional<Plot> publishedPlot(List<PublishedComparison> published) {
        String title = "Projected kernel time against published time";
        XYChart chart = xyChart(title, "published time (s)", "projected time (s)", true);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(10);
        Map<String, List<PublishedComparison>> byRole = new LinkedHashMap<>();
        byRole.put("fitted", new ArrayList<>());
        byRole.put("held-out", new ArrayList<>());
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (PublishedComparison p : published) {
            if (p.publishedSeconds() > 0 && p.projectedSeconds() > 0 && Double.isFinite(p.publishedSeconds())
                    && Double.isFinite(p.projectedSeconds())) {
                byRole.computeIfAbsent(p.role() == null ? "unknown" : p.role(), k -> new ArrayList<>()).add(p);
                lo = Math.min(lo, Math.min(p.publishedSeconds(), p.projectedSeconds()));
                hi = Math.max(hi, Math.max(p.publishedSeconds(), p.projectedSeconds()));
            }
        }
        if (hi == 0) {
            return Optional.empty();
        }
        XYSeries agree = chart.addSeries("projected = published", new double[] {lo / 2, hi * 2},
                new double[] {lo / 2, hi * 2});
        agree.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        agree.setMarker(SeriesMarkers.NONE);
        agree.setLineColor(Color.GRAY);
        agree.setLineStyle(SeriesLines.DASH_DASH);
        int i = 0;
        for (Map.Entry<String, List<PublishedComparison>> role : byRole.entrySet()) {
            List<PublishedComparison> ps = role.getValue();
            Color c = PALETTE.get(i++ % PALETTE.size());
            if (ps.isEmpty()) {
                continue;
            }
            XYSeries s = chart.addSeries(role.getKey(), ps.stream().map(PublishedComparison::publishedSeconds).toList(),
                    ps.stream().map(PublishedComparison::projectedSeconds).toList());
            s.setMarker(role.getKey().equals("fitted") ? SeriesMarkers.SQUARE : SeriesMarkers.CIRCLE);
            s.setMarkerColor(c);
            for (PublishedComparison p : ps) {
                chart.addAnnotation(new AnnotationText(p.id(), p.publishedSeconds(), p.projectedSeconds() * 1.25, false));
            }
        }
        return Optional.of(new Plot("projected-vs-published", title + " per published scenario (fitted and held-out)",
                chart));
    }

    private static XYChart xyChart(String title, String x, String y, boolean logY) {
        XYChart chart = new XYChart(WIDTH, HEIGHT);
        chart.setTitle(title);
        chart.setXAxisTitle(x);
        chart.setYAxisTitle(y);
        style(chart.getStyler());
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(6);
        return chart;
    }

    private static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setPlotBorderVisible(true);
        s.setPlotGridLinesVisible(true);
        s.setAntiAlias(true);
    }

    /**
     * Adds one series of {@code rows} (x = functions attached) if it has a point an axis can show;
     * returns whether it did.
     */
    private static boolean line(XYChart chart, String name, List<Row> rows, ToDoubleFunction<Row> y, Color c,
                                BasicStroke stroke, boolean logY) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        rows.stream().sorted(Comparator.comparingInt(Row::attached)).forEach(r -> {
            double v = y.applyAsDouble(r);
            if (r.attached() > 0 && Double.isFinite(v) && (!logY || v > 0)) {
                xs.add((double) r.attached());
                ys.add(v);
            }
        });
        if (xs.isEmpty()) {
            return false;
        }
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setLineColor(c);
        s.setMarkerColor(c);
        s.setLineStyle(stroke);
        s.setMarker(stroke == SeriesLines.SOLID ? SeriesMarkers.CIRCLE : SeriesMarkers.DIAMOND);
        return true;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
