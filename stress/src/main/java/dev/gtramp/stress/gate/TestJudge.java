package dev.gtramp.stress.gate;

import dev.gtramp.stress.gate.JcstressGate.Pass;
import dev.gtramp.stress.gate.JcstressGate.Status;
import dev.gtramp.stress.gate.JcstressGate.Verdict;
import dev.gtramp.stress.gate.JcstressLog.Expect;
import dev.gtramp.stress.gate.JcstressLog.Row;
import dev.gtramp.stress.gate.JcstressLog.TestResults;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * The judgement of one test of a pass ({@link JcstressGate}), in four steps, each adding what it
 * finds wrong to one list: the name and the annotations ({@link #checkAnnotations}), the samples in
 * every configuration ({@link #checkSamples}), then the outcomes as a test's ({@link #judgeTest})
 * or a broken twin's ({@link #judgeTwin}). One instance per test.
 *
 * <p>Some failures too few samples may explain: an outcome that did not occur. A test failed by
 * those alone, with at least one configuration short of samples, is {@link Verdict#starved}.
 */
final class TestJudge {
    private final Pass pass;
    private final String name;
    private final Class<?> cls;
    private final List<String> failures = new ArrayList<>();
    /** Failures for too few samples. */
    private int sampleShortfalls;
    /** Failures too few samples may explain: the sample shortfalls and an outcome that never occurred. */
    private int explainedByShortfall;
    private RacyOutcome racy;
    private Pattern racyPattern;
    private CaughtBy caughtBy;
    private final List<Pattern> documented = new ArrayList<>();

    private TestJudge(Pass pass, String name, Class<?> cls) {
        this.pass = pass;
        this.name = name;
        this.cls = cls;
    }

    /**
     * Judges the test {@code name} of {@code pass} from its results (null if it did not run) and its
     * class (null if there is none); it must have run in every one of {@code configurations} with at
     * least {@code minSamples} samples in each.
     */
    static Verdict judge(Pass pass, String name, TestResults results, Class<?> cls, Set<String> configurations,
                         long minSamples) {
        TestJudge j = new TestJudge(pass, name, cls);
        j.checkAnnotations();
        if (results == null || results.configurations().isEmpty()) {
            j.failures.add("did not run: no results in the log");
            return new Verdict(name, Status.FAILED, String.join("; ", j.failures));
        }
        String samplesNote = j.checkSamples(results, configurations, minSamples);
        return pass == Pass.TESTS ? j.judgeTest(results, samplesNote) : j.judgeTwin(results, samplesNote);
    }

    /** The name's suffix, and the annotations the pass requires and forbids. */
    private void checkAnnotations() {
        if (!name.endsWith(pass.suffix)) {
            failures.add("its name does not end in " + pass.suffix);
        }
        if (cls == null) {
            failures.add("no such class");
            return;
        }
        racy = cls.getDeclaredAnnotation(RacyOutcome.class);
        caughtBy = cls.getDeclaredAnnotation(CaughtBy.class);
        if (pass == Pass.TESTS) {
            checkTestAnnotations();
        } else {
            checkTwinAnnotations();
        }
    }

    /** A test: a {@link RacyOutcome} that is the id of one of its acceptable outcomes, no {@link CaughtBy}. */
    private void checkTestAnnotations() {
        if (caughtBy != null) {
            failures.add("a test carries @CaughtBy, which is for broken twins");
        }
        if (racy == null) {
            failures.add("no @RacyOutcome annotation");
            return;
        }
        racyPattern = compile(racy.value(), "@RacyOutcome");
        List<String> acceptable = Arrays.stream(cls.getAnnotationsByType(Outcome.class))
                .filter(o -> o.expect() == org.openjdk.jcstress.annotations.Expect.ACCEPTABLE
                        || o.expect() == org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING)
                .flatMap(o -> Arrays.stream(o.id())).toList();
        if (!acceptable.contains(racy.value())) {
            failures.add("@RacyOutcome " + racy.value() + " is not the id of an acceptable @Outcome of the test"
                    + " (acceptable: " + String.join("; ", acceptable) + ")");
        }
    }

    /** A twin: a {@link CaughtBy} whose outcomes its own {@code @Description} names, no {@link RacyOutcome}. */
    private void checkTwinAnnotations() {
        if (racy != null) {
            failures.add("a broken twin carries @RacyOutcome, which is for tests");
        }
        if (caughtBy == null || caughtBy.value().length == 0) {
            failures.add("no @CaughtBy annotation");
            return;
        }
        for (String id : caughtBy.value()) {
            Pattern p = compile(id, "@CaughtBy");
            if (p != null) {
                documented.add(p);
            }
        }
        Description description = cls.getDeclaredAnnotation(Description.class);
        if (description == null) {
            failures.add("no @Description of its own naming its documented outcome");
            return;
        }
        for (String id : caughtBy.value()) {
            if (!JcstressGate.mentions(description.value(), JcstressGate.display(id))) {
                failures.add("description does not mention " + JcstressGate.display(id) + ": \""
                        + description.value() + "\"");
            }
        }
    }

    /**
     * Every configuration ran, with at least {@code minSamples} samples, and their tables add up to
     * jcstress's summary (so that no table was missed). Returns the line's note on the samples.
     */
    private String checkSamples(TestResults results, Set<String> configurations, long minSamples) {
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
                sampleShortfalls++;
                explainedByShortfall++;
            }
        }
        Map<String, Row> summed = results.summed();
        if (results.total() == null) {
            failures.add("no results across all configurations in the log");
        } else if (!sameSamples(results.total(), summed)) {
            failures.add("the configurations' tables (" + JcstressLog.describe(summed.values())
                    + ") do not add up to jcstress's summary (" + JcstressLog.describe(results.total().values())
                    + "): a table was missed");
        }
        return fmt(TestResults.samples(summed)) + " samples, " + configurations.size() + " configurations, fewest "
                + fmt(fewest);
    }

    /** A test: graded OK, nothing forbidden or unknown occurred, and its racy outcome did. */
    private Verdict judgeTest(TestResults results, String samplesNote) {
        Map<String, Row> summed = results.summed();
        if (!"OK".equals(results.verdict())) {
            failures.add("jcstress's verdict is " + results.verdict() + ", not OK");
        }
        List<Row> bad = summed.values().stream().filter(r -> r.samples() > 0 && !r.expect().acceptable()).toList();
        if (!bad.isEmpty()) {
            failures.add("forbidden or unknown outcomes occurred: " + JcstressLog.describe(bad));
        }
        if (racyPattern == null) {
            return failed();
        }
        List<Row> matched = matching(summed, List.of(racyPattern));
        matched.stream().filter(r -> !r.expect().acceptable()).forEach(r ->
                failures.add("racy outcome " + racy.value() + " matched " + r.id() + ", graded " + r.expect()));
        long count = matched.stream().mapToLong(Row::samples).sum();
        if (count == 0) {
            failures.add("racy outcome " + racy.value() + " never occurred (0 of " + samplesNote
                    + "; outcomes: " + JcstressLog.describe(summed.values()) + ")");
            explainedByShortfall++;
        }
        if (!failures.isEmpty()) {
            return failed();
        }
        return new Verdict(name, Status.RACED, "racy outcome " + racy.value() + ": " + fmt(count) + " of " + samplesNote);
    }

    /**
     * A broken twin: caught only if its documented outcome occurred, graded FORBIDDEN, and jcstress
     * failed it; other forbidden outcomes do not count.
     */
    private Verdict judgeTwin(TestResults results, String samplesNote) {
        Map<String, Row> summed = results.summed();
        String verdict = results.verdict();
        if (!"FAILED".equals(verdict) && !"OK".equals(verdict)) {
            failures.add("jcstress's verdict is " + verdict + ", neither FAILED nor OK");
        }
        List<Row> matched = matching(summed, documented);
        matched.stream().filter(r -> r.expect() != Expect.FORBIDDEN).forEach(r -> failures.add(
                "documented outcome matched " + r.id() + ", graded " + r.expect() + ", not Forbidden"));
        long count = matched.stream().mapToLong(Row::samples).sum();
        String what = caughtBy == null ? "?" : Arrays.stream(caughtBy.value()).map(JcstressGate::display)
                .collect(Collectors.joining(" or "));
        if (count > 0 && !"FAILED".equals(verdict)) {
            failures.add("documented outcome occurred but jcstress's verdict is " + verdict);
        }
        if (count == 0 && caughtBy != null) {
            List<Row> forbidden = summed.values().stream().filter(r -> !r.expect().acceptable()).toList();
            failures.add("documented outcome " + what + " never occurred (0 of " + samplesNote
                    + "; forbidden outcomes: " + JcstressLog.describe(forbidden) + ")");
            explainedByShortfall++;
        }
        if (!failures.isEmpty()) {
            return failed();
        }
        boolean asDocumented = matched.size() == 1 && matched.get(0).id().equals(caughtBy.value()[0]);
        return new Verdict(name, Status.CAUGHT, "documented outcome " + what + ": " + fmt(count) + " of "
                + samplesNote + (asDocumented ? "" : ", as " + JcstressLog.describe(matched)));
    }

    private Verdict failed() {
        boolean starved = sampleShortfalls > 0 && explainedByShortfall == failures.size();
        return new Verdict(name, Status.FAILED, String.join("; ", failures), starved);
    }

    private static List<Row> matching(Map<String, Row> rows, List<Pattern> patterns) {
        return rows.values().stream()
                .filter(r -> r.samples() > 0 && patterns.stream().anyMatch(p -> p.matcher(r.id()).matches()))
                .toList();
    }

    private static boolean sameSamples(Map<String, Row> a, Map<String, Row> b) {
        Map<String, Long> x = new LinkedHashMap<>();
        Map<String, Long> y = new LinkedHashMap<>();
        a.values().stream().filter(r -> r.samples() > 0).forEach(r -> x.put(r.id(), r.samples()));
        b.values().stream().filter(r -> r.samples() > 0).forEach(r -> y.put(r.id(), r.samples()));
        return x.equals(y);
    }

    private Pattern compile(String id, String what) {
        try {
            return Pattern.compile(id);
        } catch (PatternSyntaxException e) {
            failures.add(what + " " + id + " is not a valid outcome id: " + e.getDescription());
            return null;
        }
    }

    static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
