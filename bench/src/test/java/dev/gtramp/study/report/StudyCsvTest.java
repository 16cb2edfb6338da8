package dev.gtramp.study.report;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.Row;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StudyCsvTest {
    static final List<String> FIXED = List.of("design", "kind", "size", "n", "attached", "programs", "links",
            "load_ms_median", "load_ms_min", "load_ms_max", "load_runs",
            "attach_ms_median", "attach_ms_min", "attach_ms_max", "attach_runs",
            "detach_ms_median", "detach_ms_min", "detach_ms_max", "detach_runs",
            "projected_load_s", "projected_attach_s", "projected_detach_s",
            "retained_bytes", "retained_objects", "retained_bytes_per_function");

    record Parsed(List<String> header, List<CSVRecord> records) {
    }

    static Parsed parse(Reader csv) throws IOException {
        try (CSVParser p = CSVParser.parse(csv, CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get())) {
            return new Parsed(p.getHeaderNames(), p.getRecords());
        }
    }

    static Parsed parse(StudyResult r) throws IOException {
        StringBuilder out = new StringBuilder();
        StudyCsv.write(r, out);
        return parse(new StringReader(out.toString()));
    }

    @Test
    void headerHasTheFixedColumnsThenTheSortedUnionOfEvents() throws IOException {
        Parsed p = parse(StudyFixtures.sample());
        assertEquals(FIXED, p.header().subList(0, FIXED.size()));
        List<String> events = p.header().subList(FIXED.size(), p.header().size());
        List<String> sorted = new ArrayList<>(events);
        sorted.sort(null);
        assertEquals(sorted, events);
        assertTrue(events.contains("attach.ftrace.text_pokes"));
        assertTrue(events.contains("attach.alloc.kfunc_md"), "counted by tracing-multi only");
        assertTrue(events.contains("detach.ftrace.grace_periods_tasks"), "counted by classic only");
        assertTrue(events.contains("load.bpf.prog_load"));
        assertEquals(StudyCsv.header(StudyFixtures.sample()), p.header());
    }

    @Test
    void oneRecordPerRowWithItsValues() throws IOException {
        StudyResult r = StudyFixtures.sample();
        Parsed p = parse(r);
        assertEquals(r.rows().size(), p.records().size());
        for (int i = 0; i < r.rows().size(); i++) {
            Row row = r.rows().get(i);
            CSVRecord rec = p.records().get(i);
            assertEquals(p.header().size(), rec.size());
            assertEquals(row.design(), rec.get("design"));
            assertEquals(row.kind(), rec.get("kind"));
            assertEquals(row.size(), rec.get("size"));
            assertEquals(row.n(), Integer.parseInt(rec.get("n")));
            assertEquals(row.attached(), Integer.parseInt(rec.get("attached")));
            assertEquals(row.attach().millis().runs(), Integer.parseInt(rec.get("attach_runs")));
            assertEquals(row.attach().millis().max(), Double.parseDouble(rec.get("attach_ms_max")));
            assertEquals(row.projected().attachSeconds(), Double.parseDouble(rec.get("projected_attach_s")));
            assertEquals(row.projected().detachSeconds(), Double.parseDouble(rec.get("projected_detach_s")));
            assertEquals(row.retained().bytes(), Long.parseLong(rec.get("retained_bytes")));
            assertEquals(row.retained().bytesPerFunction(), Double.parseDouble(rec.get("retained_bytes_per_function")));
            assertEquals(row.attach().events().get("ftrace.text_pokes"), Long.parseLong(rec.get("attach.ftrace.text_pokes")));
            long graceperiods = row.detach().events().getOrDefault("ftrace.grace_periods_tasks", 0L);
            assertEquals(graceperiods, Long.parseLong(rec.get("detach.ftrace.grace_periods_tasks")));
        }
        assertEquals("0", p.records().get(0).get("detach.ftrace.grace_periods_tasks"), "a row lacking an event has 0");
        assertEquals("0", p.records().get(2).get("attach.alloc.kfunc_md"));
    }

    @Test
    void numbersHaveNoGroupingNoExponentAndAPointWhateverTheLocale() throws IOException {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        Parsed p;
        try {
            p = parse(StudyFixtures.sample());
        } finally {
            Locale.setDefault(before);
        }
        CSVRecord classic1000 = p.records().get(3);
        assertEquals("4141700", classic1000.get("retained_bytes"));
        assertEquals("0.00005", p.records().get(0).get("projected_load_s"));
        for (CSVRecord rec : p.records()) {
            for (String column : p.header().subList(3, p.header().size())) {
                String v = rec.get(column);
                assertTrue(v.matches("-?[0-9]+(\\.[0-9]+)?"), column + " = " + v);
            }
        }
    }

    @Test
    void nonFiniteValuesAreEmptyCells() throws IOException {
        Parsed p = parse(StudyFixtures.withNonFinite());
        assertEquals("", p.records().get(0).get("load_ms_median"));
        assertEquals("", p.records().get(0).get("projected_attach_s"));
    }

    @Test
    void writesAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("study.csv");
        StudyCsv.write(StudyFixtures.sample(), file);
        assertTrue(Files.size(file) > 0);
        Parsed p;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p = parse(r);
        }
        assertEquals(4, p.records().size());
        assertFalse(Files.readString(file).contains("<script>alert"), "the command is not part of the CSV");
    }

    @Test
    void aResultWithoutRowsHasTheFixedHeaderOnly() throws IOException {
        StudyResult r = StudyFixtures.sample();
        Parsed p = parse(new StudyResult(r.environment(), List.of(), r.skipped(), r.calls(), r.callSettings(),
                r.published(), r.costModel()));
        assertEquals(FIXED, p.header());
        assertEquals(0, p.records().size());
    }
}
