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
 * {@link MultiDetachesVsCallTest} with {@link UnsafeVariant#MULTI_RETIRE_AS_UNPUBLISHED}, broken on
 * purpose: each detach frees the trampoline image it replaced at once, as a failed attach frees the
 * image it never published, instead of by {@code bpf_tramp_image_put}. A call still running in the
 * replaced image (it entered before the site moved) reads freed memory: {@code 4, *}.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link MultiDetachesVsCall} and
 * inherited.
 */
@CaughtBy("4, .*")
@JCStressTest
@Description("broken on purpose (MULTI_RETIRE_AS_UNPUBLISHED), must show 4, *: a call runs in a replaced image freed at once")
@State
public class TrampMultiDetachRetireAsUnpublishedBroken extends MultiDetachesVsCall {
    public TrampMultiDetachRetireAsUnpublishedBroken() {
        super(EnumSet.of(UnsafeVariant.MULTI_RETIRE_AS_UNPUBLISHED), TrampolinesConfig.defaults());
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writers() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
