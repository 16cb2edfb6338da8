package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** percpu_ref against the semantics of {@code lib/percpu-refcount.c}, operation by operation. */
class PercpuRefTest {
    private Kernel kernel;
    private Cpu cpu0;
    private final AtomicInteger released = new AtomicInteger();

    private PercpuRefs boot(RcuFlavor flavor) {
        kernel = Kernel.boot(KernelImage.synthetic(8, 1), KernelConfig.defaults().withRcu(flavor));
        cpu0 = kernel.bindCpu(0);
        return kernel.percpuRefs();
    }

    private PercpuRef ref(Set<PercpuRefs.InitFlag> flags) {
        return kernel.percpuRefs().init(r -> released.incrementAndGet(), flags);
    }

    @AfterEach
    void shutdown() {
        if (cpu0 != null) {
            cpu0.close();
        }
        if (kernel != null) {
            kernel.close();
        }
    }

    /** Runs {@code body} on CPU 1 from another thread. */
    private void onCpu1(java.util.function.Consumer<Cpu> body) throws Exception {
        CompletableFuture.runAsync(() -> {
            try (Cpu cpu1 = kernel.bindCpu(1)) {
                body.accept(cpu1);
            }
        }).get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void percpuGetsAndPutsOnDifferentCpusFoldToTheRightCountAtKill(RcuFlavor flavor) throws Exception {
        boot(flavor);
        PercpuRef ref = ref(Set.of());
        assertTrue(ref.isPercpu());
        ref.get(cpu0);
        ref.get(cpu0);
        // Puts on CPU 1 drive its slot negative; only the sum matters.
        onCpu1(c -> ref.put(c));
        assertEquals(2, ref.countForDebug(), "initial + 2 gets - 1 put");
        ref.kill();
        assertTrue(ref.isDying());
        kernel.rcu().barrier();
        assertFalse(ref.isPercpu());
        assertEquals(1, ref.countForDebug());
        assertEquals(0, released.get(), "a reference is still held");
        ref.put(cpu0);
        assertEquals(1, released.get());
        assertTrue(ref.isZero());
    }

    @Test
    void releaseRunsExactlyOnceOnTheThreadThatDropsTheLastReference() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = kernel.percpuRefs().init(r -> {
            released.incrementAndGet();
            assertEquals(Thread.currentThread(), cpu0.owner(), "the last put runs the release");
        });
        ref.get(cpu0);
        ref.kill();
        kernel.rcu().barrier();
        assertEquals(0, released.get());
        ref.put(cpu0);
        assertEquals(1, released.get());
        KernelException e = assertThrows(KernelException.class, () -> ref.put(cpu0));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("below zero"), e.getMessage());
        assertEquals(1, released.get(), "never twice");
    }

    @Test
    void withNoOtherReferenceTheReleaseRunsOnTheRcuCallbackThread() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        // A read section on cpu0 holds the grace period open: without it no CPU is online, the
        // grace period ends at once, and the callback thread may release before the check.
        cpu0.rcu().lock();
        ref.kill();
        assertEquals(0, released.get(), "not before the grace period: the switch holds a reference");
        cpu0.rcu().unlock();
        kernel.rcu().barrier();
        assertEquals(1, released.get());
    }

    @Test
    void tryGetLiveFailsOnceTheKillIsConfirmedAndTryGetFailsAtZero() throws Exception {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        assertTrue(ref.tryGetLive(cpu0));
        CompletableFuture<Boolean> confirmedLive = new CompletableFuture<>();
        ref.killAndConfirm(r -> confirmedLive.complete(r.isDying()));
        assertTrue(confirmedLive.get(20, TimeUnit.SECONDS));
        assertFalse(ref.tryGetLive(cpu0), "dead: tryget_live fails everywhere after the confirmation");
        onCpu1(c -> assertFalse(ref.tryGetLive(c)));
        assertTrue(ref.tryGet(cpu0), "tryget still succeeds while the count is above zero");
        ref.put(cpu0);
        ref.put(cpu0);
        // The confirmation runs before the switch drops its own reference on the callback thread,
        // so the last put may be that one, a moment after ours.
        await().atMost(Duration.ofSeconds(20)).until(() -> released.get() == 1);
        assertEquals(1, released.get());
        assertFalse(ref.tryGet(cpu0), "inc_not_zero fails at zero");
    }

    @Test
    void killTwiceIsAnError() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        ref.kill();
        KernelException e = assertThrows(KernelException.class, ref::kill);
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
        assertEquals(1, kernel.log().entries(x -> x.facility().equals("percpu_ref")).size());
    }

    @Test
    void useAfterExitAndExitTwiceAreErrors() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        ref.kill();
        kernel.rcu().barrier();
        assertEquals(1, released.get());
        int live = kernel.perCpu().liveVariables();
        ref.exit();
        assertEquals(live, kernel.perCpu().liveVariables(), "the kill already freed the counters");
        for (Runnable use : new Runnable[] {() -> ref.get(cpu0), () -> ref.put(cpu0), () -> ref.tryGet(cpu0), ref::exit,
            ref::kill}) {
            KernelException e = assertThrows(KernelException.class, use::run);
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void exitFreesThePerCpuCountersOnce() {
        boot(RcuFlavor.QSBR);
        int before = kernel.perCpu().liveVariables();
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        assertEquals(before + 1, kernel.perCpu().liveVariables());
        ref.kill();
        kernel.rcu().barrier();
        assertEquals(before + 1, kernel.perCpu().liveVariables(), "ALLOW_REINIT keeps them across the kill");
        ref.exit();
        assertEquals(before, kernel.perCpu().liveVariables());
    }

    @Test
    void switchToAtomicSyncAndBackToPercpu() {
        boot(RcuFlavor.QSBR);
        // Going back to percpu mode needs the counters, which only ALLOW_REINIT keeps after a switch.
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        ref.get(cpu0);
        ref.switchToAtomicSync();
        assertFalse(ref.isPercpu());
        assertFalse(ref.isSwitching());
        // As in the kernel, the switch drops its own reference just after it wakes the waiter.
        await().atMost(Duration.ofSeconds(20)).until(() -> ref.countForDebug() == 2);
        ref.put(cpu0);
        ref.get(cpu0);
        ref.switchToPercpu();
        assertTrue(ref.isPercpu());
        assertEquals(2, ref.countForDebug());
        ref.put(cpu0);
        ref.kill();
        kernel.rcu().barrier();
        assertEquals(1, released.get());
    }

    @Test
    void switchToAtomicStaysAcrossKillAndReinit() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.ATOMIC));
        assertFalse(ref.isPercpu());
        ref.kill();
        assertEquals(1, released.get(), "atomic mode: the initial put is the last");
        ref.reinit();
        assertFalse(ref.isPercpu(), "force_atomic is sticky");
        assertEquals(1, ref.countForDebug());
        ref.switchToPercpu();
        assertTrue(ref.isPercpu());
    }

    @Test
    void resurrectAndReinit() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        ref.get(cpu0);
        ref.kill();
        kernel.rcu().barrier();
        ref.resurrect();
        assertFalse(ref.isDying());
        assertTrue(ref.isPercpu());
        assertEquals(2, ref.countForDebug(), "the kept reference and the resurrected initial one");
        KernelException e = assertThrows(KernelException.class, ref::resurrect);
        assertTrue(e.getMessage().contains("not dead"), e.getMessage());
        e = assertThrows(KernelException.class, ref::reinit);
        assertTrue(e.getMessage().contains("not at zero"), e.getMessage());
        ref.put(cpu0);
        ref.kill();
        kernel.rcu().barrier();
        assertEquals(1, released.get());
        ref.reinit();
        assertEquals(1, ref.countForDebug());
        assertTrue(ref.isPercpu());
    }

    /**
     * A resurrect right after a kill finds the kill's switch to atomic mode waiting for its grace
     * period: it waits for the switch before zeroing the per-CPU counters, so the reference CPU 0
     * counted there is folded, not lost.
     */
    @Test
    void resurrectWaitsForTheKillsSwitchBeforeZeroingThePerCpuCounters() throws Exception {
        kernel = Kernel.boot(KernelImage.synthetic(8, 1), KernelConfig.defaults().withRcu(RcuFlavor.QSBR)
                .withManualRcuCallbacks(true));
        cpu0 = kernel.bindCpu(0);
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        ref.get(cpu0);
        ref.kill();
        assertTrue(ref.isSwitching(), "the kill's callback has not run");
        CompletableFuture<Void> resurrect = CompletableFuture.runAsync(ref::resurrect);
        Thread.sleep(50);
        assertFalse(resurrect.isDone(), "the resurrect waits for the switch in flight");
        kernel.rcu().runPendingCallbacks();
        resurrect.get(20, TimeUnit.SECONDS);
        assertTrue(ref.isPercpu());
        assertEquals(2, ref.countForDebug(), "CPU 0's reference and the resurrected initial one");
        ref.put(cpu0);
        ref.kill();
        kernel.rcu().runPendingCallbacks();
        assertEquals(1, released.get(), "released once the last reference is gone");
    }

    @Test
    void withoutAllowReinitTheSwitchToAtomicFreesTheCountersAndPercpuModeIsRefused() {
        boot(RcuFlavor.QSBR);
        int before = kernel.perCpu().liveVariables();
        PercpuRef ref = ref(Set.of());
        ref.switchToAtomicSync();
        assertEquals(before, kernel.perCpu().liveVariables(), "percpu_ref_call_confirm_rcu frees them");
        KernelException e = assertThrows(KernelException.class, ref::switchToPercpu);
        assertTrue(e.getMessage().contains("ALLOW_REINIT"), e.getMessage());
    }

    @Test
    void resurrectWithoutAllowReinitAfterTheCountersWereFreedIsRefusedWithoutChangingTheRef() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        ref.get(cpu0);
        ref.kill();
        kernel.rcu().barrier();
        KernelException e = assertThrows(KernelException.class, ref::resurrect);
        assertTrue(e.getMessage().contains("ALLOW_REINIT"), e.getMessage());
        assertTrue(ref.isDying());
        assertEquals(1, ref.countForDebug());
        ref.put(cpu0);
        assertEquals(1, released.get());
    }

    @Test
    void initDeadStartsAtZero() {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of(PercpuRefs.InitFlag.DEAD));
        assertTrue(ref.isZero());
        assertTrue(ref.isDying());
        assertFalse(ref.tryGetLive(cpu0));
        ref.reinit();
        assertEquals(1, ref.countForDebug());
        assertTrue(ref.isPercpu());
    }

    @Test
    void getAndPutAllocateNothingAndTouchOnlyTheCpusSlot() throws Exception {
        boot(RcuFlavor.QSBR);
        PercpuRef ref = ref(Set.of());
        for (int i = 0; i < 1000; i++) {
            ref.get(cpu0);
        }
        onCpu1(c -> {
            for (int i = 0; i < 1000; i++) {
                ref.put(c);
            }
        });
        assertEquals(1, ref.countForDebug());
        assertTrue(ref.isPercpu());
    }
}
