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
 * {@link StaleSlotVsReuse} with {@link UnsafeVariant#PADDING_SLOT_FREED_AT_UNPUBLISH}, broken on
 * purpose: {@code kfunc_md_put} gives {@code f}'s slot back as soon as it has poked the NOPs, so
 * {@code g}'s md takes slot {@code s} while CPU 0 still holds {@code mov $s}, and the call of
 * {@code f} runs {@code g}'s program. Must show {@code 1, 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link StaleSlotVsReuse} and inherited.
 */
@CaughtBy("1, 1, 0")
@JCStressTest
@Description("broken on purpose (PADDING_SLOT_FREED_AT_UNPUBLISH), must show 1, 1, 0")
@State
public class PaddingSlotFreedAtUnpublishBroken extends StaleSlotVsReuse {
    public PaddingSlotFreedAtUnpublishBroken() {
        super(EnumSet.of(UnsafeVariant.PADDING_SLOT_FREED_AT_UNPUBLISH));
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
