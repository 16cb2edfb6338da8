package dev.gtramp.stress.trampoline;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.KernelTrial;
import dev.gtramp.trampoline.TrampolinesConfig;

import java.util.Set;

/**
 * What the trampoline tests share: a {@link KernelTrial} on QSBR RCU whose per-function
 * trampolines use the single direct ops, with per-function multi links (the upstream kernel).
 */
abstract class TrampolineTrial extends KernelTrial {
    TrampolineTrial(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.QSBR, TrampolinesConfig.defaults());
    }
}
