package dev.gtramp.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The JSON settings of every {@code --json} output: pretty-printed, stable key order, no HTML escaping. */
final class Json {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
            .serializeSpecialFloatingPointValues().create();

    private Json() {
    }

    static String write(Object value) {
        return GSON.toJson(value);
    }
}
