package dev.gtramp.stress.gate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The result tables of a verbose jcstress log ({@code -v}), per test and JVM configuration.
 *
 * <p>jcstress 0.16 prints two kinds of block, each opened by a verdict line
 * ({@code ...... [OK] dev.gtramp.stress.rcu.QsbrGracePeriodTest}):
 * <ul>
 *   <li>while it runs, one block per test, JVM configuration and fork: the configuration's
 *       {@code JVM args: [...]} and {@code Fork: #n} lines, then a table of that fork's results;</li>
 *   <li>after the {@code RUN RESULTS:} line, one block per test with a table under
 *       {@code Results across all configurations:}.</li>
 * </ul>
 * A table is a header line ({@code RESULT  SAMPLES  FREQ  EXPECT  DESCRIPTION}) and one row per
 * outcome up to the next blank line:
 * <pre>
 *   RESULT  SAMPLES     FREQ      EXPECT  DESCRIPTION
 *       .*        0    0.00%   Forbidden  a fault, a stray KASAN report, or no race
 *     0, 0   14,421   79.23%  Acceptable  the reader found gp already NULL
 *     1, 1    3,780   20.77%   Forbidden  use after free: the callback freed object 1 under the reader
 * </pre>
 * A row is an observed result (its samples, and the grade of the {@code @Outcome} it matched) or a
 * declared {@code @Outcome} id that matched nothing ({@code .*} above, with 0 samples). The
 * description is cut at about 60 characters. Anything else inside a table is a parse error: the
 * gate would rather fail than miss a row.
 */
public final class JcstressLog {

    /** The configuration key of the summary tables. */
    public static final String ALL_CONFIGURATIONS = "(all configurations)";

    private static final Pattern VERDICT =
            Pattern.compile("^[ .-]*\\[(OK|FAILED|ERROR|TIMEOUT|VM ERROR|SKIPPED)] (\\S+)\\s*$");
    private static final Pattern JVM_ARGS = Pattern.compile("^\\s*JVM args: (.*?)\\s*$");
    private static final Pattern FORK = Pattern.compile("^\\s*Fork: #(\\d+)\\s*$");
    private static final Pattern ACROSS = Pattern.compile("^\\s*Results across all configurations:\\s*$");
    private static final Pattern HEADER = Pattern.compile("^\\s*RESULT\\s+SAMPLES\\s+FREQ\\s+EXPECT\\s+DESCRIPTION\\s*$");
    /**
     * A row: the id (which never holds a {@code %}: the first "samples freq% grade" from the left
     * ends it), the samples (grouped as the locale groups them), the frequency, the grade.
     */
    private static final Pattern ROW = Pattern.compile(
            "^\\s*([^%]+?)\\s+(\\d[\\d,.'\\u00a0\\u202f]*)\\s+([<>]?\\d+[.,]\\d+%)\\s+(Acceptable|Interesting|Forbidden|Unknown)(?:\\s+(.*?))?\\s*$");
    private static final Pattern RUN_RESULTS = Pattern.compile("^RUN RESULTS:\\s*$");

    /** A jcstress grade, as the table prints it. */
    public enum Expect {
        ACCEPTABLE("Acceptable"), INTERESTING("Interesting"), FORBIDDEN("Forbidden"), UNKNOWN("Unknown");

        final String label;

        Expect(String label) {
            this.label = label;
        }

        static Expect of(String label) {
            for (Expect e : values()) {
                if (e.label.equals(label)) {
                    return e;
                }
            }
            throw new IllegalArgumentException(label);
        }

        /** Acceptable or interesting: what a correct implementation may show. */
        public boolean acceptable() {
            return this == ACCEPTABLE || this == INTERESTING;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** One row of a table: an outcome id, its samples and grade, and the (cut) description. */
    public record Row(String id, long samples, Expect expect, String description) {
    }

    /** Everything the log says about one test. */
    public static final class TestResults {
        private final String name;
        private String verdict;
        /** Per configuration (JVM args), the rows of its forks summed per id, in log order. */
        private final Map<String, Map<String, Row>> configurations = new LinkedHashMap<>();
        /** The summary table, or null if the log has none. */
        private Map<String, Row> total;

        TestResults(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** The verdict of the summary section, or of the last run block if the summary has none; null if none. */
        public String verdict() {
            return verdict;
        }

        /** The rows per configuration (forks summed), keyed by the configuration's {@code JVM args}. */
        public Map<String, Map<String, Row>> configurations() {
            return Collections.unmodifiableMap(configurations);
        }

        /** The rows of jcstress's summary over all configurations, or null if the log has none. */
        public Map<String, Row> total() {
            return total == null ? null : Collections.unmodifiableMap(total);
        }

        /** The rows of every configuration summed per id. */
        public Map<String, Row> summed() {
            Map<String, Row> sum = new LinkedHashMap<>();
            configurations.values().forEach(rows -> rows.values().forEach(r -> add(sum, r, name)));
            return sum;
        }

        /** The samples of one configuration. */
        public static long samples(Map<String, Row> rows) {
            return rows.values().stream().mapToLong(Row::samples).sum();
        }
    }

    private final Map<String, TestResults> tests;

    private JcstressLog(Map<String, TestResults> tests) {
        this.tests = tests;
    }

    /** The tests the log has results or a verdict for, by name, in log order. */
    public Map<String, TestResults> tests() {
        return Collections.unmodifiableMap(tests);
    }

    public static JcstressLog read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    /**
     * Parses a log.
     *
     * @throws IllegalArgumentException at a line inside a table that is not a row, a table outside a
     *     test's block or without its configuration, or a row whose grade differs from the same
     *     outcome's grade in another fork of the configuration
     */
    public static JcstressLog parse(List<String> lines) {
        Map<String, TestResults> tests = new LinkedHashMap<>();
        boolean summary = false;
        TestResults current = null;
        String config = null;
        boolean forked = false;
        Map<String, Row> table = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = "line " + (i + 1);
            if (table != null) {
                if (line.isBlank()) {
                    table = null;
                    continue;
                }
                Matcher row = ROW.matcher(line);
                if (!row.matches()) {
                    throw new IllegalArgumentException(where + ": not a result row in " + current.name
                            + "'s table: " + line.strip());
                }
                Row r = new Row(row.group(1), Long.parseLong(row.group(2).replaceAll("\\D", "")),
                        Expect.of(row.group(4)), row.group(5) == null ? "" : row.group(5));
                if (table.containsKey(r.id())) {
                    throw new IllegalArgumentException(where + ": " + current.name + "'s table has "
                            + r.id() + " twice");
                }
                table.put(r.id(), r);
                continue;
            }
            if (RUN_RESULTS.matcher(line).matches()) {
                summary = true;
                current = null;
                continue;
            }
            Matcher m = VERDICT.matcher(line);
            if (m.matches()) {
                current = tests.computeIfAbsent(m.group(2), TestResults::new);
                if (summary || current.verdict == null || current.total == null) {
                    current.verdict = m.group(1);
                }
                config = null;
                forked = false;
                continue;
            }
            if (current == null) {
                if (HEADER.matcher(line).matches()) {
                    throw new IllegalArgumentException(where + ": a result table outside a test's block");
                }
                continue;
            }
            if ((m = JVM_ARGS.matcher(line)).matches()) {
                config = m.group(1);
                forked = false;
            } else if (FORK.matcher(line).matches()) {
                forked = true;
            } else if (ACROSS.matcher(line).matches()) {
                config = ALL_CONFIGURATIONS;
            } else if (HEADER.matcher(line).matches()) {
                if (summary) {
                    if (!ALL_CONFIGURATIONS.equals(config)) {
                        throw new IllegalArgumentException(where + ": " + current.name
                                + "'s summary table does not follow 'Results across all configurations:'");
                    }
                    if (current.total != null) {
                        throw new IllegalArgumentException(where + ": a second summary table for " + current.name);
                    }
                    current.total = new LinkedHashMap<>();
                    table = current.total;
                } else {
                    if (config == null || ALL_CONFIGURATIONS.equals(config) || !forked) {
                        throw new IllegalArgumentException(where + ": " + current.name
                                + "'s result table does not follow its 'JVM args:' and 'Fork:' lines");
                    }
                    // A fork's table: summed into its configuration below, at its end.
                    table = new ForkTable(current, config);
                }
            }
        }
        return new JcstressLog(tests);
    }

    /** A fork's rows: each put is added to its configuration's rows at once. */
    private static final class ForkTable extends LinkedHashMap<String, Row> {
        private final TestResults test;
        private final Map<String, Row> rows;

        ForkTable(TestResults test, String config) {
            this.test = test;
            this.rows = test.configurations.computeIfAbsent(config, c -> new LinkedHashMap<>());
        }

        @Override
        public Row put(String id, Row row) {
            add(rows, row, test.name);
            return super.put(id, row);
        }
    }

    private static void add(Map<String, Row> sum, Row row, String test) {
        Row old = sum.get(row.id());
        if (old == null) {
            sum.put(row.id(), row);
        } else if (old.expect() != row.expect()) {
            throw new IllegalArgumentException(test + ": outcome " + row.id() + " is graded " + old.expect()
                    + " in one table and " + row.expect() + " in another");
        } else {
            sum.put(row.id(), new Row(row.id(), old.samples() + row.samples(), row.expect(), old.description()));
        }
    }

    /** The rows, for messages: {@code id (samples)} of every row with samples, most first. */
    public static String describe(Iterable<Row> rows) {
        List<Row> seen = new ArrayList<>();
        rows.forEach(r -> {
            if (r.samples() > 0) {
                seen.add(r);
            }
        });
        seen.sort((a, b) -> Long.compare(b.samples(), a.samples()));
        List<String> parts = new ArrayList<>();
        seen.forEach(r -> parts.add(r.id() + " (" + String.format(java.util.Locale.ROOT, "%,d", r.samples()) + ")"));
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }
}
