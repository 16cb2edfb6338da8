package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>The v2 {@code kfunc_md_put}: the md outlives a call that walks its fentry list outside
 * {@code rcu_read_lock}.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   until the writer is done, calls f:         wait for cpu 0's calls
 *     bpf_global_caller (v2):                  close the fentry.multi link:
 *       rcu_read_lock                            kfunc_md_bpf_unlink (the node: after RCU and
 *       md = kfunc_md_get_rcu                      tasks RCU)
 *       no fexit or fmod_ret: no percpu_ref      update_ftrace_direct_del (f's site: NOP)
 *       rcu_read_unlock                          kfunc_md_put: unpublish, percpu_ref_kill
 *       walk md's fentry list                  run every callback, as their threads would: the
 *     f's body                                   kill's switch to atomic (an RCU grace period),
 *                                                the release's RCU and tasks-RCU grace periods
 *                                            arbiter: r2 = KASAN reports, or the md never freed
 * </pre>
 *
 * The kernel runs {@link KfuncMdFreeProtocol#KILL_THEN_TASKS_RCU} on preemptible RCU
 * ({@code CONFIG_PREEMPT_RCU}, the GENERAL flavor), where a task is an RCU reader only inside
 * {@code rcu_read_lock}. The v2 caller holds it only for the lookup: it takes no reference without
 * an origin call, and walks the fentry list after the unlock, protected by tasks RCU alone, whose
 * grace period waits for every task inside a kernel call, preempted or not. So the release, which
 * comes at the end of the kill's switch to atomic mode (an RCU grace period), waits an RCU and a
 * tasks-RCU grace period before it frees the md.
 *
 * <p>The hazard: a free that waits only for the kill's RCU grace period misses a call that has
 * left its read-side section and not yet read the md's fentry list. That window is a few
 * instructions, while the writer's path from closing the link to the free (the text patching of the
 * ftrace update, the grace period, the callbacks) is far longer; so a call
 * loses only when it is preempted right there, as a kernel task can be. Here only the host can
 * preempt CPU 0's thread (which stays inside its kernel call, a tasks-RCU reader, while the RCU grace
 * period goes by), and under jcstress that practically never happens in the window: the broken
 * variant showed no forbidden outcome in 104,754 trials. It runs, but as a listed known gap
 * ({@link dev.gtramp.stress.gate.KnownGap}) it is not required to be caught; this test still fails if
 * a free ever lands under the walk.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran clean, 1 a call read a freed md, 2 a
 * call failed otherwise, 3 the writer never saw CPU 0 calling, 4 the writer never finished;
 * {@code r2}: 0 the md was freed by the end of the trial and KASAN reported nothing, 1 KASAN reported
 * something, 2 the md was never freed.
 * <ul>
 *   <li>{@code 0, 0}: every call's md outlived its walk, and the md was freed after;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call walked a freed md (use after free);</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link KfuncMdPutV2KillEarlyBroken}, which would show {@code 1, 1}.
 */
@Description("v2 unlink racing fentry-only calls: the md outlives the walk outside rcu_read_lock")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "every call walked a live md")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "use after free: a call walked a freed md")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a stray KASAN report, or no race")
public abstract class FentryVsUnlink extends GlobalTrial {
    private static final long BODY = 7;

    private final BpfTracingMultiLink link;
    /** Set by the writer if CPU 0 never started calling; the arbiter reports it as {@code r1 = 3}. */
    private volatile boolean missed;

    FentryVsUnlink(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.GENERAL, KfuncMdFreeProtocol.KILL_THEN_TASKS_RCU);
        f.setBody(frame -> BODY);
        link = attachMulti(prog("fentry_walk", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the writer is done. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            r.r1 = callWhileUpdating(() -> {
                long v = callOnce(cpu);
                return v == BODY ? 0 : v == FREED ? 1 : 2;
            }, 4);
        }
    }

    /** The writer: closes the link while CPU 0 calls and runs the free's callbacks. */
    final void write() {
        missed = !updateWhileCalling(() -> {
            link.close();
            settle();
        });
    }

    final void check(II_Result r) {
        if (missed) {
            r.r1 = 3;
        }
        settle();
        boolean freed = trampolines.kfuncMdCount() == 0 && trampolines.kfuncMdsRetiring() == 0;
        r.r2 = finish() != 0 ? 1 : freed ? 0 : 2;
        if (residue(r, "0, 0")) {
            r.r2 = Residue.VALUE;
        }
    }
}
