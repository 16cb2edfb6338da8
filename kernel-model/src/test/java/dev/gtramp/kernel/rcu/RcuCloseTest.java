package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing RCU: {@code Kernel.close()} drains callbacks that cross domains (a tasks-RCU callback
 * that calls {@code call_rcu}, and back), and a {@code call_rcu} racing with the close either
 * runs or is refused with an exception, never silently dropped.
 */
class RcuCloseTest {

    private static List<KernelLog.Entry> errors(Kernel k) {
        return k.log().entries(e -> e.level() == KernelLog.Level.ERR);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aTasksCallbackThatCallsRcuRunsItsInnerCallbackBeforeCloseReturns(boolean manualCallbacks) {
        for (RcuFlavor flavor : new RcuFlavor[] {RcuFlavor.QSBR, RcuFlavor.GENERAL}) {
            Kernel k = Kernel.boot(KernelImage.synthetic(8, 1),
                    KernelConfig.defaults().withRcu(flavor).withManualRcuCallbacks(manualCallbacks));
            AtomicBoolean inner = new AtomicBoolean();
            AtomicBoolean innermost = new AtomicBoolean();
            // tasks -> rcu -> tasks, the shape of an fexit image's teardown.
            k.tasksRcu().call(() -> k.rcu().call(() -> {
                inner.set(true);
                k.tasksRcu().call(() -> innermost.set(true));
            }));
            k.close();
            assertTrue(inner.get(), flavor + ": the call_rcu made by a tasks-RCU callback never ran");
            assertTrue(innermost.get(), flavor + ": the call_rcu_tasks made by that callback never ran");
            assertTrue(errors(k).isEmpty(), () -> flavor + ": " + errors(k));
        }
    }

    @Test
    void callAfterCloseIsRefusedLoudly() {
        Kernel k = Kernel.boot(KernelImage.synthetic(8, 1));
        k.close();
        KernelException e = assertThrows(KernelException.class, () -> k.rcu().call(() -> { }));
        assertEquals(Errno.ESHUTDOWN, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("call_rcu"), e.getMessage());
    }

    /**
     * One thread keeps calling {@code call_rcu} while another closes the domain: every call that
     * returned normally must have had its callback run by the time close returns. The window is a
     * few instructions wide, so this is a stress test: before the fix it failed only sometimes.
     */
    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void callRacingCloseRunsOrIsRefused(RcuFlavor flavor) throws Exception {
        int lost = 0;
        for (int round = 0; round < 200; round++) {
            AbstractRcu rcu = RcuDomainSpec.of(flavor, new KernelLog(false), Duration.ofSeconds(20)).named("rcu").create();
            AtomicLong accepted = new AtomicLong();
            AtomicLong ran = new AtomicLong();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            Thread caller = new Thread(() -> {
                started.countDown();
                while (true) {
                    try {
                        rcu.call(ran::incrementAndGet);
                        accepted.incrementAndGet();
                    } catch (KernelException e) {
                        if (e.errno() != Errno.ESHUTDOWN) {
                            unexpected.set(e);
                        }
                        return;
                    } catch (Throwable t) {
                        unexpected.set(t);
                        return;
                    }
                }
            }, "caller-" + round);
            caller.start();
            started.await();
            // Let a few calls through first, so the worker is running when close comes.
            while (accepted.get() < (round % 7)) {
                Thread.onSpinWait();
            }
            rcu.close();
            long ranAtClose = ran.get();
            caller.join();
            assertEquals(null, unexpected.get());
            if (ranAtClose != accepted.get()) {
                lost++;
            }
        }
        assertEquals(0, lost, "rounds in which close returned before an accepted callback ran (or never ran it)");
    }

    @Test
    void closeFromManyThreadsAtOnceClosesOnce() throws Exception {
        Kernel k = Kernel.boot(KernelImage.synthetic(8, 1));
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            k.tasksRcu().call(() -> k.rcu().call(ran::incrementAndGet));
        }
        Thread[] closers = new Thread[4];
        for (int i = 0; i < closers.length; i++) {
            closers[i] = new Thread(k::close, "closer-" + i);
            closers[i].start();
        }
        for (Thread t : closers) {
            t.join();
        }
        assertEquals(100, ran.get());
        assertTrue(errors(k).isEmpty(), () -> errors(k).toString());
    }
}
