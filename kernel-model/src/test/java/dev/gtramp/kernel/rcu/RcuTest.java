package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's RCU, both flavors, driven the way the model uses it: readers are simulated CPUs whose
 * kernel calls (QSBR) or {@code rcu_read_lock} sections (general) hold references.
 */
class RcuTest {
    private static final Duration AWAIT = Duration.ofSeconds(20);

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private Kernel kernel;

    private Kernel boot(RcuFlavor flavor) {
        kernel = Kernel.boot(KernelImage.synthetic(8, 1), KernelConfig.defaults().withRcu(flavor));
        return kernel;
    }

    @AfterEach
    void shutdown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(20, TimeUnit.SECONDS));
        if (kernel != null) {
            kernel.close();
        }
    }

    /** A reader on CPU 1 that enters a read-side section and stays there until released. */
    private final class BlockedReader {
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Void> done;

        BlockedReader(Kernel k) {
            KernelFunction fn = k.functions().get(0);
            fn.setBody(frame -> {
                RcuReader r = frame.cpu().rcu();
                r.lock();
                inside.countDown();
                awaitUninterruptibly(release);
                r.unlock();
                return 0;
            });
            done = CompletableFuture.runAsync(() -> {
                try (Cpu cpu = k.bindCpu(1)) {
                    cpu.callWith(fn, new long[fn.argWords()]);
                }
            }, pool);
            awaitUninterruptibly(inside);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            assertTrue(latch.await(20, TimeUnit.SECONDS), "latch timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Preemptible RCU: a reader preempted inside its section keeps it when the CPU it ran on goes
     * offline, so a grace period's scan still waits for it until its {@code rcu_read_unlock}.
     */
    @Test
    void aGeneralReaderKeepsItsSectionAcrossItsCpuGoingOffline() {
        EpochRcu rcu = new EpochRcu(RcuDomainSpec.of(RcuFlavor.GENERAL, new KernelLog(false),
                Duration.ofSeconds(10)).withManualCallbacks(true));
        RcuReader reader = rcu.readerFor(new ThreadContext(Thread.currentThread()));
        reader.lock();
        reader.offline();
        assertFalse(rcu.scanReadersOnce(), "the scan must wait for the preempted reader");
        reader.online();
        reader.unlock();
        assertTrue(rcu.scanReadersOnce(), "after rcu_read_unlock the reader is quiescent");
        rcu.close();
    }

    /**
     * QSBR: a CPU that goes offline in the middle of a grace period is in an extended quiescent
     * state, which neither that grace period nor any later one waits for.
     */
    @Test
    void aQsbrCpuThatGoesOfflineIsWaitedForByNoLaterGracePeriod() {
        QsbrRcu rcu = new QsbrRcu(RcuDomainSpec.of(RcuFlavor.QSBR, new KernelLog(false),
                Duration.ofSeconds(10)).withManualCallbacks(true));
        RcuReader reader = rcu.readerFor(new ThreadContext(Thread.currentThread()));
        reader.online();
        assertFalse(rcu.scanReadersOnce(), "an online CPU that has not passed a quiescent state is waited for");
        reader.offline();
        assertTrue(rcu.scanReadersOnce(), "an offline CPU is not waited for");
        rcu.synchronize();
        assertTrue(rcu.scanReadersOnce(), "nor by the grace period after the next");
        rcu.close();
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void synchronizeWithNoReaderInASectionCompletesAGracePeriod(RcuFlavor flavor) {
        Rcu rcu = boot(flavor).rcu();
        rcu.synchronize();
        rcu.synchronize();
        assertEquals(2, rcu.stats().gracePeriods());
        assertEquals(2, rcu.stats().synchronizeCalls());
        assertEquals(flavor, rcu.flavor());
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void synchronizeWaitsForAReaderInsideItsSection(RcuFlavor flavor) throws Exception {
        Kernel k = boot(flavor);
        BlockedReader reader = new BlockedReader(k);
        CompletableFuture<Void> gp = CompletableFuture.runAsync(k.rcu()::synchronize, pool);
        // While the reader is inside, the grace period cannot end; this direction cannot be flaky.
        assertThrows(java.util.concurrent.TimeoutException.class, () -> gp.get(300, TimeUnit.MILLISECONDS));
        reader.release.countDown();
        gp.get(20, TimeUnit.SECONDS);
        reader.done.get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void callbacksRunAfterTheGracePeriodInOrder(RcuFlavor flavor) throws Exception {
        Kernel k = boot(flavor);
        BlockedReader reader = new BlockedReader(k);
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 100; i++) {
            int n = i;
            k.rcu().call(() -> ran.add(n));
        }
        Thread.sleep(200);
        assertTrue(ran.isEmpty(), "no callback may run while a reader that predates it is inside its section");
        reader.release.countDown();
        k.rcu().barrier();
        assertEquals(100, ran.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i, ran.get(i));
        }
        RcuStats s = k.rcu().stats();
        assertEquals(101, s.callbacksQueued(), "100 callbacks and the barrier's own");
        assertEquals(101, s.callbacksInvoked());
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void concurrentCallersShareGracePeriods(RcuFlavor flavor) throws Exception {
        Kernel k = boot(flavor);
        BlockedReader reader = new BlockedReader(k);
        int callers = 8;
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            waits.add(CompletableFuture.runAsync(k.rcu()::synchronize, pool));
        }
        await().atMost(AWAIT).until(() -> k.rcu().stats().synchronizeCalls() == callers);
        reader.release.countDown();
        for (CompletableFuture<Void> w : waits) {
            w.get(20, TimeUnit.SECONDS);
        }
        // The grace period the reader holds up, and the next one, serve every caller whose snapshot
        // was taken before the release; a caller still between its count and its snapshot at the
        // release may need a third. Never one each.
        long gps = k.rcu().stats().gracePeriods();
        assertTrue(gps >= 1 && gps <= 3, "grace periods " + gps + " for " + callers + " concurrent callers");
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void synchronizeInsideAReadSectionIsEdeadlk(RcuFlavor flavor) {
        Kernel k = boot(flavor);
        KernelFunction fn = k.functions().get(0);
        AtomicReference<KernelException> caught = new AtomicReference<>();
        fn.setBody(frame -> {
            frame.cpu().rcu().lock();
            try {
                k.rcu().synchronize();
            } catch (KernelException e) {
                caught.set(e);
            } finally {
                frame.cpu().rcu().unlock();
            }
            return 0;
        });
        try (Cpu cpu = k.bindCpu(0)) {
            cpu.callWith(fn, new long[fn.argWords()]);
        }
        assertEquals(Errno.EDEADLK, caught.get().errno());
        assertTrue(caught.get().getMessage().contains("cpu 0"), caught.get().getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void theCallersOwnCpuBetweenCallsDoesNotBlockItsGracePeriod(RcuFlavor flavor) {
        Kernel k = boot(flavor);
        try (Cpu cpu = k.bindCpu(0)) {
            cpu.callWith(k.functions().get(0), new long[k.functions().get(0).argWords()]);
            k.rcu().synchronize();
            k.tasksRcu().synchronize();
        }
        assertEquals(1, k.rcu().stats().gracePeriods());
    }

    @org.junit.jupiter.api.Test
    void aQsbrCpuThatKeepsCallingReportsQuiescentStatesByItself() throws Exception {
        Kernel k = boot(RcuFlavor.QSBR);
        KernelFunction fn = k.functions().get(0);
        CountDownLatch bound = new CountDownLatch(1);
        CompletableFuture<Void> stop = new CompletableFuture<>();
        CompletableFuture<Void> busy = CompletableFuture.runAsync(() -> {
            try (Cpu cpu = k.bindCpu(1)) {
                bound.countDown();
                long[] args = new long[fn.argWords()];
                while (!stop.isDone()) {
                    cpu.callWith(fn, args);
                }
            }
        }, pool);
        awaitUninterruptibly(bound);
        for (int i = 0; i < 20; i++) {
            k.rcu().synchronize();
            k.tasksRcu().synchronize();
        }
        stop.complete(null);
        busy.get(20, TimeUnit.SECONDS);
        assertEquals(20, k.rcu().stats().gracePeriods());
        assertEquals(0, k.rcu().stats().stallWarnings());
    }

    @org.junit.jupiter.api.Test
    void aBoundCpuBetweenCallsNeverHoldsUpAGracePeriod() throws Exception {
        Kernel k = boot(RcuFlavor.QSBR);
        CountDownLatch bound = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
            try (Cpu cpu = k.bindCpu(1)) {
                cpu.callWith(k.functions().get(0), new long[k.functions().get(0).argWords()]);
                bound.countDown();
                awaitUninterruptibly(done);
            }
        }, pool);
        awaitUninterruptibly(bound);
        k.rcu().synchronize();
        k.tasksRcu().synchronize();
        done.countDown();
        other.get(20, TimeUnit.SECONDS);
        assertEquals(0, k.rcu().stats().stallWarnings());
    }

    @org.junit.jupiter.api.Test
    void aCpuStuckInsideACallStallsTheGracePeriodWithAWarningNamingIt() throws Exception {
        kernel = Kernel.boot(KernelImage.synthetic(8, 1),
                KernelConfig.defaults().withRcuStallTimeout(Duration.ofMillis(100)));
        BlockedReader reader = new BlockedReader(kernel);
        CompletableFuture<Void> gp = CompletableFuture.runAsync(kernel.rcu()::synchronize, pool);
        await().atMost(AWAIT).until(() -> kernel.rcu().stats().stallWarnings() == 1);
        KernelLog.Entry warning = kernel.log().entries(e -> e.facility().equals("rcu")).get(0);
        assertTrue(warning.message().contains("stall on cpu 1") && warning.message().contains("depth 1"),
                warning.message());
        assertFalse(gp.isDone());
        reader.release.countDown();
        gp.get(20, TimeUnit.SECONDS);
        reader.done.get(20, TimeUnit.SECONDS);
    }

    @org.junit.jupiter.api.Test
    void anExplicitQsbrReadSectionOutsideACallHoldsUpGracePeriodsUntilUnlock() throws Exception {
        Kernel k = boot(RcuFlavor.QSBR);
        try (Cpu cpu = k.bindCpu(0)) {
            RcuReader r = cpu.rcu();
            assertFalse(r.isOnline(), "between calls a CPU is in an extended quiescent state");
            r.lock();
            assertTrue(r.isOnline());
            CompletableFuture<Void> gp = CompletableFuture.runAsync(k.rcu()::synchronize, pool);
            assertThrows(java.util.concurrent.TimeoutException.class, () -> gp.get(200, TimeUnit.MILLISECONDS));
            r.unlock();
            gp.get(20, TimeUnit.SECONDS);
            assertFalse(r.isOnline());
            KernelException e = assertThrows(KernelException.class, r::unlock);
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("rcu_read_unlock without rcu_read_lock"), e.getMessage());
        }
    }

    @org.junit.jupiter.api.Test
    void generalFlavorReadersNestAndRejectAnUnbalancedUnlock() throws Exception {
        Kernel k = boot(RcuFlavor.GENERAL);
        RcuReader r = k.rcu().register();
        r.lock();
        r.lock();
        r.unlock();
        assertTrue(r.inReadSection(), "still inside the outer section");
        CompletableFuture<Void> gp = CompletableFuture.runAsync(k.rcu()::synchronize, pool);
        assertThrows(java.util.concurrent.TimeoutException.class, () -> gp.get(200, TimeUnit.MILLISECONDS));
        KernelException busy = assertThrows(KernelException.class, () -> k.rcu().unregister(r));
        assertEquals(Errno.EBUSY, busy.errno());
        r.unlock();
        gp.get(20, TimeUnit.SECONDS);
        KernelException e = assertThrows(KernelException.class, r::unlock);
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("rcu_read_unlock without rcu_read_lock"), e.getMessage());
        k.rcu().unregister(r);
    }

    @org.junit.jupiter.api.Test
    void barrierInsideACallbackIsEdeadlkAndACallbackThatThrowsIsLogged() {
        Kernel k = boot(RcuFlavor.QSBR);
        AtomicReference<KernelException> caught = new AtomicReference<>();
        k.rcu().call(() -> {
            try {
                k.rcu().barrier();
            } catch (KernelException e) {
                caught.set(e);
            }
        });
        k.rcu().call(() -> {
            throw new IllegalStateException("boom");
        });
        k.rcu().barrier();
        assertEquals(Errno.EDEADLK, caught.get().errno());
        assertTrue(k.log().entries(e -> e.message().contains("boom")).size() == 1, k.log().entries().toString());
    }

    @org.junit.jupiter.api.Test
    void closeRunsPendingCallbacksAndRefusesNewOnes() {
        Kernel k = boot(RcuFlavor.QSBR);
        CountDownLatch ran = new CountDownLatch(1);
        k.rcu().call(ran::countDown);
        k.close();
        assertEquals(0, ran.getCount());
        KernelException e = assertThrows(KernelException.class, () -> k.rcu().call(() -> { }));
        assertEquals(Errno.ESHUTDOWN, e.errno());
    }

    @org.junit.jupiter.api.Test
    void manualCallbackDomainsRunCallbacksOnTheCaller() {
        QsbrRcu rcu = new QsbrRcu(RcuDomainSpec.of(RcuFlavor.QSBR, new KernelLog(false),
                Duration.ofSeconds(21)).named("test").withManualCallbacks(true));
        List<String> ran = new ArrayList<>();
        rcu.call(() -> ran.add(Thread.currentThread().getName()));
        assertTrue(ran.isEmpty());
        assertEquals(1, rcu.runPendingCallbacks());
        assertEquals(List.of(Thread.currentThread().getName()), ran);
        assertEquals(0, rcu.runPendingCallbacks());
        assertEquals(1, rcu.stats().gracePeriods());
    }

    @org.junit.jupiter.api.Test
    void tasksIsNotAMainFlavor() {
        KernelException e = assertThrows(KernelException.class, () -> KernelConfig.defaults().withRcu(RcuFlavor.TASKS));
        assertEquals(Errno.EINVAL, e.errno());
    }
}
