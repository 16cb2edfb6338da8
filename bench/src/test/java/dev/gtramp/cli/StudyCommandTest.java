package dev.gtramp.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gtramp study} as a user runs it, through the same picocli setup as the launcher. */
class StudyCommandTest {
    /** Every field a row of the JSON has. */
    private static final List<String> ROW_FIELDS = List.of("design", "kind", "size", "n", "attached", "programs", "links",
            "load", "attach", "detach", "retained", "projected");

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = GtrampCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A small study: two designs, the 23 ksys_* functions, no JMH. */
    private static Run small(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("study", "--designs", "tracing-multi,global-hash",
                "--match", "ksys_*", "--sizes", "5,all", "--repeat", "2", "--no-calls", "--out", out.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void theTableAndEveryReportFileAreWritten(@TempDir Path dir) {
        Run r = small(dir);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("tracing-multi"), r.out());
        assertTrue(r.out().contains("global-hash"), r.out());
        assertTrue(r.out().contains("kernel att"), r.out());
        for (String f : List.of("study.json", "study.csv", "report.html", "attach-time.png", "attach-time.svg",
                "detach-time.png", "memory-per-function.png")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f + " in " + dir);
        }
    }

    @Test
    void theJsonHasEveryDesignSizeAndField(@TempDir Path dir) throws IOException {
        Run r = small(dir, "--json");
        assertEquals(0, r.exit(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray rows = o.getAsJsonArray("rows");
        Set<String> seen = new HashSet<>();
        for (JsonElement e : rows) {
            JsonObject row = e.getAsJsonObject();
            for (String f : ROW_FIELDS) {
                assertTrue(row.has(f) && !row.get(f).isJsonNull(), f + " in " + row);
            }
            for (String phase : List.of("load", "attach", "detach")) {
                JsonObject p = row.getAsJsonObject(phase);
                assertTrue(p.getAsJsonObject("millis").get("median").getAsDouble() >= 0);
                assertEquals(2, p.getAsJsonObject("millis").get("runs").getAsInt());
                assertFalse(p.getAsJsonObject("events").entrySet().isEmpty(), phase);
            }
            assertTrue(row.getAsJsonObject("projected").get("attachSeconds").getAsDouble() > 0);
            seen.add(row.get("design").getAsString() + "/" + row.get("size").getAsString());
        }
        assertEquals(Set.of("tracing-multi/5", "tracing-multi/all", "global-hash/5", "global-hash/all"), seen);
        String command = o.getAsJsonObject("environment").get("command").getAsString();
        assertTrue(command.startsWith("gtramp study --designs tracing-multi,global-hash --match 'ksys_*' --sizes"), command);
        assertTrue(o.getAsJsonObject("costModel").getAsJsonArray("events").size() > 10);
        assertEquals(JsonParser.parseString(Files.readString(dir.resolve("study.json"))).getAsJsonObject()
                .getAsJsonArray("rows").size(), rows.size());
    }

    @Test
    void theCsvParsesWithOneRecordPerRow(@TempDir Path dir) throws IOException {
        Run r = small(dir, "--csv");
        assertEquals(0, r.exit(), r.err());
        try (CSVParser p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(r.out()))) {
            List<CSVRecord> records = p.getRecords();
            assertEquals(4, records.size());
            assertTrue(p.getHeaderNames().contains("attach.ftrace.text_pokes"), p.getHeaderNames().toString());
            for (CSVRecord rec : records) {
                assertTrue(Integer.parseInt(rec.get("attached")) > 0);
                assertTrue(Double.parseDouble(rec.get("projected_attach_s")) > 0);
            }
        }
        assertEquals(r.out().replace("\r\n", "\n"), Files.readString(dir.resolve("study.csv")).replace("\r\n", "\n"));
    }

    private static void assertOneLineError(Run r, int exit, String... fragments) {
        assertEquals(exit, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), r.err());
        }
    }

    @Test
    void anUnknownDesignListsTheKnownOnes(@TempDir Path dir) {
        assertOneLineError(run("study", "--designs", "global", "--out", dir.toString()), 1,
                "EINVAL", "unknown design 'global'", "classic, single-ops, tracing-multi, global-hash, global-padding");
    }

    @Test
    void sizesBeyondTheSelectionAreERANGE(@TempDir Path dir) {
        assertOneLineError(run("study", "--designs", "classic", "--match", "ksys_*", "--sizes", "100", "--no-calls",
                "--out", dir.toString()), 1, "ERANGE", "size 100 exceeds the 23 attachable functions");
    }

    @Test
    void aMalformedCostTableNamesTheField(@TempDir Path dir) throws IOException {
        Path table = dir.resolve("costs.json");
        Files.writeString(table, "{\"name\": \"x\", \"version\": 1, \"description\": \"d\", \"events\": [{\"event\": "
                + "\"ftrace.text_pokes\", \"uncertainty\": 2, \"fitted\": false, \"source\": \"s\"}]}");
        assertOneLineError(run("study", "--cost-model", table.toString(), "--out", dir.resolve("o").toString()), 1,
                "EINVAL", "events[0] (ftrace.text_pokes).unitNs is missing");
        assertOneLineError(run("study", "--cost-model", dir.resolve("none.json").toString(), "--out",
                dir.resolve("o").toString()), 1, "ENOENT");
    }

    @Test
    void anUnwritableOutIsNamedBeforeAnythingRuns(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertOneLineError(run("study", "--out", file.resolve("sub").toString()), 1, "--out", "is not a writable directory");
    }

    @Test
    void errorsAreJsonWithJson(@TempDir Path dir) {
        Run r = run("study", "--designs", "nope", "--json", "--out", dir.toString());
        assertEquals(1, r.exit());
        JsonObject error = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonObject("error");
        assertEquals("EINVAL", error.get("errno").getAsString());
        assertTrue(error.get("message").getAsString().contains("unknown design 'nope'"));
    }

    @Test
    void optionsThatExcludeEachOtherExitWithTwo(@TempDir Path dir) {
        assertOneLineError(run("study", "--quick", "--full", "--out", dir.toString()), 2, "--quick and --full");
        assertOneLineError(run("study", "--kinds", "kprobe", "--out", dir.toString()), 1, "unknown program kind 'kprobe'");
    }
}
