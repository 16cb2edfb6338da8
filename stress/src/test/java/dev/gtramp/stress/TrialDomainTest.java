package dev.gtramp.stress;

import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TrialDomain#linger}: a reader that saw a grace period wait for it keeps holding its object
 * long enough to see a grace period that waited briefly and then gave up on it (a bug someone could
 * write: a scan with a deadline), instead of leaving at the first stall warning.
 */
class TrialDomainTest {

    @Test
    void aReaderOutlastsAGracePeriodThatGivesUpAfterItsFirstStall() throws InterruptedException {
        TrialDomain domain = TrialDomain.of(RcuFlavor.QSBR, Set.of());
        TrialCpu cpu = domain.cpu(0, "cpu 0");
        cpu.bind();
        cpu.readLock();
        AtomicBoolean freed = new AtomicBoolean();
        // The writer's grace period waits for the reader and logs a stall; the broken writer then
        // stops waiting and frees the object 20 us later, with the reader still inside.
        Thread waiter = new Thread(domain::synchronize, "synchronize_rcu");
        Thread giveUp = new Thread(() -> {
            if (TrialDomain.await(() -> domain.stallWarnings() >= 1)) {
                long until = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(20);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                freed.set(true);
            }
        }, "gives up");
        waiter.start();
        giveUp.start();
        boolean settled = domain.linger(freed::get, 1);
        boolean seen = freed.get();
        cpu.readUnlock();
        cpu.unbind();
        waiter.join();
        giveUp.join();
        assertTrue(settled);
        assertTrue(seen, "the reader left at the first stall warning and missed the free that followed it");
    }
}
