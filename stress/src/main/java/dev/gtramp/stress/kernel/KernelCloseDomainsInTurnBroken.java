package dev.gtramp.stress.kernel;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link CloseVsCallbacks} with {@link UnsafeVariant#KERNEL_CLOSE_DOMAINS_IN_TURN}, broken on purpose:
 * close drains and closes RCU, then tasks RCU, so step 1 of a chain in flight, a tasks-RCU callback,
 * queues onto a closed RCU: the chain ends there and the kernel logs the refused call_rcu. Must show
 * {@code 1, 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CloseVsCallbacks} and inherited.
 */
@CaughtBy("1, 1, 1")
@JCStressTest
@Description("broken on purpose (KERNEL_CLOSE_DOMAINS_IN_TURN), must show 1, 1, 1")
@State
public class KernelCloseDomainsInTurnBroken extends CloseVsCallbacks {
    public KernelCloseDomainsInTurnBroken() {
        super(EnumSet.of(UnsafeVariant.KERNEL_CLOSE_DOMAINS_IN_TURN));
    }

    @Actor
    public void detacher() {
        detach();
    }

    @Actor
    public void closer() {
        close();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
