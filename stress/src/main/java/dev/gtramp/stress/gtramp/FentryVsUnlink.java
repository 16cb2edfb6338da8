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
 * <b>The v2 {@code kfunc_md_put}: the md outlives a call preempted between {@code rcu_read_unlock}
 * and its walk of the fentry list.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   r = f()                                    wait until cpu 0 is preempted in the window
 *     bpf_global_caller (v2):                  close the fentry.multi link:
 *       rcu_read_lock                            kfunc_md_bpf_unlink (the node: after RCU and
 *       md = kfunc_md_get_rcu                      tasks RCU)
 *       no fexit or fmod_ret: no percpu_ref      update_ftrace_direct_del (f's site: NOP)
 *       rcu_read_unlock                          kfunc_md_put: unpublish, percpu_ref_kill
 *       -- interrupt, preempted on its         run the RCU callbacks, four rounds (every RCU grace
 *          return: spins until the writer        period ends: cpu 0 is no RCU reader); no tasks-RCU
 *          is done --                            callback can run, cpu 0 is inside f
 *       walk md's fentry list                  let cpu 0 go on
 *     f's body                                 run every callback left
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
 * instructions, so a call loses only when it is preempted right there, as a kernel task can be at
 * the return of an interrupt. The model marks that point in the caller ({@code Cpu.interruptWindow}
 * after the unlock) and CPU 0's call takes an interrupt there ({@code KernelTrial.callInterrupted})
 * that holds it while the writer closes the link and lets every RCU grace period and callback run.
 * With the kernel's protocol the md is then still waiting for tasks RCU, which waits for this call;
 * a free after the RCU grace period alone frees it under the preempted call, which then reads it.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 the call returned the body's value, 1 it read a freed
 * md, 2 it failed otherwise, 3 it never reached the window; {@code r2}: 0 the md was freed by the end
 * of the trial and KASAN reported nothing, 1 KASAN reported something, 2 the md was never freed.
 * <ul>
 *   <li>{@code 0, 0}: the md outlived the preempted call's walk, and was freed after it;</li>
 *   <li>{@code 1, *}: FORBIDDEN, the call walked a freed md (use after free);</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link KfuncMdPutV2KillEarlyBroken}, which must show {@code 1, 1}.
 */
@Description("v2 unlink under a call preempted after rcu_read_unlock: the md outlives the fentry walk")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the preempted call walked a live md")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "use after free: a call walked a freed md")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a stray KASAN report, a leaked md, or no window")
public abstract class FentryVsUnlink extends GlobalTrial {
    private static final long BODY = 7;

    private final BpfTracingMultiLink link;
    /** Set by the writer if CPU 0 never reached the window; the arbiter reports it as {@code r1 = 3}. */
    private volatile boolean missed;

    FentryVsUnlink(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.GENERAL, KfuncMdFreeProtocol.KILL_THEN_TASKS_RCU);
        f.setBody(frame -> BODY);
        link = attachMulti(prog("fentry_walk", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0));
        settle();
        setupDone();
    }

    /** CPU 0: one call of {@code f}, preempted after its read-side section. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callInterrupted(cpu);
            r.r1 = v == BODY ? 0 : v == FREED ? 1 : 2;
        }
    }

    /**
     * The writer: closes the link while CPU 0 is preempted and lets every RCU grace period end,
     * then, once the call is over, runs the callbacks left.
     */
    final void write() {
        missed = !updateInWindow(() -> {
            link.close();
            for (int i = 0; i < 4; i++) {
                kernel.rcu().barrier();
            }
        });
        settle();
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
