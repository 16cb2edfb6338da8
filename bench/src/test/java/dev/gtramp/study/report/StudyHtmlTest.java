package dev.gtramp.study.report;

import dev.gtramp.study.CostModel;
import dev.gtramp.study.StudyResult;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.parser.Parser;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StudyHtmlTest {
    /** Parses the report, asserting that the parser found no error. */
    static Document parse(String html) {
        Parser parser = Parser.htmlParser().setTrackErrors(50);
        Document doc = Jsoup.parse(html, "", parser);
        assertEquals(List.of(), List.copyOf(parser.getErrors()), "HTML parse errors");
        return doc;
    }

    /** The checks every report must pass, for any result. */
    static Document assertWellFormedReport(StudyResult r) {
        Document doc = parse(StudyHtml.render(r));
        assertFalse(doc.title().isBlank(), "a <title>");
        assertTrue(doc.text().contains(r.environment().command()), "the exact command");
        List<StudyPlots.Plot> plots = StudyPlots.plots(r);
        Elements imgs = doc.select("img");
        assertEquals(plots.size(), imgs.size(), "one <img> per plot");
        for (int i = 0; i < plots.size(); i++) {
            Element img = imgs.get(i);
            assertEquals(plots.get(i).title(), img.attr("alt"));
            String src = img.attr("src");
            assertTrue(src.startsWith("data:image/png;base64,"), src.substring(0, Math.min(40, src.length())));
            byte[] png = Base64.getDecoder().decode(src.substring("data:image/png;base64,".length()));
            assertTrue(StudyPlotsTest.isPng(png), "the data URI is a PNG");
        }
        assertTrue(doc.select("script, link, iframe, object, embed").isEmpty(), "no script or external resource");
        for (StudyResult.Row row : r.rows()) {
            assertTrue(doc.select("#rows").text().contains(row.design()), row.design());
        }
        for (StudyResult.PublishedComparison p : r.published()) {
            assertTrue(doc.select("#published").text().contains(p.id()), p.id());
        }
        for (CostModel.EventCost e : r.costModel().events()) {
            assertTrue(doc.select("#cost-model").text().contains(e.event()), e.event());
        }
        return doc;
    }

    @Test
    void sampleReport() {
        StudyResult r = StudyFixtures.sample();
        Document doc = assertWellFormedReport(r);
        assertEquals(5, doc.select("img").size());
        String text = doc.text();
        assertTrue(text.contains(r.environment().machine()));
        assertTrue(text.contains(r.environment().jvm()));
        assertTrue(text.contains("70,123"), "functions offered");
        assertTrue(text.contains(r.environment().started()));
        assertTrue(text.contains(r.callSettings()), "the JMH settings");
        assertTrue(text.contains("Fitted rows") && text.contains("held-out rows"));
        assertTrue(doc.select("#skipped").text().contains(r.skipped().get(0).reason()));
        assertTrue(doc.select("#cost-model").text().contains("bpftrace"));
        assertTrue(doc.select("#cost-model").text().contains("before-6.10"));
        assertTrue(doc.select("#cost-model").text().contains("ftrace.call_rcu_tasks priced as ftrace.grace_periods_tasks"));
        assertTrue(doc.select("#cost-model").text().contains("ftrace.ops_registered also pays ftrace.grace_periods_rcu"));
        assertTrue(doc.select("#cost-model").text().contains("Unit costs for <x86-64> & Linux 6.18"));
        assertEquals(4, doc.select("#rows table.rows tbody tr").size());
        assertEquals(5, doc.select("#calls tbody tr").size());
        assertEquals(2, doc.select("#published tbody tr").size());
        assertFalse(doc.select("#published a[href=https://lore.kernel.org/bpf/example]").isEmpty(), "a source is a link");
    }

    @Test
    void markupInTheCommandIsText() {
        String html = StudyHtml.render(StudyFixtures.sample());
        assertFalse(html.contains("<script>"), "the command's markup is escaped");
        Document doc = parse(html);
        assertTrue(doc.select("script").isEmpty());
        assertEquals(StudyFixtures.COMMAND, doc.select("#environment code").first().text());
    }

    @Test
    void theLargestTermsOfEachRowAreShown() {
        Document doc = parse(StudyHtml.render(StudyFixtures.sample()));
        Elements rows = doc.select("#rows table.terms tbody tr");
        assertEquals(4, rows.size());
        Element classic1000 = rows.get(3);
        Elements attachTerms = classic1000.select("td").get(3).select("li");
        assertEquals(3, attachTerms.size(), "three largest of five terms");
        assertTrue(attachTerms.get(0).text().startsWith("ftrace.core_syncs"), attachTerms.get(0).text());
        assertTrue(attachTerms.get(1).text().startsWith("alloc.bpf_tramp_image"), attachTerms.get(1).text());
        assertTrue(classic1000.select("td").get(4).text().contains("ftrace.grace_periods_tasks"));
    }

    @Test
    void nullKernelRatioAndNotMeasuredCalls() {
        Document doc = assertWellFormedReport(StudyFixtures.sample());
        Element noKernel = doc.select("#calls tbody tr").get(1);
        assertEquals("–", noKernel.select("td").last().text());
        assertTrue(noKernel.text().contains("all (1,000)"));

        Document without = assertWellFormedReport(StudyFixtures.withoutCallsOrPublished());
        assertTrue(without.select("#calls").text().contains("Per-call costs were not measured"));
        assertTrue(without.select("#published").text().contains("No published scenario"));
        assertEquals(3, without.select("img").size());
    }

    @Test
    void nonFiniteNumbersDoNotBreakTheReport() {
        assertWellFormedReport(StudyFixtures.withNonFinite());
    }

    @Test
    void writesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.html");
        StudyHtml.write(StudyFixtures.sample(), file);
        String html = Files.readString(file, StandardCharsets.UTF_8);
        assertEquals(StudyHtml.render(StudyFixtures.sample()).length(), html.length());
        assertTrue(html.startsWith("<!DOCTYPE html>"));
    }
}
