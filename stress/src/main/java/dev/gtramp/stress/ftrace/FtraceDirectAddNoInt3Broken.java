package dev.gtramp.stress.ftrace;

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
 * {@link AddVsCall} with {@link UnsafeVariant#TEXT_POKE_WITHOUT_INT3}, broken on purpose: text
 * patching writes the site's first byte, syncs, then writes the operand, without the int3, so CPU 0
 * can fetch {@code call} followed by the NOP's tail bytes. Must show {@code 4, *}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link AddVsCall} and inherited.
 */
@CaughtBy("4, .*")
@JCStressTest
@Description("broken on purpose (TEXT_POKE_WITHOUT_INT3), must show 4, *")
@State
public class FtraceDirectAddNoInt3Broken extends AddVsCall {
    public FtraceDirectAddNoInt3Broken() {
        super(EnumSet.of(UnsafeVariant.TEXT_POKE_WITHOUT_INT3));
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
