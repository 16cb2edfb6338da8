package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link MixVsCall} with {@link UnsafeVariant#GTRAMP_MIX_DEL_THEN_ADD}, broken on purpose: each move
 * deletes f's entry from {@code direct_ops} and adds it back with the new target, so a call between the
 * two runs no program. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link MixVsCall} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (GTRAMP_MIX_DEL_THEN_ADD), must show 1, 1")
@State
public class GtrampMixDelThenAddBroken extends MixVsCall {
    public GtrampMixDelThenAddBroken() {
        super(EnumSet.of(UnsafeVariant.GTRAMP_MIX_DEL_THEN_ADD));
    }

    @Actor
    public void cpu0(II_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
