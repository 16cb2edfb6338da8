package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.trampoline.KfuncMdTableKind;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link UnlinkVsOrigin} with an fexit.multi program on the {@code NonBlockingHashMapLong} md table, with the real
 * algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link UnlinkVsOrigin} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0}: the only acceptable one; the writer frees the md while the call sleeps in the origin. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0")
@JCStressTest
@State
public class KfuncMdPutFexitNbhmTest extends UnlinkVsOrigin {
    public KfuncMdPutFexitNbhmTest() {
        super(Set.of(), TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH).withMdTable(KfuncMdTableKind.NON_BLOCKING_HASH_MAP), BpfAttachType.TRACE_FEXIT_MULTI);
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
