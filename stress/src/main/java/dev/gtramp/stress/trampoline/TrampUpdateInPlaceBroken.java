package dev.gtramp.stress.trampoline;

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
 * {@link AttachVsCall} with {@link UnsafeVariant#TRAMP_IMAGE_UPDATE_IN_PLACE}, broken on
 * purpose: an update overwrites the running image's program slots in place instead of building a new
 * image, so a call can run half of one set and half of another. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link AttachVsCall} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (TRAMP_IMAGE_UPDATE_IN_PLACE), must show 1, 1")
@State
public class TrampUpdateInPlaceBroken extends AttachVsCall {
    public TrampUpdateInPlaceBroken() {
        super(EnumSet.of(UnsafeVariant.TRAMP_IMAGE_UPDATE_IN_PLACE));
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
