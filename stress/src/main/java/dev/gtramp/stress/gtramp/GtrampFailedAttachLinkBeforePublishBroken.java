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
 * {@link FailedAttachVsCall} with {@link UnsafeVariant#GTRAMP_LINK_BEFORE_PUBLISH}, broken on
 * purpose: the attach links B into f's live md before g's ftrace update fails, so calls of f run B
 * until the undo unlinks it. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FailedAttachVsCall} and
 * inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (GTRAMP_LINK_BEFORE_PUBLISH), must show 1, 1")
@State
public class GtrampFailedAttachLinkBeforePublishBroken extends FailedAttachVsCall {
    public GtrampFailedAttachLinkBeforePublishBroken() {
        super(EnumSet.of(UnsafeVariant.GTRAMP_LINK_BEFORE_PUBLISH));
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
