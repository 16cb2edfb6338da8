package dev.gtramp.stress;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
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
        // The first round runs the stall path cold (class loading, lambda bootstraps: milliseconds);
        // the hold is for a warm JVM, as in a jcstress fork, so only the later rounds are judged.
        readerAgainstAGracePeriodThatGivesUp();
        for (int round = 0; round < 3; round++) {
            assertTrue(readerAgainstAGracePeriodThatGivesUp(),
                    "the reader left at the first stall warning and missed the free that followed it");
        }
    }

    /** Whether the reader, lingering in its section, saw the free of a grace period that gave up on it. */
    private static boolean readerAgainstAGracePeriodThatGivesUp() throws InterruptedException {
        // The broken grace period waits for the reader, logs its stall, then gives up on it; its
        // writer frees the object at once, with the reader still inside.
        TrialDomain domain = TrialDomain.of(RcuFlavor.QSBR, EnumSet.of(UnsafeVariant.RCU_GP_GIVES_UP_ON_STALL));
        TrialCpu cpu = domain.cpu(0, "cpu 0");
        cpu.bind();
        cpu.readLock();
        AtomicBoolean freed = new AtomicBoolean();
        Thread waiter = new Thread(() -> {
            domain.synchronize();
            freed.set(true);
        }, "synchronize_rcu");
        waiter.start();
        boolean settled = domain.linger(freed::get, 1);
        boolean seen = freed.get();
        cpu.readUnlock();
        cpu.unbind();
        waiter.join();
        assertTrue(settled);
        return seen;
    }
}
