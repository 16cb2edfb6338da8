package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code kfunc_md_put}: unlinking the last program while a call sleeps in the origin never frees
 * the md under that call.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   r = f()                                    wait until cpu 0 is inside f's body
 *     bpf_global_caller:                       close the tracing multi link:
 *       rcu_read_lock, kfunc_md_get_rcu          kfunc_md_bpf_unlink (the node: after a grace period)
 *       kfunc_md_enter (percpu_ref_get)          update_ftrace_direct_del (f's site: NOP)
 *       fmod_ret programs (if any), unlock       kfunc_md_put: unpublish, then the free protocol
 *     origin call: f's body                    run every callback, as their threads would:
 *       schedule(): sleeps until released        RCU and tasks-RCU grace periods, the kill's
 *     back in the caller: reads the md,          switch to atomic mode, the release's chain
 *       walks the fexit list                   release cpu 0
 *     kfunc_md_exit (percpu_ref_put):          arbiter: run the callbacks left; r3 = KASAN
 *       the last reference: the release          reports, or the md never freed
 *       queues the free
 * </pre>
 *
 * {@code f} has one program of a kind that needs the origin call, an fexit.multi or an
 * fmod_ret.multi program (returning 0, so the origin runs), so {@code bpf_global_caller} holds the
 * md's {@code percpu_ref} from {@code kfunc_md_enter} to {@code kfunc_md_exit}. CPU 0's call sleeps
 * in the origin ({@code Cpu.schedule}): a voluntary context switch, a quiescent state for RCU and
 * tasks RCU, so no grace period waits for it. The writer closes the link, the md's last user, and
 * drives every stage of the md's free while CPU 0 sleeps, then lets the call return into the caller.
 *
 * <p>The hazard: the grace periods alone do not cover a call that sleeps in the origin; only the
 * {@code percpu_ref} does. Both free protocols kill the ref after unpublishing
 * ({@link KfuncMdFreeProtocol#RCU_THEN_KILL} after an RCU grace period,
 * {@link KfuncMdFreeProtocol#KILL_THEN_TASKS_RCU} at once) and free on its release, which comes with
 * the sleeping call's {@code kfunc_md_exit}. An md freed one RCU grace period after it was
 * unpublished, without the kill, is freed under the sleeping call, which then reads it (KASAN).
 *
 * <p>The program itself was unlinked before the call returned: the caller reads the fexit list
 * after the origin, so an fexit program of a link closed meanwhile need not run for that call (the
 * model's caller finds the list empty); a program that ran before the origin ran exactly once.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1} is CPU 0's call: 0 it returned the body's value, 1 it
 * read a freed md or node, 2 it failed otherwise or returned another value, 3 the writer never saw it
 * inside the origin; {@code r2} is 0 if the link's program ran as allowed (an fmod_ret program once,
 * an fexit program at most once), else 1; {@code r3}: 0 the md was freed by the end of the trial and
 * KASAN reported nothing, 1 KASAN reported something, 2 the md was never freed.
 * <ul>
 *   <li>{@code 0, 0, 0}: the md outlived the call and was freed after it;</li>
 *   <li>{@code 1, *, *}: FORBIDDEN, the call read a freed md (use after free);</li>
 *   <li>{@code 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link KfuncMdPutFexitRcuOnlyBroken} and {@link KfuncMdPutFmodRetRcuOnlyBroken},
 * which must show {@code 1, 0, 1}. The same race runs on the other md lookups,
 * {@code NonBlockingHashMapLong} ({@link KfuncMdPutFexitNbhmTest}) and the padding index
 * ({@link KfuncMdPutFexitPaddingTest}), each with its {@code RcuOnly} twin, which must show
 * {@code 1, 0, 1}.
 */
@Description("unlink while a call sleeps in the origin: the md outlives the call")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the call returned through the live md, which was freed after it")
@Outcome(id = "0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "use after free: the call read a freed md")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a program run wrongly, a stray KASAN report, or no race")
public abstract class UnlinkVsOrigin extends GlobalTrial {
    private static final long BODY = 7;

    private final BpfTrampKind kind;
    private final BpfTracingMultiLink link;
    /** The runs of the link's program in CPU 0's call; written and read by CPU 0 only. */
    private int runs;
    /** Set by the writer if CPU 0 never entered the origin; the arbiter reports it as {@code r1 = 3}. */
    private volatile boolean missed;

    UnlinkVsOrigin(Set<UnsafeVariant> unsafe, KfuncMdFreeProtocol protocol, BpfAttachType type) {
        this(unsafe, TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH).withFreeProtocol(protocol), type);
    }

    /** The same race on another md lookup ({@code config} names the global design and its index). */
    UnlinkVsOrigin(Set<UnsafeVariant> unsafe, TrampolinesConfig config, BpfAttachType type) {
        super(unsafe, RcuFlavor.QSBR, config);
        kind = type.kind();
        sleepingBody(BODY);
        if (kind == BpfTrampKind.MODIFY_RETURN) {
            trampolines.modifyReturnTargets().allow(f.name());
        }
        link = attachMulti(prog("origin_" + kind, type, ctx -> {
            runs++;
            return 0;
        }));
        settle();
        setupDone();
    }

    /** CPU 0: one call of {@code f}. */
    final void call(III_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callOnce(cpu);
            r.r1 = v == BODY ? 0 : v == FREED ? 1 : 2;
            boolean ranRight = kind == BpfTrampKind.FEXIT ? runs <= 1 : runs == 1;
            r.r2 = ranRight ? 0 : 1;
        }
    }

    /** The writer: closes the link while CPU 0 sleeps in the origin and runs the free's callbacks. */
    final void write() {
        missed = !whileInBody(() -> {
            link.close();
            settle();
        });
    }

    final void check(III_Result r) {
        if (missed) {
            r.r1 = 3;
        }
        settle();
        boolean freed = trampolines.kfuncMdCount() == 0 && trampolines.kfuncMdsRetiring() == 0;
        r.r3 = finish() != 0 ? 1 : freed ? 0 : 2;
        if (residue(r, "0, 0, 0")) {
            r.r3 = Residue.VALUE;
        }
    }
}
