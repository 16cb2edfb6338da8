package dev.gtramp.stress.gate;

import dev.gtramp.stress.gate.JcstressLog.TestResults;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Decides whether a pass of the jcstress suite proved anything, from jcstress's verbose log and the
 * annotations of the tests it ran. {@code stress/run-jcstress} runs it after each pass:
 * <pre>
 *   java -cp jcstress.jar dev.gtramp.stress.gate.JcstressGate --pass tests|broken \
 *       --log tests.log --list tests.list --min-samples 100 [--starved-out FILE]
 * </pre>
 * It prints one line per listed test, then a summary, and exits with 0 if every test passed, 3 if
 * the only failures were starved tests ({@link Verdict#starved}: too few samples; their names go to
 * {@code --starved-out}), 1 on any other failure, 2 on bad arguments or an unreadable log.
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
 *       that outcome. No twin is exempt.</li>
 * </ul>
 *
 * <p>The judging of one test is {@link TestJudge}; the log parsing is {@link JcstressLog}.
 */
public final class JcstressGate {

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
        /** Whether the pass failed: a test failed, or a problem not tied to one test (none listed). */
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
        try {
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--pass" -> pass = Pass.of(Objects.requireNonNull(value, "--pass needs a value"));
                    case "--log" -> log = Path.of(Objects.requireNonNull(value, "--log needs a file"));
                    case "--list" -> list = Path.of(Objects.requireNonNull(value, "--list needs a file"));
                    case "--min-samples" -> minSamples = Long.parseLong(Objects.requireNonNull(value, "--min-samples needs a number"));
                    case "--starved-out" -> starvedOut = Path.of(Objects.requireNonNull(value, "--starved-out needs a file"));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
                i++;
            }
            if (pass == null || log == null || list == null || minSamples < 1) {
                throw new IllegalArgumentException("usage: JcstressGate --pass tests|broken --log FILE --list FILE"
                        + " --min-samples N (N >= 1) [--starved-out FILE]");
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
            report = judge(pass, names, JcstressLog.read(log), JcstressGate::load, minSamples);
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
     */
    public static Report judge(Pass pass, List<String> listed, JcstressLog log, Function<String, Class<?>> classes,
                               long minSamples) {
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
            verdicts.add(TestJudge.judge(pass, name, log.tests().get(name), classes.apply(name), configurations,
                    minSamples));
        }
        List<String> problems = listed.isEmpty() ? List.of("no test listed") : List.of();
        return new Report(pass, List.copyOf(verdicts), problems);
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
}
