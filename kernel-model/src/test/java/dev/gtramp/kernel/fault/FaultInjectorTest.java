package dev.gtramp.kernel.fault;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fault points: arming, the fault_attr knobs, glob rules, counts, and the Nth call under a race. */
class FaultInjectorTest {
    private final FaultInjector faults = new FaultInjector();

    /** Which of the next {@code n} calls fail, as a string of '.' (passed) and 'X' (failed). */
    private static String pattern(FaultPoint p, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(p.shouldFail() ? 'X' : '.');
        }
        return sb.toString();
    }

    @Test
    void aPointIsCreatedOnFirstUseAndTheSameInstanceAfterwards() {
        FaultPoint p = faults.point("ftrace:update");
        assertSame(p, faults.point("ftrace:update"));
        assertNotEquals(p, faults.point("text:patch"));
        assertEquals("ftrace:update", p.name());
        assertEquals(List.of("ftrace:update", "text:patch"), faults.points().stream().map(FaultPointStats::name).toList());
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> faults.point(" ")).errno());
    }

    @Test
    void aDisarmedPointNeverFailsAndCountsNothing() {
        FaultPoint p = faults.point("x");
        assertEquals("..........", pattern(p, 10));
        assertFalse(p.isArmed());
        assertNull(p.spec());
        assertEquals(0, p.calls());
        assertEquals(0, p.failures());
    }

    @Test
    void neverCountsCallsWithoutFailing() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.never());
        assertEquals(".....", pattern(p, 5));
        assertEquals(5, p.calls());
        assertEquals(0, p.failures());
    }

    @Test
    void nthFailsExactlyTheNthCallFromNowOnce() {
        FaultPoint p = faults.point("x");
        pattern(p, 3); // calls before arming do not count towards n
        p.arm(FaultSpec.nth(3));
        assertEquals("..X.......", pattern(p, 10));
        assertEquals(10, p.calls());
        assertEquals(1, p.failures());
        // Arming again starts the numbering again.
        p.arm(FaultSpec.nth(1));
        assertEquals("X....", pattern(p, 5));
        assertEquals(2, p.failures());
        assertThrows(KernelException.class, () -> FaultSpec.nth(0));
    }

    @Test
    void alwaysFailsEveryCallUntilDisarmed() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.always());
        assertTrue(p.isArmed());
        assertEquals("XXXXXX", pattern(p, 6));
        p.disarm();
        assertEquals("...", pattern(p, 3));
        assertEquals(6, p.calls(), "disarmed calls are not counted");
        assertEquals(6, p.failures());
    }

    @Test
    void timesLimitsTheFailures() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.always().withTimes(2));
        assertEquals("XX......", pattern(p, 8));
        p.arm(FaultSpec.always().withTimes(0));
        assertEquals("....", pattern(p, 4));
    }

    @Test
    void intervalAndSkipSelectWhichCallsAreEligible() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.always().withInterval(3));
        assertEquals("..X..X..X.", pattern(p, 10));
        p.arm(FaultSpec.always().withSkip(4).withInterval(2).withTimes(2));
        assertEquals(".....X.X....", pattern(p, 12));
    }

    @Test
    void probabilityFromASeedGivesAReproduciblePattern() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.probability(0.3, 42));
        String first = pattern(p, 400);
        p.arm(FaultSpec.probability(0.3, 42));
        assertEquals(first, pattern(p, 400), "same seed, same calls fail");
        // Another point armed with the same spec fails the same call numbers.
        FaultPoint q = faults.point("y");
        q.arm(FaultSpec.probability(0.3, 42));
        assertEquals(first, pattern(q, 400));
        p.arm(FaultSpec.probability(0.3, 43));
        assertNotEquals(first, pattern(p, 400), "another seed, another pattern");

        long failed = first.chars().filter(c -> c == 'X').count();
        assertTrue(failed > 80 && failed < 160, "about 30% of 400 calls fail: " + failed);
    }

    @Test
    void probabilityWithTimesStopsAfterTheLimit() {
        FaultPoint p = faults.point("x");
        p.arm(FaultSpec.probability(0.5, 7));
        String unlimited = pattern(p, 100);
        p.arm(FaultSpec.probability(0.5, 7).withTimes(3));
        String limited = pattern(p, 100);
        int third = nthIndexOf(unlimited, 3);
        assertEquals(unlimited.substring(0, third + 1), limited.substring(0, third + 1));
        assertEquals(-1, limited.indexOf('X', third + 1));
    }

    private static int nthIndexOf(String s, int n) {
        int at = -1;
        for (int i = 0; i < n; i++) {
            at = s.indexOf('X', at + 1);
        }
        return at;
    }

    @Test
    void specsAreValidated() {
        assertThrows(KernelException.class, () -> FaultSpec.probability(1.5, 0));
        assertThrows(KernelException.class, () -> FaultSpec.probability(Double.NaN, 0));
        assertThrows(KernelException.class, () -> FaultSpec.always().withInterval(0));
        assertThrows(KernelException.class, () -> FaultSpec.always().withTimes(-2));
        assertThrows(KernelException.class, () -> FaultSpec.always().withSkip(-1));
        assertEquals("probability=0.25 seed=9 interval=2 times=3 skip=1",
                FaultSpec.probability(0.25, 9).withInterval(2).withTimes(3).withSkip(1).toString());
    }

    @Test
    void checkThrowsTheErrnoNamingThePointAndCulprit() {
        FaultPoint p = faults.point("ftrace:update");
        p.check(Errno.ENOMEM, "ftrace_hash of 3 entries"); // disarmed: nothing
        p.arm(FaultSpec.nth(1));
        KernelException e = assertThrows(KernelException.class, () -> p.check(Errno.ENOMEM, "ftrace_hash of 3 entries"));
        assertEquals(Errno.ENOMEM, e.errno());
        assertEquals("ENOMEM: fault injected at ftrace:update: ftrace_hash of 3 entries", e.getMessage());
        p.check(Errno.ENOMEM, "again"); // the one failure is spent
    }

    @Test
    void aGlobArmsExistingAndLaterPointsEachWithItsOwnCounters() {
        FaultPoint kfuncMd = faults.point("alloc:kfunc_md");
        FaultPoint patch = faults.point("text:patch");
        assertEquals(1, faults.arm("alloc:*", FaultSpec.nth(2)));
        FaultPoint tramp = faults.point("alloc:bpf_trampoline"); // created after arming
        assertTrue(tramp.isArmed());
        assertFalse(patch.isArmed());
        assertEquals(".X..", pattern(kfuncMd, 4));
        assertEquals(".X..", pattern(tramp, 4), "own call numbering, not shared with kfunc_md");
        assertEquals("....", pattern(patch, 4));

        List<FaultPointStats> stats = faults.points();
        assertEquals("always times=1 skip=1", FaultSpec.nth(2).toString());
        assertEquals(List.of("alloc:bpf_trampoline calls=4 failures=1 armed always times=1 skip=1",
                        "alloc:kfunc_md calls=4 failures=1 armed always times=1 skip=1",
                        "text:patch calls=0 failures=0 disarmed"),
                stats.stream().map(FaultPointStats::toString).toList());
        assertEquals(2, faults.failures());
    }

    @Test
    void theLatestMatchingRuleWinsAndDisarmDropsARule() {
        faults.arm("alloc:*", FaultSpec.always());
        faults.arm("alloc:kfunc_*", FaultSpec.never());
        assertEquals(FaultSpec.never(), faults.point("alloc:kfunc_md").spec());
        assertEquals(FaultSpec.always(), faults.point("alloc:bpf_tramp_image").spec());

        assertEquals(1, faults.disarm("alloc:kfunc_*"));
        assertFalse(faults.point("alloc:kfunc_md").isArmed());
        assertEquals(FaultSpec.always(), faults.point("alloc:kfunc_md2").spec(), "the alloc:* rule still arms new points");

        assertEquals(3, faults.disarm("alloc:*"));
        assertFalse(faults.point("alloc:bpf_tramp_image").isArmed());
        assertFalse(faults.point("alloc:later").isArmed(), "no rule is left");
        assertThrows(KernelException.class, () -> faults.arm("alloc:[", FaultSpec.always()));
    }

    @Test
    void disarmAllDropsEveryRuleAndArming() {
        FaultPoint p = faults.point("a");
        p.arm(FaultSpec.always());
        faults.arm("b*", FaultSpec.always());
        faults.disarmAll();
        assertFalse(p.isArmed());
        assertFalse(faults.point("b1").isArmed());
    }

    /**
     * Two threads race through an armed "fail the Nth call" point many times over; every round
     * exactly one call fails. A non-atomic decision would let both threads fail.
     */
    @Test
    void exactlyOneCallFailsWhenTwoThreadsRaceForTheNthCall() throws Exception {
        FaultPoint p = faults.point("race");
        int rounds = 2000;
        int callsPerThread = 4;
        CyclicBarrier barrier = new CyclicBarrier(2, () -> p.arm(FaultSpec.nth(1 + (int) (p.calls() % 3))));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                results.add(pool.submit(() -> {
                    long[] failuresPerRound = new long[rounds];
                    for (int r = 0; r < rounds; r++) {
                        barrier.await(10, TimeUnit.SECONDS); // the barrier action re-arms the point
                        for (int i = 0; i < callsPerThread; i++) {
                            if (p.shouldFail()) {
                                failuresPerRound[r]++;
                            }
                        }
                        barrier.await(10, TimeUnit.SECONDS);
                    }
                    return failuresPerRound;
                }));
            }
            long[] a = results.get(0).get(60, TimeUnit.SECONDS);
            long[] b = results.get(1).get(60, TimeUnit.SECONDS);
            for (int r = 0; r < rounds; r++) {
                assertEquals(1, a[r] + b[r], "round " + r + ": failures by thread 0 and 1 were " + a[r] + " and " + b[r]);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(rounds, p.failures());
        assertEquals(rounds * 2L * callsPerThread, p.calls());
    }
}
