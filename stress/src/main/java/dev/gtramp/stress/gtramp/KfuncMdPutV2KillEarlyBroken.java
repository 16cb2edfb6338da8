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
 * {@link FentryVsUnlink} with {@link UnsafeVariant#KFUNC_MD_KILL_BEFORE_GRACE_PERIOD}, broken on
 * purpose: the release frees the md at once, after the kill's switch to atomic mode, an RCU grace
 * period that does not wait for a call walking the fentry list outside {@code rcu_read_lock}. The
 * call preempted in that window reads the freed md: {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FentryVsUnlink} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (KFUNC_MD_KILL_BEFORE_GRACE_PERIOD), must show 1, 1: the preempted call walks a freed md")
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
