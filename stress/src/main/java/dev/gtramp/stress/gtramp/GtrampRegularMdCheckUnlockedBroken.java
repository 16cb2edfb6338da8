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
 * {@link RegularAttachVsMultiDetach} with {@link UnsafeVariant#GTRAMP_REGULAR_MD_CHECK_UNLOCKED},
 * broken on purpose: the regular attach decides to take f over from the global caller before it
 * takes {@code global_tr_lock}; when M's detach runs in between, f is gone from
 * {@code direct_ops}, the takeover's {@code update_ftrace_direct_mod} moves nothing, and calls after
 * the attach returned run no R. Must show {@code 2, *, *}.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link RegularAttachVsMultiDetach}
 * and inherited.
 */
@CaughtBy("2, .*, .*")
@JCStressTest
@Description("broken on purpose (GTRAMP_REGULAR_MD_CHECK_UNLOCKED), must show 2, *, *")
@State
public class GtrampRegularMdCheckUnlockedBroken extends RegularAttachVsMultiDetach {
    public GtrampRegularMdCheckUnlockedBroken() {
        super(EnumSet.of(UnsafeVariant.GTRAMP_REGULAR_MD_CHECK_UNLOCKED));
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
