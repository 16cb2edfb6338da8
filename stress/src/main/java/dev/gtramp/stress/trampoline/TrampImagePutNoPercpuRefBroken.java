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
 * {@link ImageSwapVsOrigin} with {@link UnsafeVariant#TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF}, broken on
 * purpose: the old image is freed after a tasks-RCU grace period alone, under the call sleeping in
 * the origin. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ImageSwapVsOrigin} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF), must show 1, 1")
@State
public class TrampImagePutNoPercpuRefBroken extends ImageSwapVsOrigin {
    public TrampImagePutNoPercpuRefBroken() {
        super(EnumSet.of(UnsafeVariant.TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF));
    }

    @Actor
    public void cpu0(II_Result r) {
        call(r);
    }

    @Actor
    public void writer(II_Result r) {
        write(r);
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
