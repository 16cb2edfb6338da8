package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link TrampMultiJoinVsOriginTest} with {@link UnsafeVariant#MULTI_RETIRE_AS_UNPUBLISHED}, broken on
 * purpose: the multi link's join frees image 1 at once, as if no site had ever called it, under
 * the call sleeping in its origin, which returns into freed code: {@code 1, 0, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ShimVsOrigin} and inherited.
 */
@CaughtBy("1, 0, 1")
@JCStressTest
@Description("broken on purpose (MULTI_RETIRE_AS_UNPUBLISHED), must show 1, 0, 1: the call returns into a freed image")
@State
public class TrampMultiRetireAsUnpublishedBroken extends ShimVsOrigin {
    public TrampMultiRetireAsUnpublishedBroken() {
        super(EnumSet.of(UnsafeVariant.MULTI_RETIRE_AS_UNPUBLISHED), TrampolinesConfig.defaults());
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
