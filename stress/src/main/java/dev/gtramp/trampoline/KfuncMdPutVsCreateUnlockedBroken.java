package dev.gtramp.trampoline;

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
 * {@link PutVsCreate} with {@link UnsafeVariant#KFUNC_MD_USERS_UNLOCKED}, broken on purpose: the put
 * counts down and unpublishes without {@code kfunc_md_mutex}, after the create found the md. Must show
 * {@code 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link PutVsCreate} and inherited.
 */
@CaughtBy("1, 0")
@JCStressTest
@Description("broken on purpose (KFUNC_MD_USERS_UNLOCKED), must show 1, 0")
@State
public class KfuncMdPutVsCreateUnlockedBroken extends PutVsCreate {
    public KfuncMdPutVsCreateUnlockedBroken() {
        super(EnumSet.of(UnsafeVariant.KFUNC_MD_USERS_UNLOCKED));
    }

    @Actor
    public void detacher() {
        detach();
    }

    @Actor
    public void attacher() {
        attach();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
