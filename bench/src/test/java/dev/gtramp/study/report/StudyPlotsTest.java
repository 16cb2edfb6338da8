package dev.gtramp.study.report;

import dev.gtramp.study.StudyResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StudyPlotsTest {
    static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    static boolean isPng(byte[] bytes) {
        return bytes.length > PNG_MAGIC.length && Arrays.equals(PNG_MAGIC, Arrays.copyOf(bytes, PNG_MAGIC.length));
    }

    static boolean isSvg(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        return s.startsWith("<?xml") || s.contains("<svg");
    }

    static List<String> names(StudyResult r) {
        return StudyPlots.plots(r).stream().map(StudyPlots.Plot::name).toList();
    }

    @Test
    void everyPlotWithData() {
        assertEquals(List.of("attach-time", "detach-time", "memory-per-function", "call-cost", "projected-vs-published"),
                names(StudyFixtures.sample()));
        for (StudyPlots.Plot p : StudyPlots.plots(StudyFixtures.sample())) {
            assertFalse(p.title().isBlank());
            assertNotNull(p.chart().getXAxisTitle());
            assertFalse(p.chart().getYAxisTitle().isBlank());
        }
    }

    @Test
    void noCallOrPublishedPlotWithoutThem(@TempDir Path dir) throws Exception {
        StudyResult r = StudyFixtures.withoutCallsOrPublished();
        assertEquals(List.of("attach-time", "detach-time", "memory-per-function"), names(r));
        List<Path> files = StudyPlots.write(r, dir);
        assertEquals(6, files.size());
        assertFalse(Files.exists(dir.resolve("call-cost.png")));
        assertFalse(Files.exists(dir.resolve("projected-vs-published.svg")));
    }

    @Test
    void noRowsNoPlots() {
        StudyResult r = StudyFixtures.withoutCallsOrPublished();
        assertEquals(List.of(), names(new StudyResult(r.environment(), List.of(), List.of(), List.of(), null, List.of(),
                r.costModel())));
    }

    @Test
    void writesAPngAndAnSvgPerPlot(@TempDir Path dir) throws Exception {
        StudyResult r = StudyFixtures.sample();
        List<Path> files = StudyPlots.write(r, dir.resolve("plots"));
        List<String> names = names(r);
        assertEquals(2 * names.size(), files.size());
        for (String name : names) {
            Path png = dir.resolve("plots").resolve(name + ".png");
            Path svg = dir.resolve("plots").resolve(name + ".svg");
            assertTrue(files.contains(png) && files.contains(svg), name);
            assertTrue(isPng(Files.readAllBytes(png)), name + ".png is a PNG");
            assertTrue(isSvg(Files.readAllBytes(svg)), name + ".svg is an SVG");
        }
        try (Stream<Path> all = Files.list(dir.resolve("plots"))) {
            assertEquals(files.size(), all.count(), "no temporary file is left");
        }
    }

    @Test
    void modelSolidProjectedDashedSameColourAndLogAxes() {
        StudyPlots.Plot attach = StudyPlots.plots(StudyFixtures.sample()).get(0);
        XYChart chart = (XYChart) attach.chart();
        assertTrue(chart.getStyler().isXAxisLogarithmic());
        assertTrue(chart.getStyler().isYAxisLogarithmic());
        XYSeries model = chart.getSeriesMap().get("classic model");
        XYSeries projected = chart.getSeriesMap().get("classic projected");
        assertEquals(SeriesLines.SOLID, model.getLineStyle());
        assertEquals(SeriesLines.DASH_DASH, projected.getLineStyle());
        assertEquals(model.getLineColor(), projected.getLineColor());
        assertFalse(model.getLineColor().equals(chart.getSeriesMap().get("tracing-multi model").getLineColor()));
        assertArrayEquals(new double[] {100, 998}, model.getXData());
        assertEquals(0.035, model.getYData()[0], 1e-12);
        assertEquals(4, chart.getSeriesMap().size());
    }

    @Test
    void pointsALogAxisCannotShowAreLeftOut() {
        StudyPlots.Plot detach = StudyPlots.plots(StudyFixtures.sample()).get(1);
        XYSeries projected = ((XYChart) detach.chart()).getSeriesMap().get("tracing-multi projected");
        assertArrayEquals(new double[] {1000}, projected.getXData(), "the zero at 100 functions is left out");
        assertTrue(isPng(StudyPlots.png(detach)));
        StudyResult odd = StudyFixtures.withNonFinite();
        for (StudyPlots.Plot p : StudyPlots.plots(odd)) {
            assertTrue(isPng(StudyPlots.png(p)), p.name());
            assertTrue(isSvg(StudyPlots.svg(p)), p.name());
        }
    }

    @Test
    void severalKindsGetASeriesEach() {
        StudyResult r = StudyFixtures.withoutCallsOrPublished();
        List<StudyResult.Row> rows = new java.util.ArrayList<>(r.rows());
        rows.add(StudyFixtures.row("classic", "fexit", 100, 100, 3.0, 40.0, 22.0, 4300));
        StudyResult kinds = new StudyResult(r.environment(), rows, List.of(), List.of(), null, List.of(), r.costModel());
        XYChart chart = (XYChart) StudyPlots.plots(kinds).get(0).chart();
        assertTrue(chart.getSeriesMap().containsKey("classic fexit model"));
        assertTrue(chart.getSeriesMap().containsKey("classic fentry projected"));
        assertEquals(chart.getSeriesMap().get("classic fexit model").getLineColor(),
                chart.getSeriesMap().get("classic fentry model").getLineColor(), "one colour per design");
    }

    @Test
    void callCostDistinguishesOneFromAllAttachedAndIncludesNop() {
        StudyPlots.Plot calls = StudyPlots.plots(StudyFixtures.sample()).get(3);
        var chart = (org.knowm.xchart.CategoryChart) calls.chart();
        List<?> categories = new java.util.ArrayList<>(chart.getSeriesMap().get("model").getXData());
        assertTrue(categories.contains("tracing-multi fentry, 1 fn"), categories.toString());
        assertTrue(categories.contains("tracing-multi fentry, all 1000 fn"), categories.toString());
        assertTrue(categories.contains("nop kernel-count, 1 fn"), categories.toString());
        List<?> kernel = new java.util.ArrayList<>(chart.getSeriesMap().get("kernel (bench_trigger)").getYData());
        assertEquals(5, kernel.size());
        assertEquals(null, kernel.get(1), "no kernel ratio for that case");
    }

    @Test
    void publishedSplitsFittedFromHeldOut() {
        StudyPlots.Plot p = StudyPlots.plots(StudyFixtures.sample()).get(4);
        XYChart chart = (XYChart) p.chart();
        assertArrayEquals(new double[] {12.0}, chart.getSeriesMap().get("fitted").getXData());
        assertArrayEquals(new double[] {1.3}, chart.getSeriesMap().get("held-out").getYData());
        assertTrue(chart.getStyler().isXAxisLogarithmic() && chart.getStyler().isYAxisLogarithmic());
    }
}
