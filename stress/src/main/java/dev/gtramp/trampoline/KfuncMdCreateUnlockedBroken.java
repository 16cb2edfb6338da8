package dev.gtramp.trampoline;

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
 * {@link CreateVsCreate} with {@link UnsafeVariant#KFUNC_MD_USERS_UNLOCKED}, broken on purpose: the
 * creates look up, count and insert without {@code kfunc_md_mutex}, so both can miss and insert, or an
 * increment or a program can be lost. Must show two mds ({@code 1, *, *}), a second insert that failed
 * because both missed ({@code 2, 1, 0}: one attach threw, and the md has its one user and program), a
 * lost user ({@code 0, 1, *}) or a lost program ({@code 0, 2, 0}).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CreateVsCreate} and inherited.
 */
@CaughtBy({"1, .*, .*", "2, 1, 0", "0, 1, .*", "0, 2, 0"})
@JCStressTest
@Description("broken on purpose (KFUNC_MD_USERS_UNLOCKED), must show two mds (1, *, *), a failed second insert (2, 1, 0), a lost user (0, 1, *) or program (0, 2, 0)")
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
