package dev.gtramp.stress.gate;

import dev.gtramp.stress.gate.JcstressLog.Expect;
import dev.gtramp.stress.gate.JcstressLog.Row;
import dev.gtramp.stress.gate.JcstressLog.TestResults;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * Decides whether a pass of the jcstress suite proved anything, from jcstress's verbose log and the
 * annotations of the tests it ran. {@code stress/run-jcstress} runs it after each pass:
 * <pre>
 *   java -cp jcstress.jar dev.gtramp.stress.gate.JcstressGate --pass tests|broken \
 *       --log tests.log --list tests.list --min-samples 100 [--starved-out FILE] [--subset]
 * </pre>
 * It prints one line per listed test, then a summary, and exits with 0 if every test passed, 3 if
 * the only failures were starved tests ({@link Verdict#starved}: too few samples; their names go to
 * {@code --starved-out}), 1 on any other failure, 2 on bad arguments or an unreadable log.
 * {@code --subset} judges a part of a pass, the starved tests run again: the known gaps need not all
 * be among them.
 *
 * <p>Every listed test must have run, in every JVM configuration the pass ran, with at least
 * {@code --min-samples} samples in each, and jcstress's summary over all configurations must be the
 * sum of the configurations' tables (so that no table was missed). Then:
 * <ul>
 *   <li>A test ({@code tests} pass, name ending in {@code Test}) must be graded OK, show no forbidden
 *       or unknown outcome, and show its {@link RacyOutcome} at least once: a test that never raced
 *       proves nothing.</li>
 *   <li>A broken twin ({@code broken} pass, name ending in {@code Broken}) is caught only if its
 *       {@link CaughtBy} outcome occurred, graded FORBIDDEN; other forbidden outcomes (the catch-all
 *       row, a stuck writer, a harness outcome) do not count. Its own {@code @Description} must name
 *       that outcome. A twin annotated {@link KnownGap} and listed in {@link #KNOWN_GAPS} that was
 *       not caught is reported as a LISTED KNOWN GAP and does not fail the pass; the annotation and
 *       the list must agree exactly.</li>
 * </ul>
 *
 * <p>Over 400 lines: the verdict types and the command line sit with the judging they report; the
 * log parsing is {@link JcstressLog}. {@code judgeOne}'s checks are the next thing to split out.
 */
public final class JcstressGate {

    /**
     * The broken twins known not to be caught in the bounded run, each also annotated
     * {@link KnownGap}. Temporary: an entry goes when its twin becomes catchable, and the list may
     * never grow past {@link #MAX_KNOWN_GAPS}.
     */
    public static final List<String> KNOWN_GAPS = List.of(
            "dev.gtramp.stress.gtramp.KfuncMdPutV2KillEarlyBroken");

    /** The most {@link #KNOWN_GAPS} there may be: the one of today. Lower it as it goes; never raise it. */
    public static final int MAX_KNOWN_GAPS = 1;

    /** The two passes of run-jcstress. */
    public enum Pass {
        TESTS("Test"), BROKEN("Broken");

        final String suffix;

        Pass(String suffix) {
            this.suffix = suffix;
        }

        static Pass of(String name) {
            return switch (name) {
                case "tests" -> TESTS;
                case "broken" -> BROKEN;
                default -> throw new IllegalArgumentException("--pass must be tests or broken, not " + name);
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How a test came out. */
    public enum Status {
        /** A test whose racy outcome occurred. */
        RACED("raced"),
        /** A broken twin whose documented outcome occurred. */
        CAUGHT("caught"),
        /** A listed known gap whose documented outcome did not occur. */
        KNOWN_GAP("LISTED KNOWN GAP"),
        FAILED("FAILED");

        final String label;

        Status(String label) {
            this.label = label;
        }
    }

    /**
     * The judgement of one test: its status, and what the line about it says. A failed test is
     * {@code starved} if it collected too few samples in some configuration and failed for nothing
     * else but, perhaps, an outcome it was to show and did not: worth running again with a longer
     * budget, on a machine that starved it.
     */
    public record Verdict(String test, Status status, String detail, boolean starved) {
        Verdict(String test, Status status, String detail) {
            this(test, status, detail, false);
        }

        public boolean failed() {
            return status == Status.FAILED;
        }
    }

    /** The judgement of a pass. */
    public record Report(Pass pass, List<Verdict> verdicts, List<String> problems) {
        /** Whether the pass failed: a test failed, or a problem not tied to one test (the known-gap list). */
        public boolean failed() {
            return !problems.isEmpty() || verdicts.stream().anyMatch(Verdict::failed);
        }

        public long count(Status status) {
            return verdicts.stream().filter(v -> v.status == status).count();
        }

        /** Whether the pass failed only by {@link Verdict#starved} tests. */
        public boolean onlyStarved() {
            return failed() && problems.isEmpty() && verdicts.stream().filter(Verdict::failed).allMatch(Verdict::starved);
        }

        public List<String> starved() {
            return verdicts.stream().filter(v -> v.failed() && v.starved()).map(Verdict::test).toList();
        }

        void print(PrintStream out) {
            String prefix = "gate: " + pass + ": ";
            int width = Arrays.stream(Status.values()).mapToInt(s -> s.label.length()).max().orElse(0);
            for (Verdict v : verdicts) {
                out.printf("%s%-" + width + "s %s: %s%n", prefix, v.status.label, v.test, v.detail);
            }
            for (String p : problems) {
                out.println(prefix + "FAILED " + p);
            }
            StringBuilder summary = new StringBuilder(prefix);
            summary.append(pass == Pass.TESTS ? count(Status.RACED) + " raced" : count(Status.CAUGHT) + " caught");
            if (pass == Pass.BROKEN) {
                List<String> gaps = verdicts.stream().filter(v -> v.status == Status.KNOWN_GAP)
                        .map(Verdict::test).toList();
                summary.append(", ").append(gaps.size()).append(" LISTED KNOWN GAPS");
                if (!gaps.isEmpty()) {
                    summary.append(" (").append(String.join(", ", gaps)).append(')');
                }
            }
            summary.append(", ").append(count(Status.FAILED)).append(" failed, of ").append(verdicts.size());
            if (!problems.isEmpty()) {
                summary.append("; ").append(problems.size()).append(" other problems");
            }
            summary.append(failed() ? ": FAILED" : ": OK");
            out.println(summary);
        }
    }

    private JcstressGate() {
    }

    public static void main(String[] args) {
        Pass pass = null;
        Path log = null;
        Path list = null;
        long minSamples = -1;
        Path starvedOut = null;
        boolean subset = false;
        try {
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--pass" -> pass = Pass.of(Objects.requireNonNull(value, "--pass needs a value"));
                    case "--log" -> log = Path.of(Objects.requireNonNull(value, "--log needs a file"));
                    case "--list" -> list = Path.of(Objects.requireNonNull(value, "--list needs a file"));
                    case "--min-samples" -> minSamples = Long.parseLong(Objects.requireNonNull(value, "--min-samples needs a number"));
                    case "--starved-out" -> starvedOut = Path.of(Objects.requireNonNull(value, "--starved-out needs a file"));
                    case "--subset" -> {
                        subset = true;
                        i--;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
                i++;
            }
            if (pass == null || log == null || list == null || minSamples < 1) {
                throw new IllegalArgumentException("usage: JcstressGate --pass tests|broken --log FILE --list FILE"
                        + " --min-samples N (N >= 1) [--starved-out FILE] [--subset]");
            }
        } catch (RuntimeException e) {
            System.err.println("gate: " + e.getMessage());
            System.exit(2);
            return;
        }
        Report report;
        try {
            List<String> names = Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
            report = judge(pass, names, JcstressLog.read(log), JcstressGate::load, minSamples, KNOWN_GAPS, subset);
            if (starvedOut != null) {
                Files.write(starvedOut, report.starved(), StandardCharsets.UTF_8);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("gate: " + pass + ": cannot judge " + log + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        report.print(System.out);
        System.exit(!report.failed() ? 0 : report.onlyStarved() ? 3 : 1);
    }

    /** Loads a test class without initializing it (some build a kernel image statically). */
    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, JcstressGate.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /**
     * Judges a pass.
     *
     * @param listed the tests the pass selected (the jar's list), each of which must have run
     * @param classes a test's class by name, or null if there is none
     * @param knownGaps the listed known gaps ({@link #KNOWN_GAPS}; a parameter for the unit tests)
     * @param subset whether {@code listed} is a part of the pass (tests run again): the known gaps
     *     need not all be among them
     */
    public static Report judge(Pass pass, List<String> listed, JcstressLog log, Function<String, Class<?>> classes,
                               long minSamples, List<String> knownGaps, boolean subset) {
        // Every configuration any test of the pass ran in: each test must have run in all of them.
        Set<String> configurations = new LinkedHashSet<>();
        listed.forEach(t -> {
            TestResults r = log.tests().get(t);
            if (r != null) {
                configurations.addAll(r.configurations().keySet());
            }
        });
        List<Verdict> verdicts = new ArrayList<>();
        for (String name : listed) {
            verdicts.add(judgeOne(pass, name, log.tests().get(name), classes.apply(name), configurations,
                    minSamples, knownGaps));
        }
        List<String> problems = new ArrayList<>();
        if (listed.isEmpty()) {
            problems.add("no test listed");
        }
        if (pass == Pass.BROKEN) {
            if (knownGaps.size() > MAX_KNOWN_GAPS) {
                problems.add("the known-gap list has " + knownGaps.size() + " entries, at most " + MAX_KNOWN_GAPS
                        + " are allowed: a new gap is a twin to fix, not to list");
            }
            if (new LinkedHashSet<>(knownGaps).size() != knownGaps.size()) {
                problems.add("the known-gap list names a twin twice: " + knownGaps);
            }
            for (String gap : knownGaps) {
                if (!subset && !listed.contains(gap)) {
                    problems.add("the known-gap list names " + gap + ", which is not a broken twin of this pass");
                }
            }
        }
        return new Report(pass, List.copyOf(verdicts), List.copyOf(problems));
    }

    private static Verdict judgeOne(Pass pass, String name, TestResults results, Class<?> cls,
                                    Set<String> configurations, long minSamples, List<String> knownGaps) {
        List<String> failures = new ArrayList<>();
        // Failures for too few samples, and those that too few samples may explain (an outcome that
        // did not occur): a test failed by nothing else is starved.
        int[] shortfalls = {0, 0};
        if (!name.endsWith(pass.suffix)) {
            failures.add("its name does not end in " + pass.suffix);
        }
        if (cls == null) {
            failures.add("no such class");
        }
        // The annotations.
        RacyOutcome racy = cls == null ? null : cls.getDeclaredAnnotation(RacyOutcome.class);
        CaughtBy caughtBy = cls == null ? null : cls.getDeclaredAnnotation(CaughtBy.class);
        KnownGap gap = cls == null ? null : cls.getDeclaredAnnotation(KnownGap.class);
        List<Pattern> documented = new ArrayList<>();
        Pattern racyPattern = null;
        if (cls != null) {
            if (pass == Pass.TESTS) {
                if (caughtBy != null) {
                    failures.add("a test carries @CaughtBy, which is for broken twins");
                }
                if (gap != null) {
                    failures.add("a test carries @KnownGap, which is for broken twins");
                }
                if (racy == null) {
                    failures.add("no @RacyOutcome annotation");
                } else {
                    racyPattern = compile(racy.value(), "@RacyOutcome", failures);
                    List<String> acceptable = Arrays.stream(cls.getAnnotationsByType(Outcome.class))
                            .filter(o -> o.expect() == org.openjdk.jcstress.annotations.Expect.ACCEPTABLE
                                    || o.expect() == org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING)
                            .flatMap(o -> Arrays.stream(o.id())).toList();
                    if (!acceptable.contains(racy.value())) {
                        failures.add("@RacyOutcome " + racy.value() + " is not the id of an acceptable @Outcome of the test"
                                + " (acceptable: " + String.join("; ", acceptable) + ")");
                    }
                }
            } else {
                if (racy != null) {
                    failures.add("a broken twin carries @RacyOutcome, which is for tests");
                }
                if (caughtBy == null || caughtBy.value().length == 0) {
                    failures.add("no @CaughtBy annotation");
                } else {
                    for (String id : caughtBy.value()) {
                        Pattern p = compile(id, "@CaughtBy", failures);
                        if (p != null) {
                            documented.add(p);
                        }
                    }
                    Description description = cls.getDeclaredAnnotation(Description.class);
                    if (description == null) {
                        failures.add("no @Description of its own naming its documented outcome");
                    } else {
                        for (String id : caughtBy.value()) {
                            if (!mentions(description.value(), display(id))) {
                                failures.add("description does not mention " + display(id) + ": \""
                                        + description.value() + "\"");
                            }
                        }
                    }
                }
                boolean listedGap = knownGaps.contains(name);
                if (gap != null && !listedGap) {
                    failures.add("annotated @KnownGap but not in the known-gap list");
                } else if (gap == null && listedGap) {
                    failures.add("in the known-gap list but not annotated @KnownGap");
                }
            }
        }
        // The results.
        if (results == null || results.configurations().isEmpty()) {
            failures.add("did not run: no results in the log");
            return new Verdict(name, Status.FAILED, String.join("; ", failures));
        }
        Map<String, Row> summed = results.summed();
        long total = TestResults.samples(summed);
        long fewest = Long.MAX_VALUE;
        for (String config : configurations) {
            Map<String, Row> rows = results.configurations().get(config);
            if (rows == null) {
                failures.add("did not run in configuration " + config);
                continue;
            }
            long samples = TestResults.samples(rows);
            fewest = Math.min(fewest, samples);
            if (samples < minSamples) {
                failures.add("only " + fmt(samples) + " samples in configuration " + config + ", minimum " + fmt(minSamples));
                shortfalls[0]++;
                shortfalls[1]++;
            }
        }
        if (results.total() == null) {
            failures.add("no results across all configurations in the log");
        } else if (!sameSamples(results.total(), summed)) {
            failures.add("the configurations' tables (" + JcstressLog.describe(summed.values())
                    + ") do not add up to jcstress's summary (" + JcstressLog.describe(results.total().values())
                    + "): a table was missed");
        }
        String verdict = results.verdict();
        String samplesNote = fmt(total) + " samples, " + configurations.size() + " configurations, fewest "
                + fmt(fewest);
        if (pass == Pass.TESTS) {
            if (!"OK".equals(verdict)) {
                failures.add("jcstress's verdict is " + verdict + ", not OK");
            }
            List<Row> bad = summed.values().stream().filter(r -> r.samples() > 0 && !r.expect().acceptable()).toList();
            if (!bad.isEmpty()) {
                failures.add("forbidden or unknown outcomes occurred: " + JcstressLog.describe(bad));
            }
            if (racyPattern != null) {
                Pattern p = racyPattern;
                List<Row> matched = summed.values().stream().filter(r -> r.samples() > 0 && p.matcher(r.id()).matches()).toList();
                long count = matched.stream().mapToLong(Row::samples).sum();
                matched.stream().filter(r -> !r.expect().acceptable()).forEach(r ->
                        failures.add("racy outcome " + racy.value() + " matched " + r.id() + ", graded " + r.expect()));
                if (count == 0) {
                    failures.add("racy outcome " + racy.value() + " never occurred (0 of " + samplesNote
                            + "; outcomes: " + JcstressLog.describe(summed.values()) + ")");
                    shortfalls[1]++;
                }
                if (failures.isEmpty()) {
                    return new Verdict(name, Status.RACED, "racy outcome " + racy.value() + ": " + fmt(count)
                            + " of " + samplesNote);
                }
            }
            return failed(name, failures, shortfalls);
        }
        // A broken twin.
        if (!"FAILED".equals(verdict) && !"OK".equals(verdict)) {
            failures.add("jcstress's verdict is " + verdict + ", neither FAILED nor OK");
        }
        List<Row> matched = summed.values().stream()
                .filter(r -> r.samples() > 0 && documented.stream().anyMatch(p -> p.matcher(r.id()).matches())).toList();
        matched.stream().filter(r -> r.expect() != Expect.FORBIDDEN).forEach(r -> failures.add(
                "documented outcome matched " + r.id() + ", graded " + r.expect() + ", not Forbidden"));
        long count = matched.stream().mapToLong(Row::samples).sum();
        String what = caughtBy == null ? "?" : Arrays.stream(caughtBy.value()).map(JcstressGate::display)
                .collect(Collectors.joining(" or "));
        if (count > 0 && !"FAILED".equals(verdict)) {
            failures.add("documented outcome occurred but jcstress's verdict is " + verdict);
        }
        if (!failures.isEmpty()) {
            if (count == 0 && caughtBy != null) {
                failures.add(neverOccurred(what, samplesNote, summed));
                shortfalls[1]++;
            }
            return failed(name, failures, shortfalls);
        }
        if (count > 0) {
            String detail = "documented outcome " + what + ": " + fmt(count) + " of " + samplesNote
                    + (matched.size() > 1 || !matched.get(0).id().equals(caughtBy.value()[0])
                    ? ", as " + JcstressLog.describe(matched) : "");
            if (gap != null) {
                detail += " (a LISTED KNOWN GAP caught this run: drop its @KnownGap once it is caught in every run)";
            }
            return new Verdict(name, Status.CAUGHT, detail);
        }
        if (gap != null) {
            return new Verdict(name, Status.KNOWN_GAP, neverOccurred(what, samplesNote, summed) + "; @KnownGap: " + gap.value());
        }
        return new Verdict(name, Status.FAILED, neverOccurred(what, samplesNote, summed));
    }

    private static Verdict failed(String name, List<String> failures, int[] shortfalls) {
        boolean starved = shortfalls[0] > 0 && shortfalls[1] == failures.size();
        return new Verdict(name, Status.FAILED, String.join("; ", failures), starved);
    }

    private static String neverOccurred(String what, String samplesNote, Map<String, Row> summed) {
        List<Row> forbidden = summed.values().stream().filter(r -> !r.expect().acceptable()).toList();
        return "documented outcome " + what + " never occurred (0 of " + samplesNote + "; forbidden outcomes: "
                + JcstressLog.describe(forbidden) + ")";
    }

    private static boolean sameSamples(Map<String, Row> a, Map<String, Row> b) {
        Map<String, Long> x = new LinkedHashMap<>();
        Map<String, Long> y = new LinkedHashMap<>();
        a.values().stream().filter(r -> r.samples() > 0).forEach(r -> x.put(r.id(), r.samples()));
        b.values().stream().filter(r -> r.samples() > 0).forEach(r -> y.put(r.id(), r.samples()));
        return x.equals(y);
    }

    private static Pattern compile(String id, String what, List<String> failures) {
        try {
            return Pattern.compile(id);
        } catch (PatternSyntaxException e) {
            failures.add(what + " " + id + " is not a valid outcome id: " + e.getDescription());
            return null;
        }
    }

    /** An outcome id as the javadoc and descriptions write it: each {@code .*} as {@code *}. */
    public static String display(String id) {
        return id.replace(".*", "*");
    }

    /**
     * Whether a text names an outcome: it contains it, neither continuing a longer outcome before it
     * ({@code 0, 1, 1} does not name {@code 1, 1}) nor after it ({@code 1, 0, 1} does not name
     * {@code 1, 0}).
     */
    public static boolean mentions(String text, String outcome) {
        Pattern p = Pattern.compile("(?<![\\w*-]|[\\w*-], ?)" + Pattern.quote(outcome) + "(?![\\w*]|, ?[\\w*-])");
        return p.matcher(text).find();
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
