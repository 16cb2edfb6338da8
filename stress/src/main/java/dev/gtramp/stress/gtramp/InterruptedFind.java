package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;

import java.util.Set;

/**
 * What the padding index tests that split a caller's lookup share: CPU 0's call of {@code f} takes
 * an interrupt inside {@code kfunc_md_get_rcu}, after it has decoded {@code mov $slot, %eax} from
 * {@code f}'s padding and loaded the md array, before it uses either ({@code Cpu.interruptWindow},
 * where {@code PaddingMdIndex.find} takes one). The handler spins until the writer has run its
 * update, as a long interrupt would; the call is inside its read-side section throughout, so no
 * grace period can end meanwhile, and the writer runs no callback until the call is over.
 */
abstract class InterruptedFind extends GlobalTrial {
    /** Set by the handler once CPU 0 is inside the window. */
    private volatile boolean inWindow;
    /** Set by the writer once its update is over (or it gave up); ends the handler's spin. */
    private volatile boolean updated;
    /** Set by CPU 0 once its call returned, so the writer does not wait for a window never taken. */
    private volatile boolean callDone;

    InterruptedFind(KernelImage image, Set<UnsafeVariant> unsafe) {
        super(image, unsafe, RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
    }

    /** CPU 0: one call of {@code f} that takes the interrupt in its lookup; its result, {@link #FREED} or {@link #OTHER}. */
    final long callInterrupted(Cpu cpu) {
        cpu.raiseInterrupt(() -> {
            inWindow = true;
            await(() -> updated);
        });
        try {
            return callOnce(cpu);
        } finally {
            // A call that never reached the window leaves no interrupt behind.
            cpu.raiseInterrupt(null);
            callDone = true;
        }
    }

    /**
     * The writer: once CPU 0 is inside the window, runs {@code update}, then lets the call go on.
     * Returns false, having run nothing, if the call never got there.
     */
    final boolean updateInWindow(Runnable update) {
        try {
            if (!await(() -> inWindow || callDone) || !inWindow) {
                return false;
            }
            update.run();
            return true;
        } finally {
            updated = true;
        }
    }
}
