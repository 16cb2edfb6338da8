package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.stress.gate.KnownGap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link FentryVsUnlink} with {@link UnsafeVariant#KFUNC_MD_KILL_BEFORE_GRACE_PERIOD}, broken on
 * purpose: the release frees the md at once, after the kill's switch to atomic mode, an RCU grace
 * period that does not wait for a call walking the fentry list outside {@code rcu_read_lock}. It would
 * show {@code 1, 1}, but only when the host preempts CPU 0 inside that window, which it practically
 * never does (see {@link FentryVsUnlink}). So it is a listed {@link KnownGap}: the gate runs it and
 * requires its samples, but not its catch.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FentryVsUnlink} and inherited.
 */
@CaughtBy("1, 1")
@KnownGap("preemption only: needs CPU 0's thread preempted by the host within a few instructions (after"
        + " rcu_read_unlock, before the v2 caller reads the md's fentry list) while the writer's path from"
        + " closing the link to the free takes 5 us or more; jcstress's actors are rarely preempted at all"
        + " (no catch in 104,754 trials). To be given a deterministic preemption hook")
@JCStressTest
@Description("broken on purpose (KFUNC_MD_KILL_BEFORE_GRACE_PERIOD), would show 1, 1; preemption only, a listed known gap")
@State
public class KfuncMdPutV2KillEarlyBroken extends FentryVsUnlink {
    public KfuncMdPutV2KillEarlyBroken() {
        super(EnumSet.of(UnsafeVariant.KFUNC_MD_KILL_BEFORE_GRACE_PERIOD));
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
