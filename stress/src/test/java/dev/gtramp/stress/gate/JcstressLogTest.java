package dev.gtramp.stress.gate;

import dev.gtramp.stress.gate.JcstressLog.Expect;
import dev.gtramp.stress.gate.JcstressLog.Row;
import dev.gtramp.stress.gate.JcstressLog.TestResults;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link JcstressLog} on excerpts of a real verbose log (src/test/resources/dev/gtramp/stress/gate). */
class JcstressLogTest {
    static final String PLUS_BL = "[-XX:+UseBiasedLocking, -XX:+UnlockDiagnosticVMOptions, -XX:+StressLCM, -XX:+StressGCM, -XX:+StressIGVN]";
    static final String MINUS_BL = "[-XX:-UseBiasedLocking, -XX:+UnlockDiagnosticVMOptions, -XX:+StressLCM, -XX:+StressGCM, -XX:+StressIGVN]";

    static List<String> fixture(String name) {
        try (InputStream in = JcstressLogTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void readsEachConfigurationsTableAndTheSummary() {
        JcstressLog log = JcstressLog.parse(fixture("broken.log"));
        TestResults t = log.tests().get("dev.gtramp.stress.gtramp.KfuncMdPutFexitRcuOnlyBroken");
        assertNotNull(t);
        assertEquals("FAILED", t.verdict());
        assertEquals(java.util.Set.of(MINUS_BL, PLUS_BL), t.configurations().keySet());
        Row minus = t.configurations().get(MINUS_BL).get("1, 0, 1");
        assertEquals(new Row("1, 0, 1", 780, Expect.FORBIDDEN, "use after free: the call read a freed md"), minus);
        assertEquals(526, t.configurations().get(PLUS_BL).get("1, 0, 1").samples());
        assertEquals(1_306, t.total().get("1, 0, 1").samples());
        assertEquals(1_306, TestResults.samples(t.summed()));
        // The declared ids that matched nothing are rows too, with 0 samples.
        assertEquals(0, t.total().get(".*").samples());
        assertEquals(Expect.ACCEPTABLE, t.total().get("0, 0, 0").expect());
    }

    @Test
    void readsIdsWithNegativeNumbersAndGroupedSamples() {
        JcstressLog log = JcstressLog.parse(fixture("broken.log"));
        Map<String, Row> total = log.tests().get("dev.gtramp.stress.percpu.PercpuRefGetPutKillBroken").total();
        assertEquals(49, total.get("1, -1").samples());
        assertEquals(18_673, total.get("0, 1").samples());
        assertEquals(Expect.FORBIDDEN, total.get("1, -1").expect());
    }

    /** jcstress prints a frequency below 0.01% as {@code <0.01%}: a rare outcome is still a row. */
    @Test
    void readsARowWhoseFrequencyIsBelowTheSmallestPrinted() {
        List<String> lines = new ArrayList<>(fixture("broken.log"));
        int rewritten = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith("1, -1 ") && lines.get(i).contains("%")) {
                lines.set(i, lines.get(i).replaceFirst("\\d+[.,]\\d+%", "<0.01%"));
                rewritten++;
            }
        }
        assertTrue(rewritten >= 3, "the fixture's 1, -1 rows");
        JcstressLog log = JcstressLog.parse(lines);
        assertEquals(49, log.tests().get("dev.gtramp.stress.percpu.PercpuRefGetPutKillBroken").total().get("1, -1").samples());
    }

    @Test
    void theVerdictIsTheSummarys() {
        JcstressLog log = JcstressLog.parse(fixture("broken.log"));
        assertEquals("OK", log.tests().get("dev.gtramp.stress.rcu.GeneralGracePeriodNoFenceBroken").verdict());
        assertEquals("FAILED", log.tests().get("dev.gtramp.stress.ftrace.FtraceDirectModNoStubBroken").verdict());
    }

    @Test
    void aLineInsideATableThatIsNotARowIsAnError() {
        List<String> lines = new ArrayList<>(fixture("broken.log"));
        int header = lines.indexOf("  RESULT  SAMPLES     FREQ      EXPECT  DESCRIPTION");
        lines.add(header + 2, "    1, 1   lots   of samples");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JcstressLog.parse(lines));
        assertTrue(e.getMessage().contains("not a result row"), e.getMessage());
    }

    @Test
    void aTableWithoutItsConfigurationIsAnError() {
        List<String> lines = new ArrayList<>(fixture("broken.log"));
        lines.removeIf(l -> l.startsWith("  Fork: #"));
        assertThrows(IllegalArgumentException.class, () -> JcstressLog.parse(lines));
    }

    @Test
    void forksOfOneConfigurationAreSummed() {
        List<String> lines = new ArrayList<>(fixture("tests.log"));
        // Give GeneralGracePeriodTest a second fork in its first configuration: a copy of the first.
        int start = lines.indexOf(".......... [OK] dev.gtramp.stress.rcu.GeneralGracePeriodTest");
        int end = lines.subList(start, lines.size()).indexOf("(ETA: in 00:01:00; at Mon, 2026-12-07 13:25:00)") + start;
        lines.addAll(end, List.copyOf(lines.subList(start, end)));
        TestResults t = JcstressLog.parse(lines).tests().get("dev.gtramp.stress.rcu.GeneralGracePeriodTest");
        String first = t.configurations().keySet().iterator().next();
        assertEquals(2 * 8_985, TestResults.samples(t.configurations().get(first)));
    }
}
