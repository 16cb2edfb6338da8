package dev.gtramp.study.report;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StudyJsonTest {

    /** Parses {@code json} as strict, standard JSON (no NaN, no unquoted names, no trailing data). */
    static JsonElement parseStrict(String json) throws IOException {
        JsonReader reader = new JsonReader(new StringReader(json));
        reader.setStrictness(Strictness.STRICT);
        JsonElement e = new Gson().getAdapter(JsonElement.class).read(reader);
        assertEquals(com.google.gson.stream.JsonToken.END_DOCUMENT, reader.peek(), "trailing data after the JSON");
        return e;
    }

    /** Asserts that every component of a record, and of the records inside it, is non-null. */
    static void assertAllNonNull(Object record, String path) throws ReflectiveOperationException {
        assertNotNull(record, path);
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            Object v = c.getAccessor().invoke(record);
            assertNotNull(v, path + "." + c.getName());
            if (v.getClass().isRecord()) {
                assertAllNonNull(v, path + "." + c.getName());
            }
        }
    }

    @Test
    void roundTripsEveryRowAndField() throws Exception {
        StudyResult r = StudyFixtures.sample();
        String json = StudyJson.toJson(r);
        StudyResult back = StudyJson.fromJson(json);

        assertEquals(r.rows().size(), back.rows().size());
        for (int i = 0; i < r.rows().size(); i++) {
            Row a = r.rows().get(i);
            Row b = back.rows().get(i);
            assertAllNonNull(b, "rows[" + i + "]");
            assertEquals(a.design(), b.design());
            assertEquals(a.n(), b.n());
            assertEquals(a.attached(), b.attached());
            assertEquals(a.attach(), b.attach());
            assertEquals(a.projected(), b.projected());
            assertEquals(a.retained().bytes(), b.retained().bytes());
            assertEquals(a.retained().byType().keySet(), b.retained().byType().keySet());
            assertEquals(a.retained().byType().get("kfunc_md")[1], b.retained().byType().get("kfunc_md")[1]);
        }
        assertEquals(r.environment(), back.environment());
        assertEquals(r.skipped(), back.skipped());
        assertEquals(r.calls(), back.calls());
        assertEquals(r.published(), back.published());
        assertEquals(r.costModel(), back.costModel());
        assertEquals(r.callSettings(), back.callSettings());
        assertEquals(json, StudyJson.toJson(back), "writing what was read gives the same JSON");
    }

    @Test
    void fieldNamesAreRecordComponentNamesAndNullsAreWritten() throws Exception {
        StudyResult r = StudyFixtures.withoutCallsOrPublished();
        JsonObject o = parseStrict(StudyJson.toJson(r)).getAsJsonObject();
        List<String> names = Stream.of(StudyResult.class.getRecordComponents()).map(RecordComponent::getName).toList();
        assertEquals(names, List.copyOf(o.keySet()));
        assertTrue(o.get("callSettings").isJsonNull());
        JsonObject row = o.getAsJsonArray("rows").get(0).getAsJsonObject();
        assertEquals(Stream.of(Row.class.getRecordComponents()).map(RecordComponent::getName).toList(),
                List.copyOf(row.keySet()));
        assertEquals(3L, row.getAsJsonObject("attach").getAsJsonObject("events").get("ftrace.core_syncs").getAsLong());
    }

    @Test
    void isStandardJsonWithTheCommandUnescaped() throws Exception {
        String json = StudyJson.toJson(StudyFixtures.sample());
        assertTrue(JsonParser.parseString(json).isJsonObject());
        JsonObject o = parseStrict(json).getAsJsonObject();
        assertEquals(StudyFixtures.COMMAND, o.getAsJsonObject("environment").get("command").getAsString());
        assertTrue(json.contains("<script>"), "no HTML escaping in the JSON");
        JsonObject noKernel = o.getAsJsonArray("calls").get(1).getAsJsonObject();
        assertTrue(noKernel.has("kernelRatio") && noKernel.get("kernelRatio").isJsonNull());
    }

    @Test
    void nonFiniteNumbersBecomeNullNotNaN() throws Exception {
        StudyResult r = StudyFixtures.withNonFinite();
        String json = StudyJson.toJson(r);
        assertFalse(json.contains("NaN"), json);
        assertFalse(json.contains("Infinity"), json);
        JsonObject o = parseStrict(json).getAsJsonObject();
        JsonObject row = o.getAsJsonArray("rows").get(0).getAsJsonObject();
        assertTrue(row.getAsJsonObject("load").getAsJsonObject("millis").get("median").isJsonNull());
        assertTrue(row.getAsJsonObject("projected").get("attachSeconds").isJsonNull());
        assertTrue(row.getAsJsonObject("projected").getAsJsonObject("attachTerms").get("ftrace.core_syncs").isJsonNull());

        StudyResult back = StudyJson.fromJson(json);
        assertTrue(Double.isNaN(back.rows().get(0).load().millis().median()));
        assertTrue(Double.isNaN(back.rows().get(0).projected().attachSeconds()));
        assertNull(back.calls().get(0).kernelRatio());
        assertEquals(r.calls().get(2).kernelRatio(), back.calls().get(2).kernelRatio());
        assertEquals(r.rows().get(1).projected(), back.rows().get(1).projected());
    }

    @Test
    void errorIsOneObjectWithErrnoAndMessage() throws Exception {
        String message = "unknown design 'x<y>'; known \"designs\": classic\nand more";
        JsonObject o = parseStrict(StudyJson.error("EINVAL", message)).getAsJsonObject();
        assertEquals(List.of("error"), List.copyOf(o.keySet()));
        JsonObject e = o.getAsJsonObject("error");
        assertEquals("EINVAL", e.get("errno").getAsString());
        assertEquals(message, e.get("message").getAsString());
    }

    @Test
    void writeReplacesTheFileWholeAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("out/study.json");
        StudyJson.write(StudyFixtures.withoutCallsOrPublished(), file);
        StudyJson.write(StudyFixtures.sample(), file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertEquals(StudyJson.toJson(StudyFixtures.sample()) + "\n", text);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void fromJsonRefusesWhatIsNotAResult() {
        assertThrows(RuntimeException.class, () -> StudyJson.fromJson(""));
        assertThrows(RuntimeException.class, () -> StudyJson.fromJson("{\"rows\": 3}"));
    }
}
