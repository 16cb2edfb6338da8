package dev.gtramp.study.report;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import dev.gtramp.study.StudyResult;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The study's JSON ({@code study.json}): the {@link StudyResult} as it is, pretty-printed, its
 * field names the records' component names, absent values written as {@code null}. A number that
 * is NaN or infinite is written as {@code null}, so that every standard JSON parser accepts the
 * file; read back, such a {@code null} becomes NaN where the field is a primitive {@code double}
 * and stays null where it is a {@code Double} ({@link StudyResult.CallCost#kernelRatio()}).
 * Text is not HTML-escaped ({@code <} stays {@code <}).
 */
public final class StudyJson {
    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .serializeNulls()
            .registerTypeAdapter(double.class, new FiniteOrNull(true))
            .registerTypeAdapter(Double.class, new FiniteOrNull(false))
            .create();

    private StudyJson() {
    }

    /** The result as pretty-printed JSON, one object with the {@link StudyResult}'s components. */
    public static String toJson(StudyResult result) {
        return GSON.toJson(result);
    }

    /**
     * Writes {@link #toJson} to {@code file}, UTF-8, atomically: through a temporary file in the
     * same directory renamed over {@code file}, so an interrupted run leaves the previous complete
     * file or the new one, never a part.
     */
    public static void write(StudyResult result, Path file) throws IOException {
        AtomicFiles.write(file, toJson(result) + "\n");
    }

    /**
     * Reads a result written by {@link #toJson} (for tests and tools).
     *
     * @throws JsonParseException if {@code json} is not JSON of a study result
     */
    public static StudyResult fromJson(String json) {
        StudyResult r = GSON.fromJson(json, StudyResult.class);
        if (r == null) {
            throw new JsonParseException("empty JSON, not a study result");
        }
        return r;
    }

    /**
     * An error as one JSON object, {@code {"error": {"errno": "EINVAL", "message": "..."}}}, for a
     * study that failed before it had a result.
     *
     * @param errno   the errno's name, e.g. {@code EINVAL}
     * @param message what went wrong
     */
    public static String error(String errno, String message) {
        JsonObject inner = new JsonObject();
        inner.addProperty("errno", errno);
        inner.addProperty("message", message);
        JsonObject outer = new JsonObject();
        outer.add("error", inner);
        return GSON.toJson(outer);
    }

    /** Writes NaN and infinities as null; reads null as NaN (primitive) or null (boxed). */
    private static final class FiniteOrNull extends TypeAdapter<Double> {
        private final boolean primitive;

        FiniteOrNull(boolean primitive) {
            this.primitive = primitive;
        }

        @Override
        public void write(JsonWriter out, Double value) throws IOException {
            if (value == null || !Double.isFinite(value)) {
                out.nullValue();
            } else {
                out.value(value.doubleValue());
            }
        }

        @Override
        public Double read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return primitive ? Double.NaN : null;
            }
            return in.nextDouble();
        }
    }
}
