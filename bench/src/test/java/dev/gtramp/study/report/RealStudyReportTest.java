package dev.gtramp.study.report;

import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.study.StudyDesigns;
import dev.gtramp.study.StudyOptions;
import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyRunner;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every report written from a real, tiny study on the Linux 6.18 image. */
class RealStudyReportTest {
    static final List<String> DESIGNS = List.of("tracing-multi", "global-hash");

    @TempDir
    static Path dir;
    static StudyResult result;

    @BeforeAll
    static void runTheStudyAndWriteEveryReport() throws Exception {
        StudyOptions o = new StudyOptions(DESIGNS, List.of("100", "300"), List.of(BpfTrampKind.FENTRY), null, List.of(), 0, 1,
                1, null, null, false, 0);
        result = new StudyRunner(StudyDesigns.load(), request -> List.of()).run(o, "gtramp study test <&> --sizes 100,300",
                new StudyRunner.Listener() {
                });
        StudyJson.write(result, dir.resolve("study.json"));
        StudyCsv.write(result, dir.resolve("study.csv"));
        StudyPlots.write(result, dir);
        StudyHtml.write(result, dir.resolve("report.html"));
    }

    @Test
    void theStudyRanEveryDesignAndSize() {
        assertEquals(4, result.rows().size());
        assertEquals(Set.of("tracing-multi/100", "tracing-multi/300", "global-hash/100", "global-hash/300"),
                result.rows().stream().map(r -> r.design() + "/" + r.size()).collect(Collectors.toSet()));
        assertTrue(result.calls().isEmpty());
        assertTrue(result.published().isEmpty());
    }

    @Test
    void theJsonRoundTrips() throws Exception {
        String json = Files.readString(dir.resolve("study.json"), StandardCharsets.UTF_8);
        StudyJsonTest.parseStrict(json);
        StudyResult back = StudyJson.fromJson(json);
        assertEquals(result.rows().size(), back.rows().size());
        for (int i = 0; i < back.rows().size(); i++) {
            StudyJsonTest.assertAllNonNull(back.rows().get(i), "rows[" + i + "]");
            assertEquals(result.rows().get(i).attach().events(), back.rows().get(i).attach().events());
            assertEquals(result.rows().get(i).projected(), back.rows().get(i).projected());
        }
        assertEquals(result.environment(), back.environment());
        assertEquals(result.costModel(), back.costModel());
        assertEquals(StudyJson.toJson(result), StudyJson.toJson(back));
    }

    @Test
    void theCsvHasOneRecordPerRowAndEveryCountedEvent() throws Exception {
        StudyCsvTest.Parsed p;
        try (Reader r = Files.newBufferedReader(dir.resolve("study.csv"), StandardCharsets.UTF_8)) {
            p = StudyCsvTest.parse(r);
        }
        assertEquals(StudyCsvTest.FIXED, p.header().subList(0, StudyCsvTest.FIXED.size()));
        assertEquals(result.rows().size(), p.records().size());
        for (int i = 0; i < result.rows().size(); i++) {
            StudyResult.Row row = result.rows().get(i);
            var rec = p.records().get(i);
            assertEquals(row.attached(), Integer.parseInt(rec.get("attached")));
            assertEquals(row.projected().attachSeconds(), Double.parseDouble(rec.get("projected_attach_s")));
            row.attach().events().forEach((e, c) -> assertEquals(c, Long.parseLong(rec.get("attach." + e)), e));
            row.detach().events().forEach((e, c) -> assertEquals(c, Long.parseLong(rec.get("detach." + e)), e));
        }
    }

    @Test
    void thePlotsAreWrittenAsPngAndSvg() throws Exception {
        List<String> names = StudyPlotsTest.names(result);
        assertEquals(List.of("attach-time", "detach-time", "memory-per-function"), names);
        for (String name : names) {
            assertTrue(StudyPlotsTest.isPng(Files.readAllBytes(dir.resolve(name + ".png"))), name);
            assertTrue(StudyPlotsTest.isSvg(Files.readAllBytes(dir.resolve(name + ".svg"))), name);
        }
        assertFalse(Files.exists(dir.resolve("call-cost.png")));
        assertFalse(Files.exists(dir.resolve("projected-vs-published.png")));
    }

    @Test
    void theReportIsWellFormed() throws Exception {
        Document doc = StudyHtmlTest.assertWellFormedReport(result);
        assertEquals(StudyHtml.render(result), Files.readString(dir.resolve("report.html"), StandardCharsets.UTF_8));
        for (String d : DESIGNS) {
            assertTrue(doc.select("#rows").text().contains(d), d);
        }
        assertEquals("gtramp study test <&> --sizes 100,300", doc.select("#environment code").text());
        assertTrue(doc.select("#calls").text().contains("not measured"));
    }
}
