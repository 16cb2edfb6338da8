package dev.gtramp.stress.gtramp;

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
 * where {@code PaddingMdIndex.find} takes one; {@code KernelTrial.callInterrupted}). The handler
 * spins until the writer has run its update, as a long interrupt would; the call is inside its
 * read-side section throughout, so no grace period can end meanwhile, and the writer runs no
 * callback until the call is over.
 */
abstract class InterruptedFind extends GlobalTrial {
    InterruptedFind(KernelImage image, Set<UnsafeVariant> unsafe) {
        super(image, unsafe, RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
    }
}
