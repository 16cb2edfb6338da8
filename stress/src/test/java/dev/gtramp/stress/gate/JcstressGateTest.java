package dev.gtramp.stress.gate;

import dev.gtramp.stress.gate.JcstressGate.Pass;
import dev.gtramp.stress.gate.JcstressGate.Report;
import dev.gtramp.stress.gate.JcstressGate.Status;
import dev.gtramp.stress.gate.JcstressGate.Verdict;
import org.junit.jupiter.api.Test;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.gtramp.stress.gate.JcstressLogTest.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link JcstressGate}'s decisions on excerpts of a real verbose log, against the real test classes
 * or, to break an annotation, fixtures standing in for them.
 */
class JcstressGateTest {
    static final String FEXIT_RCU_ONLY = "dev.gtramp.stress.gtramp.KfuncMdPutFexitRcuOnlyBroken";
    static final String MOD_NO_STUB = "dev.gtramp.stress.ftrace.FtraceDirectModNoStubBroken";
    static final String GET_PUT_KILL = "dev.gtramp.stress.percpu.PercpuRefGetPutKillBroken";
    static final String KILL_EARLY = "dev.gtramp.stress.gtramp.KfuncMdPutV2KillEarlyBroken";
    static final String GRACE_PERIOD = "dev.gtramp.stress.rcu.GeneralGracePeriodTest";
    static final String ADD = "dev.gtramp.stress.ftrace.FtraceDirectAddTest";
    static final String TRYGET = "dev.gtramp.stress.percpu.PercpuRefTryGetLiveKillTest";

    // Fixtures standing in for a real class, each with one thing wrong.

    @Description("broken on purpose (KFUNC_MD_FREE_AFTER_RCU_ONLY), must show 1, 0, 1")
    static class NoCaughtByBroken {
    }

    @CaughtBy("1, 0, 1")
    @Description("broken on purpose (KFUNC_MD_FREE_AFTER_RCU_ONLY), must show 1, 0")
    static class DescriptionMismatchBroken {
    }

    @CaughtBy("1, 0, 1")
    static class NoDescriptionBroken {
    }

    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader found gp already NULL")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the grace period waited for it")
    @Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free")
    static class NoRacyOutcomeTest {
    }

    @RacyOutcome("1, 1")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader found gp already NULL")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the grace period waited for it")
    @Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free")
    static class ForbiddenRacyOutcomeTest {
    }

    private static Class<?> real(String name) {
        try {
            return Class.forName(name, false, JcstressGateTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /** The real classes, but {@code name}'s replaced by {@code fixture}. */
    private static Function<String, Class<?>> replacing(String name, Class<?> fixture) {
        return n -> n.equals(name) ? fixture : real(n);
    }

    private static Report judge(Pass pass, String logFixture, List<String> tests, Function<String, Class<?>> classes,
                                long minSamples) {
        return JcstressGate.judge(pass, tests, JcstressLog.parse(fixture(logFixture)), classes, minSamples);
    }

    private static Verdict only(Report report) {
        assertEquals(1, report.verdicts().size());
        return report.verdicts().get(0);
    }

    private static void assertFailed(Verdict v, String reason) {
        assertEquals(Status.FAILED, v.status(), v.toString());
        assertTrue(v.detail().contains(reason), () -> "'" + reason + "' not in: " + v.detail());
    }

    // Broken twins.

    @Test
    void aTwinIsCaughtByItsDocumentedOutcome() {
        Report r = judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY, GET_PUT_KILL, MOD_NO_STUB),
                JcstressGateTest::real, 100);
        assertFalse(r.failed(), r.toString());
        Map<String, Verdict> byName = new java.util.HashMap<>();
        r.verdicts().forEach(v -> byName.put(v.test(), v));
        assertEquals(Status.CAUGHT, byName.get(FEXIT_RCU_ONLY).status());
        assertTrue(byName.get(FEXIT_RCU_ONLY).detail().startsWith("documented outcome 1, 0, 1: 1,306 of 1,306 samples"),
                byName.get(FEXIT_RCU_ONLY).detail());
        // Either of two documented outcomes will do, and each is counted.
        assertTrue(byName.get(GET_PUT_KILL).detail().contains("65 of 18,738 samples"), byName.get(GET_PUT_KILL).detail());
        assertTrue(byName.get(GET_PUT_KILL).detail().contains("1, -1 (49), 0, 0 (16)"), byName.get(GET_PUT_KILL).detail());
        // *, 0 matches 0, 0 even though jcstress graded it through the catch-all @Outcome.
        assertEquals(Status.CAUGHT, byName.get(MOD_NO_STUB).status());
    }

    @Test
    void aTwinCaughtOnlyByTheCatchAllRowIsNotCaught() {
        Verdict v = only(judge(Pass.BROKEN, "broken-catch-all-only.log", List.of(FEXIT_RCU_ONLY),
                JcstressGateTest::real, 100));
        assertFailed(v, "documented outcome 1, 0, 1 never occurred (0 of 1,306 samples");
        assertFailed(v, "forbidden outcomes: 2, 0, 0 (1,306)");
    }

    @Test
    void tooFewSamplesFail() {
        // A real run: the twin's second configuration collected 31 samples.
        Report r = judge(Pass.BROKEN, "broken.log", List.of(KILL_EARLY), JcstressGateTest::real, 100);
        assertFailed(only(r), "only 31 samples in configuration " + JcstressLogTest.MINUS_BL + ", minimum 100");
        assertTrue(r.failed());
        // Starved, so worth running again: too few samples, and (so) no documented outcome.
        assertTrue(only(r).starved());
        assertTrue(r.onlyStarved());
        assertEquals(List.of(KILL_EARLY), r.starved());
        // The same, with a minimum it meets, fails for what it is: an uncaught twin, not starved.
        Report low = judge(Pass.BROKEN, "broken.log", List.of(KILL_EARLY), JcstressGateTest::real, 30);
        assertFailed(only(low), "documented outcome 1, 1 never occurred");
        assertFalse(only(low).starved());
        assertFalse(low.onlyStarved());
    }

    @Test
    void tooFewSamplesFailACaughtTwinToo() {
        Verdict v = only(judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY), JcstressGateTest::real, 600));
        assertFailed(v, "only 526 samples in configuration " + JcstressLogTest.PLUS_BL + ", minimum 600");
        assertTrue(v.starved());
    }

    @Test
    void aTestThatFailedForAnythingButSamplesIsNotStarved() {
        Report r = judge(Pass.BROKEN, "broken-catch-all-only.log", List.of(FEXIT_RCU_ONLY), JcstressGateTest::real, 100);
        assertFalse(only(r).starved());
        assertFalse(r.onlyStarved());
        // Starved and unannotated: not starved only.
        Report both = judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY),
                replacing(FEXIT_RCU_ONLY, NoCaughtByBroken.class), 600);
        assertFailed(only(both), "only 526 samples");
        assertFalse(only(both).starved());
    }

    @Test
    void aTwinWithoutCaughtByFails() {
        Verdict v = only(judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY),
                replacing(FEXIT_RCU_ONLY, NoCaughtByBroken.class), 100));
        assertFailed(v, "no @CaughtBy annotation");
    }

    @Test
    void aDescriptionThatDoesNotNameTheDocumentedOutcomeFails() {
        Verdict v = only(judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY),
                replacing(FEXIT_RCU_ONLY, DescriptionMismatchBroken.class), 100));
        assertFailed(v, "description does not mention 1, 0, 1");
        Verdict none = only(judge(Pass.BROKEN, "broken.log", List.of(FEXIT_RCU_ONLY),
                replacing(FEXIT_RCU_ONLY, NoDescriptionBroken.class), 100));
        assertFailed(none, "no @Description of its own");
    }

    @Test
    void aTwinThatDidNotRunFails() {
        Verdict v = only(judge(Pass.BROKEN, "broken.log", List.of("dev.gtramp.stress.rcu.QsbrGracePeriodBroken"),
                JcstressGateTest::real, 100));
        assertFailed(v, "did not run");
    }

    @Test
    void aTestInTheBrokenPassFails() {
        Verdict v = only(judge(Pass.BROKEN, "tests.log", List.of(GRACE_PERIOD), JcstressGateTest::real, 100));
        assertFailed(v, "its name does not end in Broken");
        assertFailed(v, "no @CaughtBy annotation");
    }

    // Tests.

    @Test
    void aTestThatRacedPasses() {
        Report r = judge(Pass.TESTS, "tests.log", List.of(GRACE_PERIOD, ADD, TRYGET), JcstressGateTest::real, 100);
        assertFalse(r.failed(), r.toString());
        assertEquals(3, r.count(Status.RACED));
        assertTrue(r.verdicts().get(0).detail().startsWith("racy outcome 1, 0: 14,770 of 17,714 samples"),
                r.verdicts().get(0).detail());
        assertTrue(r.verdicts().get(2).detail().startsWith("racy outcome 0, 0, 0, 1: 22 of 17,714 samples"),
                r.verdicts().get(2).detail());
    }

    @Test
    void aTestWhoseRacyOutcomeNeverOccurredFails() {
        Verdict v = only(judge(Pass.TESTS, "tests-never-raced.log", List.of(GRACE_PERIOD), JcstressGateTest::real, 100));
        assertFailed(v, "racy outcome 1, 0 never occurred (0 of 17,714 samples");
    }

    @Test
    void aTestWithoutRacyOutcomeFails() {
        Verdict v = only(judge(Pass.TESTS, "tests.log", List.of(GRACE_PERIOD),
                replacing(GRACE_PERIOD, NoRacyOutcomeTest.class), 100));
        assertFailed(v, "no @RacyOutcome annotation");
    }

    @Test
    void aRacyOutcomeThatIsNotAcceptableFails() {
        Verdict v = only(judge(Pass.TESTS, "tests.log", List.of(GRACE_PERIOD),
                replacing(GRACE_PERIOD, ForbiddenRacyOutcomeTest.class), 100));
        assertFailed(v, "@RacyOutcome 1, 1 is not the id of an acceptable @Outcome");
        assertFailed(v, "racy outcome 1, 1 never occurred");
    }

    @Test
    void aForbiddenOutcomeFailsATest() {
        // The twin's log, judged as if it were the test's: 1, -1 and 0, 0 are forbidden.
        List<String> lines = new ArrayList<>(fixture("broken.log"));
        lines.replaceAll(l -> l.replace(GET_PUT_KILL, "dev.gtramp.stress.percpu.PercpuRefGetPutKillTest"));
        Report r = JcstressGate.judge(Pass.TESTS, List.of("dev.gtramp.stress.percpu.PercpuRefGetPutKillTest"),
                JcstressLog.parse(lines), JcstressGateTest::real, 100);
        assertFailed(only(r), "jcstress's verdict is FAILED, not OK");
        assertFailed(only(r), "forbidden or unknown outcomes occurred: 1, -1 (49), 0, 0 (16)");
    }

    @Test
    void tablesThatDoNotAddUpToTheSummaryFail() {
        // Drop one configuration's block of FtraceDirectAddTest: the rest no longer adds up, and the
        // test did not run in every configuration.
        List<String> lines = new ArrayList<>(fixture("tests.log"));
        int start = lines.indexOf(".......... [OK] " + ADD);
        int end = lines.subList(start, lines.size()).indexOf("(ETA: in 00:01:00; at Mon, 2026-12-07 13:25:00)") + start;
        lines.subList(start, end).clear();
        Report r = JcstressGate.judge(Pass.TESTS, List.of(ADD, GRACE_PERIOD), JcstressLog.parse(lines),
                JcstressGateTest::real, 100);
        assertFailed(r.verdicts().get(0), "do not add up to jcstress's summary");
        assertFailed(r.verdicts().get(0), "did not run in configuration");
        assertEquals(Status.RACED, r.verdicts().get(1).status());
    }

    @Test
    void anEmptyListFails() {
        Report r = judge(Pass.TESTS, "tests.log", List.of(), JcstressGateTest::real, 100);
        assertTrue(r.failed());
        assertEquals(List.of("no test listed"), r.problems());
    }

    // The helpers.

    @Test
    void mentionsFindsWholeOutcomesOnly() {
        assertTrue(JcstressGate.mentions("broken on purpose, must show 1, 0, 1", "1, 0, 1"));
        assertFalse(JcstressGate.mentions("broken on purpose, must show 1, 0, 1", "1, 0"));
        assertFalse(JcstressGate.mentions("broken on purpose, must show 1, 0, 1", "0, 1"));
        assertTrue(JcstressGate.mentions("must show 2, 1 or 1, 0", "1, 0"));
        assertTrue(JcstressGate.mentions("must show an early release (1, *) or a missing one (0, 0)", "1, *"));
        assertTrue(JcstressGate.mentions("would show 1, 1; preemption only", "1, 1"));
        assertFalse(JcstressGate.mentions("must show 0, 1, 1", "1, 1"));
        assertEquals("*, 1, 1, *", JcstressGate.display(".*, 1, 1, .*"));
    }
}
