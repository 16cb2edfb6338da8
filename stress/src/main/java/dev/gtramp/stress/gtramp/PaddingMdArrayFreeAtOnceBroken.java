package dev.gtramp.stress.gtramp;

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
 * {@link GrowVsInterruptedFind} with {@link UnsafeVariant#PADDING_MD_ARRAY_FREE_AT_ONCE}, broken on
 * purpose: growth frees the replaced array at once, under the call that loaded it, which then reads
 * its md from freed memory. Must show {@code 2, 0, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GrowVsInterruptedFind} and inherited.
 */
@CaughtBy("2, 0, 1")
@JCStressTest
@Description("broken on purpose (PADDING_MD_ARRAY_FREE_AT_ONCE), must show 2, 0, 1")
@State
public class PaddingMdArrayFreeAtOnceBroken extends GrowVsInterruptedFind {
    public PaddingMdArrayFreeAtOnceBroken() {
        super(EnumSet.of(UnsafeVariant.PADDING_MD_ARRAY_FREE_AT_ONCE));
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
