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
 * {@link GrowVsCall} with {@link UnsafeVariant#PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY}, broken on
 * purpose: growth publishes the new array and copies the slots into it afterwards, so a call that
 * loads it before slot 41 is copied finds no md and runs no program. Must show {@code 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GrowVsCall} and inherited.
 */
@CaughtBy("1, 0")
@JCStressTest
@Description("broken on purpose (PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY), must show 1, 0")
@State
public class PaddingMdArrayPublishBeforeCopyBroken extends GrowVsCall {
    public PaddingMdArrayPublishBeforeCopyBroken() {
        super(EnumSet.of(UnsafeVariant.PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY));
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
