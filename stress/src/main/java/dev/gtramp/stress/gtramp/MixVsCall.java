package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Mixing racing calls: a function moving between {@code bpf_global_caller} and its own
 * trampoline runs its multi program once per call throughout.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the updates are over, calls:      wait for cpu 0's calls
 *     m = r = 0                             6 times, alternately:
 *     f()                                     attach fentry R to f: the trampoline takes f over
 *       global caller: M (m++)                  (M as a shim, R), one update_ftrace_direct_mod
 *       or f's trampoline: M, R (r++)           moves f's entry from the global caller to it
 *     check m == 1 and r &lt;= 1              close R: one update_ftrace_direct_mod moves the
 *   one more call: must run M alone           entry back; the trampoline goes
 *                                           (ends on the global caller)
 * </pre>
 *
 * {@code f} has a fentry.multi program M, served by {@code bpf_global_caller}. Attaching a regular
 * fentry program R makes f's trampoline take the function over with every program of the md as a
 * shim; closing R hands it back. The md keeps M throughout, so whichever target a call enters runs M
 * exactly once, and R at most once.
 *
 * <p>The hazard: the move between the two targets. It must be one {@code update_ftrace_direct_mod}
 * of the one {@code direct_ops} entry, which retargets f's call site from one live target to the
 * other. Removing the entry and adding it back ({@code update_ftrace_direct_del}, then
 * {@code _add}) leaves the site a NOP in between: a call there runs neither target, and M misses it.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran M once and R at most once, 1 a call ran
 * no M, 2 a call ran M or R twice, 3 a call failed, 4 the updates did not finish in time;
 * {@code r2}: 1 if the call after the last update ran M alone.
 * <ul>
 *   <li>{@code 0, 1}: every call ran M once, and M alone after the updates;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call ran no program: it met f's site between two updates;</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link GtrampMixDelThenAddBroken}, which must show {@code 1, 1}.
 */
@Description("mixing racing calls: the multi program runs once per call while f moves between targets")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "each call ran M once; M alone after the updates")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call ran no program: the site was a NOP between two updates")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a program run twice, a fault, or a stuck update")
public abstract class MixVsCall extends GlobalTrial {
    private static final int UPDATES = 6;
    private static final long BODY = 7;

    /** The runs of M and R in the current call; written and read by CPU 0 only. */
    private int m;
    private int r;
    private final BpfProg fentry = prog("fentry_mix", BpfAttachType.TRACE_FENTRY, ctx -> {
        r++;
        return 0;
    });

    MixVsCall(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.QSBR, KfuncMdFreeProtocol.RCU_THEN_KILL);
        f.setBody(frame -> BODY);
        attachMulti(prog("fentry_multi_mix", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            m++;
            return 0;
        }));
        settle();
    }

    /** CPU 0: calls {@code f} until the updates are over, then once more. */
    final void call(II_Result res) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            res.r1 = callWhileUpdating(() -> once(cpu), 4);
            res.r2 = once(cpu) == 0 && r == 0 ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        m = 0;
        r = 0;
        long v = callOnce(cpu);
        if (v != BODY) {
            return 3;
        }
        if (m == 0) {
            return 1;
        }
        return m == 1 && r <= 1 ? 0 : 2;
    }

    /** The writer: attaches and closes R while CPU 0 calls, ending with f back on the global caller. */
    final void write() {
        updateWhileCalling(() -> toggleAttach(fentry, 0, UPDATES));
    }

    final void check(II_Result res) {
        finish();
    }
}
