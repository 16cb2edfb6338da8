package dev.gtramp.trampoline;

import dev.gtramp.kernel.UnsafeVariant;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link CreateVsCreate} with {@link UnsafeVariant#KFUNC_MD_USERS_UNLOCKED}, broken on purpose: the
 * creates look up, count and insert without {@code kfunc_md_mutex}, so both can miss and insert, or an
 * increment or a program can be lost. Must show a forbidden outcome.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CreateVsCreate} and inherited.
 */
@JCStressTest
@Description("broken on purpose (KFUNC_MD_USERS_UNLOCKED), must show a forbidden outcome")
@State
public class KfuncMdCreateUnlockedBroken extends CreateVsCreate {
    public KfuncMdCreateUnlockedBroken() {
        super(EnumSet.of(UnsafeVariant.KFUNC_MD_USERS_UNLOCKED));
    }

    @Actor
    public void attach1() {
        attachP1();
    }

    @Actor
    public void attach2() {
        attachP2();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
